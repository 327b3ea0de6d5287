import { HttpException } from '@nestjs/common';
import { DomainError, ErrorDetails } from '../../domain/shared/domain-error';
import { ErrorCode } from '../../domain/shared/error-codes';

/** §0.9: the HTTP status of every error code. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  AUTH_REQUIRED: 401,
  AUTH_INVALID: 401,
  AGENT_AUTH_REQUIRED: 401,
  AGENT_AUTH_INVALID: 401,
  AGENT_AUTH_EXPIRED: 401,
  VALIDATION_ERROR: 400,
  NOT_FOUND: 404,
  MACHINE_NOT_ACTIVE: 409,
  MACHINE_NOT_ACTIVATED: 409,
  MACHINE_IDENTITY_EXISTS: 409,
  MACHINE_IDENTITY_IMMUTABLE: 409,
  MACHINE_IDENTITY_PROOF_REQUIRED: 400,
  MACHINE_IDENTITY_PROOF_INVALID: 403,
  MACHINE_IDENTITY_PROOF_EXPIRED: 403,
  PEAQOS_IDENTITY_UNAVAILABLE: 503,
  AGENT_PAIRING_PROOF_REQUIRED: 400,
  AGENT_PAIRING_PROOF_INVALID: 403,
  AGENT_PAIRING_PROOF_EXPIRED: 403,
  AGENT_PAIRING_UNAVAILABLE: 503,
  AGENT_PAIRING_REQUIRED: 403,
  AGENT_PAIRING_INACTIVE: 403,
  AGENT_POLICY_DENIED: 403,
  AGENT_SPEND_LIMIT_EXCEEDED: 403,
  AGENT_DAILY_LIMIT_EXCEEDED: 403,
  OPEN_MARKET_ORDERS: 409,
  QUOTE_EXPIRED: 409,
  ROUTE_REQUIRED: 409,
  ORDER_CLOSED: 409,
  ORDER_NOT_DELIVERED: 409,
  PAYMENT_REQUIRED: 402,
  PAYMENT_RPC_REQUIRED: 503,
  PAYMENT_RPC_ERROR: 502,
  PAYMENT_NOT_MINED: 409,
  PAYMENT_TX_FAILED: 402,
  PAYMENT_TRANSFER_NOT_FOUND: 400,
  PAYMENT_PROOF_REUSED: 409,
  STATE_CONFLICT: 409,
  POLICY_IN_USE: 409,
  EXECUTION_FAILED: 502,
  PROVIDER_UNAVAILABLE: 502,
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_IN_FLIGHT: 409,
  CONCURRENCY_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
};

export const BODY_LIMIT_BYTES = 1_048_576;

export type ErrorBody = { error: { code: ErrorCode; message: string; details?: ErrorDetails } };

export type ErrorReply = { status: number; body: ErrorBody; headers: Record<string, string>; unexpected: boolean };

/**
 * The single mapping from anything thrown to the error envelope of §0.7/§0.8. Unexpected failures
 * become 500 INTERNAL_ERROR with no details and no internals.
 */
export function toErrorReply(error: unknown, request: { method: string; path: string }): ErrorReply {
  if (error instanceof DomainError) return reply(error.code, error.message, error.details);
  if (error instanceof HttpException) {
    // Errors raised by Nest or Fastify before our code ran (unknown route, body limit, media type).
    const status = error.getStatus();
    if (status === 404) {
      return reply('NOT_FOUND', `No endpoint ${request.method} ${request.path}`, { method: request.method, path: request.path });
    }
    if (status === 413) {
      return reply('PAYLOAD_TOO_LARGE', `The request body exceeds ${BODY_LIMIT_BYTES} bytes`, { limitBytes: BODY_LIMIT_BYTES });
    }
    if (status === 400 || status === 415) {
      return reply('VALIDATION_ERROR', 'The request body is not a JSON object sent as application/json', {
        errors: [{ location: 'body', path: '', message: 'Request bodies must be JSON objects sent with Content-Type: application/json' }],
      });
    }
  }
  return { ...reply('INTERNAL_ERROR', 'Unexpected server failure'), unexpected: true };
}

export function reply(code: ErrorCode, message: string, details?: ErrorDetails): ErrorReply {
  const status = ERROR_STATUS[code];
  const headers: Record<string, string> = {};
  if (status === 503) headers['retry-after'] = '5';
  if (code === 'IDEMPOTENCY_IN_FLIGHT') headers['retry-after'] = '1';
  return { status, body: { error: { code, message, ...(details ? { details } : {}) } }, headers, unexpected: false };
}
