import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { compactVerify, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { ControllableClock } from '../../../test/support/controllable-clock';
import { SessionClaims, SessionSubject } from '../../application/ports/session-tokens.port';
import { JoseSessionTokens } from './session-tokens.jose';

// jose's own compactVerify, counted: the adapter's HMAC checks are the calls.
jest.mock('jose', () => {
  const actual = jest.requireActual<typeof import('jose')>('jose');
  return { ...actual, compactVerify: jest.fn(actual.compactVerify) };
});
const signatureChecks = jest.mocked(compactVerify);

const SECRET = 'test-session-secret-of-32-chars!!';
const OTHER_SECRET = 'another-session-secret-32-chars!!';
const START = '2026-01-01T00:00:00.400Z';
/** floor(Date.parse(START) / 1000). */
const IAT = 1767225600;
const TTL_MS = 3_600_999; // floor(TTL / 1000) = 3600: the remainder is dropped (§1.2)

const SUBJECT: SessionSubject = {
  machineId: 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2D',
  pairingId: 'pair_01JD8Y6K3W5T2Q9R7M4N0P1B2C',
  sessionId: 'sess_01JD8Y6K3W5T2Q9R7M4N0P1B2E',
  agentAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  agentDid: 'did:pkh:eip155:1:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  delegationPolicyHash: '9b31caa298aa2cb3d2276c7de05d6d1b7f1cd394a83077589c96152a5891ca48',
};
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
/** A compact JWS with an HMAC-SHA-256 signature over any header bytes, made without a JWT library. */
function handSigned(header: string | Record<string, unknown>, payload: unknown, key = SECRET): string {
  const signingInput = `${b64(header)}.${b64(payload)}`;
  return `${signingInput}.${createHmac('sha256', key).update(signingInput).digest('base64url')}`;
}
const decode = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('JoseSessionTokens (§1.2, §5.5)', () => {
  let clock: ControllableClock;
  let tokens: JoseSessionTokens;
  let claims: SessionClaims;

  beforeEach(() => {
    clock = new ControllableClock(START);
    tokens = new JoseSessionTokens({ secret: SECRET, ttlMs: TTL_MS }, clock);
    claims = { ...SUBJECT, iat: IAT, exp: IAT + 3600, jti: '3b241101-e2bb-4255-8caf-4136c566a962' };
  });

  /** A token signed with HS256 and `key`, with any header and payload. */
  const hs256 = (payload: Record<string, unknown>, key = SECRET, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }) =>
    new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(new TextEncoder().encode(key));

  describe('issue', () => {
    it('signs the header exactly {"alg":"HS256","typ":"JWT"}', async () => {
      const { token } = await tokens.issue(SUBJECT);
      expect(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')).toBe('{"alg":"HS256","typ":"JWT"}');
    });

    it('carries exactly the nine claims: iat = floor(now / 1000), exp = iat + floor(TTL / 1000), jti a lower-case UUID v4', async () => {
      const issued = await tokens.issue(SUBJECT);
      const payload = decode(issued.token.split('.')[1]);
      expect(Object.keys(payload).sort()).toEqual(
        ['agentAddress', 'agentDid', 'delegationPolicyHash', 'exp', 'iat', 'jti', 'machineId', 'pairingId', 'sessionId'].sort(),
      );
      expect(payload).toEqual({ ...SUBJECT, iat: IAT, exp: IAT + 3600, jti: expect.stringMatching(UUID_V4) });
      expect(issued.claims).toEqual(payload);
    });

    it('takes no member beyond the subject’s six claims', async () => {
      const { token } = await tokens.issue({ ...SUBJECT, extra: 'x' } as SessionSubject);
      expect(decode(token.split('.')[1])).not.toHaveProperty('extra');
    });

    it('issues a fresh jti every time', async () => {
      const a = await tokens.issue(SUBJECT);
      const b = await tokens.issue(SUBJECT);
      expect(a.claims.jti).not.toBe(b.claims.jti);
      expect(a.token).not.toBe(b.token);
    });

    it('uses the injected jti source', async () => {
      const fixed = new JoseSessionTokens({ secret: SECRET, ttlMs: TTL_MS, newJti: () => claims.jti }, clock);
      expect((await fixed.issue(SUBJECT)).claims.jti).toBe(claims.jti);
    });

    it('round-trips through verify', async () => {
      const issued = await tokens.issue(SUBJECT);
      expect(await tokens.verify(issued.token)).toEqual({ ok: true, claims: issued.claims });
    });

    it('is an HS256 token any JWT library verifies with the secret', async () => {
      const { token } = await tokens.issue(SUBJECT);
      const { jwtVerify } = await import('jose');
      const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(SECRET), { currentDate: clock.now() });
      expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(payload.pairingId).toBe(SUBJECT.pairingId);
    });
  });

  describe('verify, step 2: malformed', () => {
    const malformed = { ok: false, reason: 'malformed' };

    it.each([
      ['the empty string', ''],
      ['one segment', 'abc'],
      ['two segments', 'abc.def'],
      ['four segments', 'a.b.c.d'],
      ['non-base64url characters', 'ab+c.de/f.gh=i'],
      ['an empty signature segment', `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({})}.`],
      ['a header that is not JSON', `${b64('not json')}.${b64({})}.sig`],
      ['a header that is a JSON array', `${b64(['HS256'])}.${b64({})}.sig`],
    ])('%s', async (_label, token) => expect(await tokens.verify(token)).toEqual(malformed));

    it('a non-string', async () => expect(await tokens.verify(undefined as unknown as string)).toEqual(malformed));

    it('a forged alg "none" token with an empty signature', async () => {
      const forged = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
      expect(await tokens.verify(forged)).toEqual(malformed);
    });

    it('a forged alg "none" token carrying a genuine HS256 signature', async () => {
      const genuine = (await tokens.issue(SUBJECT)).token.split('.');
      expect(await tokens.verify(`${b64({ alg: 'none', typ: 'JWT' })}.${genuine[1]}.${genuine[2]}`)).toEqual(malformed);
    });

    it('an RS256-signed token (no RS/HS algorithm choice by the token)', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const token = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(privateKey);
      expect(await tokens.verify(token)).toEqual(malformed);
    });

    it.each([
      ['HS512', { alg: 'HS512', typ: 'JWT' }],
      ['lower-case hs256', { alg: 'hs256', typ: 'JWT' }],
      ['no typ', { alg: 'HS256' }],
      ['another typ', { alg: 'HS256', typ: 'at+jwt' }],
      ['an extra member', { alg: 'HS256', typ: 'JWT', kid: 'k1' }],
    ])('a token keyed with the secret whose header has %s', (_label, header) =>
      expect(tokens.verify(handSigned(header, claims))).resolves.toEqual(malformed),
    );

    it('an HS512 token signed by jose with the secret', async () =>
      expect(await tokens.verify(await hs256({ ...claims }, SECRET, { alg: 'HS512', typ: 'JWT' }))).toEqual(malformed));

    it.each(['machineId', 'pairingId', 'sessionId', 'agentAddress', 'agentDid', 'delegationPolicyHash', 'iat', 'exp', 'jti'])(
      'a correctly signed token without %s',
      async (name) => {
        const payload: Record<string, unknown> = { ...claims };
        delete payload[name];
        expect(await tokens.verify(await hs256(payload))).toEqual(malformed);
      },
    );

    it.each<[string, Record<string, unknown>]>([
      ['a numeric machineId', { machineId: 42 }],
      ['a null jti', { jti: null }],
      ['a string iat', { iat: String(IAT) }],
      ['a fractional exp', { exp: IAT + 3600.5 }],
      ['an exp beyond 2^53', { exp: 2 ** 53 }],
    ])('a correctly signed token with %s', async (_label, override) =>
      expect(await tokens.verify(await hs256({ ...claims, ...override }))).toEqual(malformed),
    );

    it('a payload that is not a JSON object', async () => {
      const header = b64({ alg: 'HS256', typ: 'JWT' });
      expect(await tokens.verify(`${header}.${b64('[1,2]')}.c2ln`)).toEqual(malformed);
    });

    it('comes before the signature: a missing claim with a bad signature is malformed', async () => {
      const payload: Record<string, unknown> = { ...claims };
      delete payload.jti;
      expect(await tokens.verify(await hs256(payload, OTHER_SECRET))).toEqual(malformed);
    });
  });

  describe('verify, step 3: bad_signature', () => {
    const bad = { ok: false, reason: 'bad_signature' };

    it('a token signed with another secret', async () =>
      expect(await tokens.verify(await hs256({ ...claims }, OTHER_SECRET))).toEqual(bad));

    it('a token whose payload was changed after signing', async () => {
      const [header, , signature] = (await tokens.issue(SUBJECT)).token.split('.');
      const tampered = b64({ ...claims, pairingId: 'pair_someone_else' });
      expect(await tokens.verify(`${header}.${tampered}.${signature}`)).toEqual(bad);
    });

    it('a truncated signature', async () => {
      const { token } = await tokens.issue(SUBJECT);
      expect(await tokens.verify(token.slice(0, -2))).toEqual(bad);
    });

    it('an HS256 token keyed with the bytes of an RSA public key (RS/HS key confusion)', async () => {
      const { publicKey } = await generateKeyPair('RS256');
      const pem = await exportSPKI(publicKey);
      expect(await tokens.verify(await hs256({ ...claims }, pem))).toEqual(bad);
    });

    it('comes before expiry: an expired token with a bad signature is bad_signature', async () => {
      clock.set('2030-01-01T00:00:00.000Z');
      expect(await tokens.verify(await hs256({ ...claims }, OTHER_SECRET))).toEqual(bad);
    });
  });

  describe('verify, step 4: expired (whole seconds, no leeway)', () => {
    it('accepts the token in the last second before exp', async () => {
      const { token } = await tokens.issue(SUBJECT);
      clock.set('2026-01-01T00:59:59.999Z');
      expect(await tokens.verify(token)).toMatchObject({ ok: true });
    });

    it('rejects it at exactly exp, with expiredAt = exp as an ISO timestamp', async () => {
      const { token } = await tokens.issue(SUBJECT);
      clock.set('2026-01-01T01:00:00.000Z');
      expect(await tokens.verify(token)).toEqual({ ok: false, reason: 'expired', expiredAt: '2026-01-01T01:00:00.000Z' });
    });

    it('rejects it after exp', async () => {
      const { token } = await tokens.issue(SUBJECT);
      clock.advance(24 * 3600 * 1000);
      expect(await tokens.verify(token)).toMatchObject({ ok: false, reason: 'expired' });
    });
  });

  describe('unknown claims', () => {
    it('are ignored on verification and not returned', async () => {
      const token = await hs256({ ...claims, nbf: IAT + 10_000, scope: 'admin' });
      expect(await tokens.verify(token)).toEqual({ ok: true, claims });
    });
  });

  it('accepts the header members in any order (the JSON object is what must match exactly)', async () =>
    expect(await tokens.verify(handSigned('{"typ":"JWT","alg":"HS256"}', claims))).toEqual({ ok: true, claims }));

  describe('verified-token cache', () => {
    beforeEach(() => signatureChecks.mockClear());

    /** `token` with its signature's first character changed (a change of the last one may decode to the same bytes). */
    const withOtherSignature = (token: string) => {
      const [header, payload, signature] = token.split('.');
      return `${header}.${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    };

    it('checks the signature of a token presented again only once', async () => {
      const issued = await tokens.issue(SUBJECT);
      expect(await tokens.verify(issued.token)).toEqual({ ok: true, claims: issued.claims });
      expect(await tokens.verify(issued.token)).toEqual({ ok: true, claims: issued.claims });
      expect(await tokens.verify(issued.token)).toEqual({ ok: true, claims: issued.claims });
      expect(signatureChecks).toHaveBeenCalledTimes(1);
    });

    it('judges expiry on every call: a cached token expires at exp', async () => {
      const { token } = await tokens.issue(SUBJECT);
      expect(await tokens.verify(token)).toMatchObject({ ok: true });
      clock.set('2026-01-01T00:59:59.999Z');
      expect(await tokens.verify(token)).toMatchObject({ ok: true });
      clock.set('2026-01-01T01:00:00.000Z');
      expect(await tokens.verify(token)).toEqual({ ok: false, reason: 'expired', expiredAt: '2026-01-01T01:00:00.000Z' });
      expect(signatureChecks).toHaveBeenCalledTimes(1);
    });

    it('rejects a token differing in one signature character after the genuine one was cached, and keeps the genuine one', async () => {
      const { token } = await tokens.issue(SUBJECT);
      expect(await tokens.verify(token)).toMatchObject({ ok: true });
      expect(await tokens.verify(withOtherSignature(token))).toEqual({ ok: false, reason: 'bad_signature' });
      expect(await tokens.verify(token)).toMatchObject({ ok: true });
      expect(signatureChecks).toHaveBeenCalledTimes(2);
    });

    it('rejects a token with a changed payload and the cached token’s signature', async () => {
      const { token } = await tokens.issue(SUBJECT);
      expect(await tokens.verify(token)).toMatchObject({ ok: true });
      const [header, , signature] = token.split('.');
      const tampered = `${header}.${b64({ ...claims, pairingId: 'pair_someone_else' })}.${signature}`;
      expect(await tokens.verify(tampered)).toEqual({ ok: false, reason: 'bad_signature' });
    });

    it('never caches a failed token', async () => {
      const forged = await hs256({ ...claims }, OTHER_SECRET);
      expect(await tokens.verify(forged)).toEqual({ ok: false, reason: 'bad_signature' });
      expect(await tokens.verify(forged)).toEqual({ ok: false, reason: 'bad_signature' });
      expect(signatureChecks).toHaveBeenCalledTimes(2);
      const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
      expect(await tokens.verify(unsigned)).toEqual({ ok: false, reason: 'malformed' });
      expect(await tokens.verify(unsigned)).toEqual({ ok: false, reason: 'malformed' });
      expect(signatureChecks).toHaveBeenCalledTimes(2);
    });

    it('is per instance: another secret still rejects a token this instance cached', async () => {
      const { token } = await tokens.issue(SUBJECT);
      await tokens.verify(token);
      const other = new JoseSessionTokens({ secret: OTHER_SECRET, ttlMs: TTL_MS }, clock);
      expect(await other.verify(token)).toEqual({ ok: false, reason: 'bad_signature' });
    });

    it('returns claims whose change by a caller does not reach the next call', async () => {
      const issued = await tokens.issue(SUBJECT);
      const first = await tokens.verify(issued.token);
      if (first.ok) first.claims.pairingId = 'pair_changed';
      const second = await tokens.verify(issued.token);
      if (second.ok) second.claims.exp = 0;
      expect(await tokens.verify(issued.token)).toEqual({ ok: true, claims: issued.claims });
    });

    it('does not keep the token itself', async () => {
      const { token } = await tokens.issue(SUBJECT);
      await tokens.verify(token);
      const state = inspect(tokens, { depth: null, maxArrayLength: null, maxStringLength: null });
      expect(state).toContain('agentDid'); // the cached claims are in view
      expect(state).not.toContain(token.split('.')[2]);
      expect(state).not.toContain(token.split('.')[1]);
    });

    it('forgets the least recently used token beyond verifiedCacheSize', async () => {
      let n = 0;
      const small = new JoseSessionTokens({ secret: SECRET, ttlMs: TTL_MS, verifiedCacheSize: 2, newJti: () => `jti-${n++}` }, clock);
      const [a, b, c] = [(await small.issue(SUBJECT)).token, (await small.issue(SUBJECT)).token, (await small.issue(SUBJECT)).token];
      await small.verify(a);
      await small.verify(b);
      await small.verify(a); // cached; now the most recently used
      expect(signatureChecks).toHaveBeenCalledTimes(2);
      await small.verify(c); // evicts b
      await small.verify(a);
      expect(signatureChecks).toHaveBeenCalledTimes(3);
      expect(await small.verify(b)).toMatchObject({ ok: true });
      expect(signatureChecks).toHaveBeenCalledTimes(4);
    });

    it('holds 10,000 tokens by default', async () => {
      const signed = Array.from({ length: 10_001 }, (_, i) => handSigned({ alg: 'HS256', typ: 'JWT' }, { ...claims, jti: `jti-${i}` }));
      for (const token of signed) await tokens.verify(token);
      expect(signatureChecks).toHaveBeenCalledTimes(10_001);
      // The first was evicted by the 10,001st; the second is still there.
      expect(await tokens.verify(signed[1])).toMatchObject({ ok: true, claims: { jti: 'jti-1' } });
      expect(signatureChecks).toHaveBeenCalledTimes(10_001);
      expect(await tokens.verify(signed[0])).toMatchObject({ ok: true, claims: { jti: 'jti-0' } });
      expect(signatureChecks).toHaveBeenCalledTimes(10_002);
    });
  });
});
