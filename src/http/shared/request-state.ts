import { FastifyRequest } from 'fastify';
import { Actor, ANONYMOUS_ACTOR } from '../../domain/shared/actor';
import { CommandContext } from '../../application/shared/command-context';
import { SessionClaims } from '../../domain/pairing/session-auth';

/** What the HTTP pipeline learns about a request, step by step (§0.14). */
export type RequestState = {
  correlationId: string;
  /** The client sent an x-correlation-id that violates §0.13 (reported at step 5). */
  invalidCorrelationId: boolean;
  actor: Actor;
  /** SHA-256 hex of the accepted x-api-key, '' when API-key auth is off (idempotency scope, §0.11). */
  apiKeyHash: string;
  /** The pairing of a verified pairing token, '' when none (idempotency scope, §0.11). */
  pairingId: string;
  /** The claims of a verified pairing token (§1.2 steps 1–8 passed), for the binding of step 9. */
  agentSession: SessionClaims | null;
  /** The documented query parameters present (as strings) and the parsed body, for §0.11 fingerprints. */
  fingerprintInput: { query: Record<string, string>; body: unknown } | null;
  startedAt: bigint;
};

declare module 'fastify' {
  interface FastifyRequest {
    peaqos: RequestState;
  }
}

export function initialRequestState(correlationId: string, invalidCorrelationId: boolean): RequestState {
  return {
    correlationId,
    invalidCorrelationId,
    actor: ANONYMOUS_ACTOR,
    apiKeyHash: '',
    pairingId: '',
    agentSession: null,
    fingerprintInput: null,
    startedAt: process.hrtime.bigint(),
  };
}

export function commandContextOf(request: FastifyRequest): CommandContext {
  return { correlationId: request.peaqos.correlationId, causationId: null, actor: request.peaqos.actor };
}

/** Path of the request URL without its query string. */
export function requestPath(request: { url: string }): string {
  const q = request.url.indexOf('?');
  return q === -1 ? request.url : request.url.slice(0, q);
}
