import { deciderSpec } from '../../../test/support/decider-spec';
import { fold } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import { machineIdentityMessage } from './challenge-message';
import { machineIdentityNonce } from './challenge-nonce';
import {
  IdentityChallengeCommand,
  IdentityChallengeEvent,
  MachineIdentityChallenge,
  identityChallengeDecider,
  identityChallengeStream,
  verifyChallengeForProof,
} from './identity-challenge.decider';

const SECRET = 'test-session-secret-of-32-chars!!';
const CHL = 'chl_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const DID = 'did:peaq:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const ISSUED_AT = '2026-01-01T00:00:00.000Z';
const EXPIRES_AT = '2026-01-01T00:05:00.000Z';
const BEFORE_EXPIRY = '2026-01-01T00:04:59.999Z';
/** Computed independently: `printf '…' | openssl dgst -sha256 -hmac "$SECRET"`. */
const NONCE = '524d8d4e4772f16ffbfc1a099cdbe39d0bf633711fa310be7a562d231a1b3000';
const CONTROLLERS = ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'];

const MESSAGE =
  'peaqOS Machine Markets signature request\n' +
  'Service: peaqos-machine-markets\n' +
  'Action: machine-identity-proof\n' +
  `Identity Ref: ${DID}\n` +
  `Challenge ID: ${CHL}\n` +
  `Nonce: ${NONCE}\n` +
  `Issued At: ${ISSUED_AT}\n` +
  `Expires At: ${EXPIRES_AT}`;

const CHALLENGE: MachineIdentityChallenge = {
  challengeId: CHL,
  identityRef: DID,
  message: MESSAGE,
  nonce: NONCE,
  issuedAt: ISSUED_AT,
  expiresAt: EXPIRES_AT,
  controllerAddresses: CONTROLLERS,
};

const issued: IdentityChallengeEvent = { type: 'machine_identity_challenge.issued', data: CHALLENGE };
const consumed = (at = BEFORE_EXPIRY): IdentityChallengeEvent => ({
  type: 'machine_identity_challenge.consumed',
  data: { challengeId: CHL, machineId: 'mach_1', at },
});

const spec = deciderSpec(identityChallengeDecider, { now: ISSUED_AT });

const issue: IdentityChallengeCommand = {
  type: 'issue',
  challengeId: CHL,
  identityRef: DID,
  nonce: NONCE,
  issuedAt: ISSUED_AT,
  expiresAt: EXPIRES_AT,
  controllerAddresses: CONTROLLERS,
};
const consume = (extra: Partial<Extract<IdentityChallengeCommand, { type: 'consume' }>> = {}): IdentityChallengeCommand => ({
  type: 'consume',
  challengeId: CHL,
  identityRef: DID,
  machineId: 'mach_1',
  ...extra,
});

describe('§4.5.1 nonce', () => {
  it('is the lower-case hex HMAC-SHA-256 of the documented string', () =>
    expect(machineIdentityNonce(SECRET, { challengeId: CHL, identityRef: DID, issuedAt: ISSUED_AT, expiresAt: EXPIRES_AT })).toBe(NONCE));

  it('is 64 lower-case hex characters', () =>
    expect(machineIdentityNonce(Buffer.from('k'), { challengeId: 'c', identityRef: 'i', issuedAt: 'a', expiresAt: 'b' })).toMatch(
      /^[0-9a-f]{64}$/,
    ));

  it('changes with the secret and with every input', () => {
    const base = { challengeId: CHL, identityRef: DID, issuedAt: ISSUED_AT, expiresAt: EXPIRES_AT };
    const variants = [
      machineIdentityNonce('another secret', base),
      machineIdentityNonce(SECRET, { ...base, challengeId: 'chl_other' }),
      machineIdentityNonce(SECRET, { ...base, identityRef: 'peaqos:machine:1' }),
      machineIdentityNonce(SECRET, { ...base, issuedAt: BEFORE_EXPIRY }),
      machineIdentityNonce(SECRET, { ...base, expiresAt: BEFORE_EXPIRY }),
    ];
    expect(new Set([NONCE, ...variants]).size).toBe(6);
  });
});

describe('§4.5.2 message template', () => {
  it('is exactly the eight LF-separated lines, without a trailing newline', () => {
    const message = machineIdentityMessage({
      challengeId: CHL,
      identityRef: DID,
      nonce: NONCE,
      issuedAt: ISSUED_AT,
      expiresAt: EXPIRES_AT,
    });
    expect(message).toBe(MESSAGE);
    expect(message.split('\n')).toHaveLength(8);
    expect(message).not.toMatch(/\r|\n$/);
  });
});

describe('machine identity challenge decider', () => {
  describe('issue', () => {
    it('issues the challenge as the API returns it, with the exact message', () => spec.given([]).when(issue).then([issued]));

    it('refuses to issue the same challenge id twice', () =>
      spec.given([issued]).when(issue).thenThrows('STATE_CONFLICT', { reason: 'exists', entityType: 'machine-identity-challenge' }));
  });

  describe('consume (single use, §4.5.3)', () => {
    it('consumes an issued challenge for the machine written', () =>
      spec.given([issued]).when(consume(), { now: BEFORE_EXPIRY }).then([consumed()]));

    it('records a purpose instead of a machine id', () =>
      spec
        .given([issued])
        .when(consume({ machineId: undefined, purpose: 'machine_update' }), { now: BEFORE_EXPIRY })
        .then([{ type: 'machine_identity_challenge.consumed', data: { challengeId: CHL, purpose: 'machine_update', at: BEFORE_EXPIRY } }]));

    it('moves the challenge to consumed', () =>
      spec
        .given([issued])
        .when(consume(), { now: BEFORE_EXPIRY })
        .thenState({ kind: 'consumed', challenge: CHALLENGE, consumedAt: BEFORE_EXPIRY, use: { machineId: 'mach_1' } }));

    it('refuses a second consumption (challenge_used)', () =>
      spec
        .given([issued, consumed()])
        .when(consume({ machineId: 'mach_2' }), { now: BEFORE_EXPIRY })
        .thenThrows('MACHINE_IDENTITY_PROOF_INVALID', { reason: 'challenge_used', challengeId: CHL }));

    it('refuses an unknown challenge (challenge_not_found)', () =>
      spec.given([]).when(consume()).thenThrows('MACHINE_IDENTITY_PROOF_INVALID', { reason: 'challenge_not_found' }));

    it('refuses a write for another identity (challenge_mismatch)', () =>
      spec
        .given([issued])
        .when(consume({ identityRef: 'peaqos:machine:1' }), { now: BEFORE_EXPIRY })
        .thenThrows('MACHINE_IDENTITY_PROOF_INVALID', { reason: 'challenge_mismatch' }));

    it('records a challenge that expired after the write that used it was verified', () =>
      spec
        .given([issued])
        .when(consume(), { now: EXPIRES_AT })
        .then([{ type: 'machine_identity_challenge.consumed', data: { challengeId: CHL, machineId: 'mach_1', at: EXPIRES_AT } }]));
  });

  it('names the stream machine-identity-challenge-{chl} (§8.7.2)', () =>
    expect(identityChallengeStream(CHL)).toEqual({
      streamId: `machine-identity-challenge-${CHL}`,
      entityType: 'machine-identity-challenge',
      entityId: CHL,
      machineId: null,
    }));
});

describe('§4.5.3 steps 1–5: verifyChallengeForProof', () => {
  const stateOf = (events: IdentityChallengeEvent[]) => fold(identityChallengeDecider, events);
  const recomputeNonce = (c: MachineIdentityChallenge) => machineIdentityNonce(SECRET, c);
  const check = { challengeId: CHL, identityRef: DID, now: BEFORE_EXPIRY, recomputeNonce };

  function refusal(run: () => unknown): { code: string; details: unknown } {
    try {
      run();
    } catch (error) {
      if (error instanceof DomainError) return { code: error.code, details: error.details };
      throw error;
    }
    throw new Error('expected a DomainError');
  }

  it('returns the stored challenge when steps 1–5 pass', () =>
    expect(verifyChallengeForProof(stateOf([issued]), check)).toEqual(CHALLENGE));

  it('accepts the last millisecond before expiresAt', () =>
    expect(verifyChallengeForProof(stateOf([issued]), { ...check, now: BEFORE_EXPIRY })).toEqual(CHALLENGE));

  it('1. challenge_not_found without a challenge', () =>
    expect(refusal(() => verifyChallengeForProof(stateOf([]), check))).toEqual({
      code: 'MACHINE_IDENTITY_PROOF_INVALID',
      details: { reason: 'challenge_not_found', challengeId: CHL },
    }));

  it('1. challenge_not_found when the stored challenge has another id', () =>
    expect(refusal(() => verifyChallengeForProof(stateOf([issued]), { ...check, challengeId: 'chl_other' }))).toMatchObject({
      details: { reason: 'challenge_not_found' },
    }));

  it('2. challenge_mismatch for another identityRef', () =>
    expect(refusal(() => verifyChallengeForProof(stateOf([issued]), { ...check, identityRef: 'peaqos:machine:1' }))).toMatchObject({
      code: 'MACHINE_IDENTITY_PROOF_INVALID',
      details: { reason: 'challenge_mismatch' },
    }));

  it('2 before 3: a consumed challenge for another identity is a mismatch', () =>
    expect(
      refusal(() => verifyChallengeForProof(stateOf([issued, consumed()]), { ...check, identityRef: 'peaqos:machine:1' })),
    ).toMatchObject({ details: { reason: 'challenge_mismatch' } }));

  it('3. challenge_used once consumed', () =>
    expect(refusal(() => verifyChallengeForProof(stateOf([issued, consumed()]), check))).toMatchObject({
      code: 'MACHINE_IDENTITY_PROOF_INVALID',
      details: { reason: 'challenge_used' },
    }));

  it('3 before 4: a consumed and expired challenge is used', () =>
    expect(
      refusal(() => verifyChallengeForProof(stateOf([issued, consumed()]), { ...check, now: '2026-02-01T00:00:00.000Z' })),
    ).toMatchObject({
      details: { reason: 'challenge_used' },
    }));

  it('4. MACHINE_IDENTITY_PROOF_EXPIRED at exactly expiresAt, with challengeId and expiresAt', () =>
    expect(refusal(() => verifyChallengeForProof(stateOf([issued]), { ...check, now: EXPIRES_AT }))).toEqual({
      code: 'MACHINE_IDENTITY_PROOF_EXPIRED',
      details: { challengeId: CHL, expiresAt: EXPIRES_AT },
    }));

  it('4 before 5: an expired challenge never recomputes the nonce', () => {
    const recompute = jest.fn(() => 'other');
    expect(refusal(() => verifyChallengeForProof(stateOf([issued]), { ...check, now: EXPIRES_AT, recomputeNonce: recompute })).code).toBe(
      'MACHINE_IDENTITY_PROOF_EXPIRED',
    );
    expect(recompute).not.toHaveBeenCalled();
  });

  it('5. nonce_mismatch after the secret changed', () =>
    expect(
      refusal(() =>
        verifyChallengeForProof(stateOf([issued]), { ...check, recomputeNonce: (c) => machineIdentityNonce('rotated secret', c) }),
      ),
    ).toEqual({ code: 'MACHINE_IDENTITY_PROOF_INVALID', details: { reason: 'nonce_mismatch', challengeId: CHL } }));
});
