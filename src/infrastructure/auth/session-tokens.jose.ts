import { createHash, randomUUID } from 'node:crypto';
import { compactVerify, errors, SignJWT } from 'jose';
import { Clock } from '../../application/ports/clock.port';
import {
  IssuedSessionToken,
  SessionClaims,
  SessionSubject,
  SessionTokens,
  SessionTokenVerification,
} from '../../application/ports/session-tokens.port';
import { isoFromNumericDate, numericDate } from '../../domain/shared/time';
import { LruMap } from '../../domain/shared/lru-map';

export type JoseSessionTokensOptions = {
  /** `PEAQOS_AGENT_PAIRING_SESSION_SECRET` (or the ephemeral development secret); its UTF-8 bytes are the key. */
  secret: string;
  /** `PEAQOS_AGENT_PAIRING_SESSION_TTL_MS`. */
  ttlMs: number;
  /** Source of `jti` values; a random lower-case UUID v4 unless a test replaces it. */
  newJti?: () => string;
  /** How many verified tokens `verify` remembers (least recently used evicted); 10,000 unless a test replaces it. */
  verifiedCacheSize?: number;
};

const HEADER = { alg: 'HS256', typ: 'JWT' } as const;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const STRING_CLAIMS = ['machineId', 'pairingId', 'sessionId', 'agentAddress', 'agentDid', 'delegationPolicyHash', 'jti'] as const;
const MALFORMED: SessionTokenVerification = { ok: false, reason: 'malformed' };
const BAD_SIGNATURE: SessionTokenVerification = { ok: false, reason: 'bad_signature' };
const utf8 = new TextDecoder('utf-8', { fatal: true });
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * HS256 session tokens with jose (v5, CommonJS). jose checks the HMAC (in constant time); the shape
 * checks of §1.2 step 2 run first, by hand, so that the order of §1.2 holds exactly: a token with a
 * wrong header or claim is `malformed` whatever its signature, and expiry is judged only for a token
 * whose signature is good. jose's own claim checks (`nbf`, clock tolerance) are not used: the only
 * time rule is `now >= exp` in whole seconds, on the injected clock.
 */
export class JoseSessionTokens implements SessionTokens {
  private readonly key: Uint8Array;
  private readonly ttlSeconds: number;
  private readonly newJti: () => string;
  /**
   * Tokens whose shape (step 2) and HMAC (step 3) have been checked, so that an agent presenting the
   * same token on every request pays for jose's (asynchronous, WebCrypto) HMAC check once: keyed by
   * the SHA-256 of the whole token — the token is a secret and is not kept — and holding its claims;
   * an LruMap bounded by `verifiedCacheSize`.
   *
   * Safe because steps 2 and 3 depend on nothing but the token's bytes and the key, and the key is
   * fixed for the life of this instance: a string equal to a token whose HMAC verified carries the
   * same valid signature over the same header and claims. Equality is by SHA-256 (a collision is out
   * of reach) of the UTF-8 bytes, which are distinct for distinct strings here: only tokens of
   * base64url characters and dots are ever cached, and no other string encodes to ASCII bytes only.
   * A token differing in any character misses and is checked in full; failed tokens are never
   * cached. Step 4 is not cached: expiry is judged on every call, on the injected clock.
   */
  private readonly verified: LruMap<string, SessionClaims>;

  constructor(
    options: JoseSessionTokensOptions,
    private readonly clock: Clock,
  ) {
    this.key = new TextEncoder().encode(options.secret);
    this.ttlSeconds = Math.floor(options.ttlMs / 1000);
    this.newJti = options.newJti ?? randomUUID;
    this.verified = new LruMap(options.verifiedCacheSize ?? VERIFIED_CACHE_SIZE);
  }

  async issue(subject: SessionSubject): Promise<IssuedSessionToken> {
    // §5.5: iat = floor(now / 1000), exp = iat + floor(TTL / 1000).
    const iat = numericDate(this.clock.now());
    const claims: SessionClaims = {
      machineId: subject.machineId,
      pairingId: subject.pairingId,
      sessionId: subject.sessionId,
      agentAddress: subject.agentAddress,
      agentDid: subject.agentDid,
      delegationPolicyHash: subject.delegationPolicyHash,
      iat,
      exp: iat + this.ttlSeconds,
      jti: this.newJti(),
    };
    const token = await new SignJWT({ ...claims }).setProtectedHeader(HEADER).sign(this.key);
    return { token, claims };
  }

  async verify(token: string): Promise<SessionTokenVerification> {
    if (typeof token !== 'string') return MALFORMED;
    const digest = createHash('sha256').update(token).digest('base64');
    // Steps 2 and 3 passed before for this very token (see `verified`), or are checked now.
    let claims = this.verified.get(digest);
    if (!claims) {
      // Step 2.
      const parsed = parseShape(token);
      if (!parsed) return MALFORMED;
      // Step 3.
      try {
        await compactVerify(token, this.key, { algorithms: [HEADER.alg] });
      } catch (error) {
        return error instanceof errors.JWSSignatureVerificationFailed ? BAD_SIGNATURE : MALFORMED;
      }
      this.verified.set(digest, parsed);
      claims = parsed;
    }
    // Step 4.
    if (numericDate(this.clock.now()) >= claims.exp) return { ok: false, reason: 'expired', expiredAt: isoFromNumericDate(claims.exp) };
    // A copy: what a caller does with its claims never reaches the cache.
    return { ok: true, claims: { ...claims } };
  }
}

/** §1.2 step 2: three base64url segments, the exact header, the nine claims with their types (others ignored). */
function parseShape(token: string): SessionClaims | null {
  if (typeof token !== 'string') return null;
  const segments = token.split('.');
  if (segments.length !== 3 || !segments.every((segment) => SEGMENT.test(segment))) return null;
  const header = decodeJson(segments[0]);
  if (!isRecord(header) || Object.keys(header).length !== 2 || header.alg !== HEADER.alg || header.typ !== HEADER.typ) return null;
  const payload = decodeJson(segments[1]);
  if (!isRecord(payload)) return null;
  if (!STRING_CLAIMS.every((name) => typeof payload[name] === 'string')) return null;
  if (!Number.isSafeInteger(payload.iat) || !Number.isSafeInteger(payload.exp)) return null;
  return {
    machineId: payload.machineId as string,
    pairingId: payload.pairingId as string,
    sessionId: payload.sessionId as string,
    agentAddress: payload.agentAddress as string,
    agentDid: payload.agentDid as string,
    delegationPolicyHash: payload.delegationPolicyHash as string,
    iat: payload.iat as number,
    exp: payload.exp as number,
    jti: payload.jti as string,
  };
}

function decodeJson(segment: string): unknown {
  try {
    return JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
