import { SessionClaims, SessionTokenFailure } from '../../domain/pairing/session-auth';

export type { SessionClaims, SessionTokenFailure } from '../../domain/pairing/session-auth';

/** The claims the caller decides; the adapter adds `iat`, `exp` (from its clock and TTL) and `jti`. */
export type SessionSubject = Omit<SessionClaims, 'iat' | 'exp' | 'jti'>;

/** A freshly signed token (a one-time secret: never persisted, §9) and the nine claims it carries. */
export type IssuedSessionToken = { token: string; claims: SessionClaims };

export type SessionTokenVerification = { ok: true; claims: SessionClaims } | ({ ok: false } & SessionTokenFailure);

/**
 * Agent pairing session tokens (§1.2, §5.5): compact HS256 JWTs keyed with the session secret.
 * `verify` runs §1.2 steps 2–4 in order — `malformed` (not three base64url segments, a header other
 * than exactly {"alg":"HS256","typ":"JWT"} — so `none`, RS256 and every other algorithm — or a claim
 * missing or of the wrong type), `bad_signature`, `expired` (`now >= exp` in whole seconds, no
 * leeway) — and never throws for a bad token. Steps 5–9 need the pairing (domain/pairing/session-auth).
 */
export interface SessionTokens {
  issue(subject: SessionSubject): Promise<IssuedSessionToken>;
  verify(token: string): Promise<SessionTokenVerification>;
}

export const SESSION_TOKENS = Symbol('SessionTokens');
