import {
  BadRequestException,
  HttpException,
  NotFoundException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { DomainError } from '../../domain/shared/domain-error';
import { ERROR_CODES, ErrorCode } from '../../domain/shared/error-codes';
import { ERROR_STATUS, reply, toErrorReply } from './error-response';

// Written from the two tables of spec §0.9, not from ERROR_STATUS.
const SPEC_STATUS: Record<string, number> = {
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
  // extension codes
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

const request = { method: 'GET', path: '/api/v1/nowhere' };

describe('error codes and statuses (§0.9)', () => {
  it('defines exactly the codes of the §0.9 tables', () => {
    expect([...ERROR_CODES].sort()).toEqual(Object.keys(SPEC_STATUS).sort());
    expect(Object.keys(ERROR_STATUS).sort()).toEqual(Object.keys(SPEC_STATUS).sort());
  });

  it.each(Object.entries(SPEC_STATUS))('%s → %i', (code, status) => {
    expect(toErrorReply(new DomainError(code as ErrorCode, 'm'), request).status).toBe(status);
  });
});

describe('toErrorReply (§0.7/§0.8)', () => {
  it('maps a DomainError to the envelope with its code, message and details', () => {
    const error = new DomainError('STATE_CONFLICT', 'Order ord_1 is executing', {
      entityType: 'market-order',
      id: 'ord_1',
      reason: 'executing',
    });
    expect(toErrorReply(error, request)).toEqual({
      status: 409,
      body: {
        error: {
          code: 'STATE_CONFLICT',
          message: 'Order ord_1 is executing',
          details: { entityType: 'market-order', id: 'ord_1', reason: 'executing' },
        },
      },
      headers: {},
      unexpected: false,
    });
  });

  it('omits details when the DomainError has none', () => {
    const result = toErrorReply(new DomainError('AUTH_REQUIRED', 'API key required'), request);
    expect(result.body).toEqual({ error: { code: 'AUTH_REQUIRED', message: 'API key required' } });
    expect(result.body.error).not.toHaveProperty('details');
  });

  it.each([new Error('SQLITE_CORRUPT: /var/lib/secret/path'), new TypeError('x is undefined'), 'a string', null, { code: 'NOT_FOUND' }])(
    'maps an unexpected %p to 500 INTERNAL_ERROR without details or internals',
    (thrown) => {
      const result = toErrorReply(thrown, request);
      expect(result.status).toBe(500);
      expect(result.unexpected).toBe(true);
      expect(result.body.error.code).toBe('INTERNAL_ERROR');
      expect(result.body.error).not.toHaveProperty('details');
      expect(JSON.stringify(result.body)).not.toMatch(/SQLITE|secret|undefined/);
    },
  );

  describe('Retry-After', () => {
    const unavailable = Object.entries(SPEC_STATUS)
      .filter(([, status]) => status === 503)
      .map(([code]) => code);

    it('covers the four 503 codes of the spec', () => {
      expect(unavailable.sort()).toEqual([
        'AGENT_PAIRING_UNAVAILABLE',
        'PAYMENT_RPC_REQUIRED',
        'PEAQOS_IDENTITY_UNAVAILABLE',
        'SERVICE_UNAVAILABLE',
      ]);
    });

    it.each(unavailable)('%s (503) carries retry-after 5', (code) => {
      expect(toErrorReply(new DomainError(code as ErrorCode, 'm'), request).headers).toEqual({ 'retry-after': '5' });
    });

    it('IDEMPOTENCY_IN_FLIGHT carries retry-after 1', () => {
      const result = toErrorReply(new DomainError('IDEMPOTENCY_IN_FLIGHT', 'm', { idempotencyKey: 'k' }), request);
      expect(result.status).toBe(409);
      expect(result.headers).toEqual({ 'retry-after': '1' });
    });

    it.each(Object.keys(SPEC_STATUS).filter((c) => SPEC_STATUS[c] !== 503 && c !== 'IDEMPOTENCY_IN_FLIGHT'))(
      '%s has no retry-after',
      (code) => {
        expect(reply(code as ErrorCode, 'm').headers).toEqual({});
      },
    );
  });

  describe('errors raised by Nest or Fastify', () => {
    it('maps an unknown route (NotFoundException) to NOT_FOUND with method and path', () => {
      const result = toErrorReply(new NotFoundException('Cannot POST /api/v1/nope'), { method: 'POST', path: '/api/v1/nope' });
      expect(result.status).toBe(404);
      expect(result.unexpected).toBe(false);
      expect(result.body.error.code).toBe('NOT_FOUND');
      expect(result.body.error.details).toEqual({ method: 'POST', path: '/api/v1/nope' });
    });

    it('maps a 413 to PAYLOAD_TOO_LARGE with limitBytes 1048576', () => {
      for (const error of [new HttpException('too large', 413), new PayloadTooLargeException()]) {
        const result = toErrorReply(error, request);
        expect(result.status).toBe(413);
        expect(result.body.error.code).toBe('PAYLOAD_TOO_LARGE');
        expect(result.body.error.details).toEqual({ limitBytes: 1048576 });
      }
    });

    it('maps a body parsing or media type failure (400, 415) to VALIDATION_ERROR on the body', () => {
      for (const error of [new BadRequestException('Unexpected token'), new UnsupportedMediaTypeException()]) {
        const result = toErrorReply(error, request);
        expect(result.status).toBe(400);
        expect(result.body.error.code).toBe('VALIDATION_ERROR');
        expect(result.body.error.details?.errors).toEqual([expect.objectContaining({ location: 'body', path: '' })]);
      }
    });
  });
});
