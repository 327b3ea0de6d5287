import { refusal } from '../../../test/support/refusal';
import { deciderSpec } from '../../../test/support/decider-spec';
import { fold } from '../shared/decider';
import { agentPairingMessage } from './pairing-challenge-message';
import { agentPairingNonce } from './pairing-challenge-nonce';
import {
  AgentPairingChallenge,
  AgentPairingChallengeCommand,
  AgentPairingChallengeEvent,
  assertAgentSigner,
  pairingChallengeDecider,
  pairingChallengeStream,
  PairingChallengeUse,
  proofInvalid,
  verifyPairingChallengeForProof,
} from './pairing-challenge.decider';

const SECRET = 'test-session-secret-of-32-chars!!';
const CHL = 'chl_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const MACH = 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2D';
const IDENTITY_REF = 'did:peaq:0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';
const AGENT = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const AGENT_DID = `did:pkh:eip155:1:${AGENT}`;
const ISSUED_AT = '2026-01-01T00:00:00.000Z';
const EXPIRES_AT = '2026-01-01T00:10:00.000Z';
const BEFORE_EXPIRY = '2026-01-01T00:09:59.999Z';
/** Computed independently: `printf 'agent-pairing\n…' | openssl dgst -sha256 -hmac "$SECRET"`. */
const NONCE = 'f51e4462da1b40fa001baff7b4017d8e8e16a2b768ce2664d8238f0487cd815a';

const MESSAGE =
  'peaqOS Machine Markets signature request\n' +
  'Service: peaqos-machine-markets\n' +
  'Action: agent-pairing-proof\n' +
  `Machine ID: ${MACH}\n` +
  `Machine Identity Ref: ${IDENTITY_REF}\n` +
  `Agent Address: ${AGENT}\n` +
  `Agent DID: ${AGENT_DID}\n` +
  'Agent Provider: anthropic\n' +
  'Agent Role: buyer\n' +
  `Challenge ID: ${CHL}\n` +
  `Nonce: ${NONCE}\n` +
  `Issued At: ${ISSUED_AT}\n` +
  `Expires At: ${EXPIRES_AT}`;

const CHALLENGE: AgentPairingChallenge = {
  challengeId: CHL,
  machineId: MACH,
  agentAddress: AGENT,
  agentDid: AGENT_DID,
  agentProvider: 'anthropic',
  agentRole: 'buyer',
  message: MESSAGE,
  nonce: NONCE,
  issuedAt: ISSUED_AT,
  expiresAt: EXPIRES_AT,
};

const CREATE: PairingChallengeUse = {
  use: 'create',
  machineId: MACH,
  agentAddress: AGENT,
  agentDid: AGENT_DID,
  agentProvider: 'anthropic',
  agentRole: 'buyer',
};
const ROTATE: PairingChallengeUse = { use: 'rotate', machineId: MACH, agentAddress: AGENT };

const issued: AgentPairingChallengeEvent = { type: 'agent_pairing_challenge.issued', data: CHALLENGE };
const consumed = (at = BEFORE_EXPIRY): AgentPairingChallengeEvent => ({
  type: 'agent_pairing_challenge.consumed',
  data: { challengeId: CHL, use: 'create', pairingId: 'pair_1', at },
});

const spec = deciderSpec(pairingChallengeDecider, { now: ISSUED_AT });

const issue: Extract<AgentPairingChallengeCommand, { type: 'issue' }> = {
  type: 'issue',
  challengeId: CHL,
  machineId: MACH,
  identityRef: IDENTITY_REF,
  agentAddress: AGENT,
  agentDid: AGENT_DID,
  agentProvider: 'anthropic',
  agentRole: 'buyer',
  nonce: NONCE,
  issuedAt: ISSUED_AT,
  expiresAt: EXPIRES_AT,
};
const consume = (expected: PairingChallengeUse = CREATE, pairingId = 'pair_1'): AgentPairingChallengeCommand => ({
  type: 'consume',
  challengeId: CHL,
  expected,
  pairingId,
});

describe('§5.4.1 nonce', () => {
  const input = { challengeId: CHL, machineId: MACH, agentAddress: AGENT, issuedAt: ISSUED_AT, expiresAt: EXPIRES_AT };

  it('is the lower-case hex HMAC-SHA-256 of the documented string', () => expect(agentPairingNonce(SECRET, input)).toBe(NONCE));

  it('changes with the secret and with every input', () => {
    const variants = [
      agentPairingNonce('another secret', input),
      agentPairingNonce(SECRET, { ...input, challengeId: 'chl_other' }),
      agentPairingNonce(SECRET, { ...input, machineId: 'mach_other' }),
      agentPairingNonce(SECRET, { ...input, agentAddress: AGENT.toLowerCase() }),
      agentPairingNonce(SECRET, { ...input, issuedAt: BEFORE_EXPIRY }),
      agentPairingNonce(SECRET, { ...input, expiresAt: BEFORE_EXPIRY }),
    ];
    expect(new Set([NONCE, ...variants]).size).toBe(7);
  });
});

describe('§5.4.2 message template', () => {
  it('is exactly the thirteen LF-separated lines, without a trailing newline', () => {
    const message = agentPairingMessage(issue);
    expect(message).toBe(MESSAGE);
    expect(message.split('\n')).toHaveLength(13);
    expect(message).not.toMatch(/\r|\n$/);
  });
});

describe('agent pairing challenge decider', () => {
  describe('issue (§5.8.3)', () => {
    it('issues the challenge as the API returns it, with the exact message', () => spec.given([]).when(issue).then([issued]));

    it('does not put the identityRef into the stored challenge (it is only in the message)', () =>
      spec
        .given([])
        .when(issue)
        .thenState((s) => s.kind === 'issued' && !('identityRef' in s.challenge)));

    it('refuses to issue the same challenge id twice', () =>
      spec.given([issued]).when(issue).thenThrows('STATE_CONFLICT', { reason: 'exists', entityType: 'agent-pairing-challenge', id: CHL }));
  });

  describe('consume (single use, §5.4.3)', () => {
    it('consumes an issued challenge for the pairing created', () =>
      spec.given([issued]).when(consume(), { now: BEFORE_EXPIRY }).then([consumed()]));

    it('consumes for a rotation, matching the agent address only', () =>
      spec
        .given([issued])
        .when(consume(ROTATE, 'pair_2'), { now: BEFORE_EXPIRY })
        .then([
          { type: 'agent_pairing_challenge.consumed', data: { challengeId: CHL, use: 'rotate', pairingId: 'pair_2', at: BEFORE_EXPIRY } },
        ]));

    it('moves the challenge to consumed', () =>
      spec
        .given([issued])
        .when(consume(), { now: BEFORE_EXPIRY })
        .thenState({ kind: 'consumed', challenge: CHALLENGE, consumedAt: BEFORE_EXPIRY, use: 'create', pairingId: 'pair_1' }));

    it('refuses a second consumption (challenge_used)', () =>
      spec
        .given([issued, consumed()])
        .when(consume(ROTATE), { now: BEFORE_EXPIRY })
        .thenThrows('AGENT_PAIRING_PROOF_INVALID', { reason: 'challenge_used', challengeId: CHL }));

    it('refuses an unknown challenge (challenge_not_found)', () =>
      spec.given([]).when(consume()).thenThrows('AGENT_PAIRING_PROOF_INVALID', { reason: 'challenge_not_found', challengeId: CHL }));

    it('refuses a use with other values (challenge_mismatch)', () =>
      spec
        .given([issued])
        .when(consume({ ...CREATE, agentRole: 'ops' }), { now: BEFORE_EXPIRY })
        .thenThrows('AGENT_PAIRING_PROOF_INVALID', { reason: 'challenge_mismatch' }));

    it('refuses an expired challenge at exactly expiresAt', () =>
      spec
        .given([issued])
        .when(consume(), { now: EXPIRES_AT })
        .thenThrows('AGENT_PAIRING_PROOF_EXPIRED', { challengeId: CHL, expiresAt: EXPIRES_AT }));
  });

  it('names the stream agent-pairing-challenge-{chl} (§8.7.2)', () =>
    expect(pairingChallengeStream(CHL, MACH)).toEqual({
      streamId: `agent-pairing-challenge-${CHL}`,
      entityType: 'agent-pairing-challenge',
      entityId: CHL,
      machineId: MACH,
    }));
});

describe('§5.4.3 steps 1–5: verifyPairingChallengeForProof', () => {
  const stateOf = (events: AgentPairingChallengeEvent[]) => fold(pairingChallengeDecider, events);
  const recomputeNonce = (c: AgentPairingChallenge) => agentPairingNonce(SECRET, c);
  const check = { challengeId: CHL, expected: CREATE, now: BEFORE_EXPIRY, recomputeNonce };

  it('returns the stored challenge when steps 1–5 pass (creation)', () =>
    expect(verifyPairingChallengeForProof(stateOf([issued]), check)).toEqual(CHALLENGE));

  it('returns the stored challenge when steps 1–5 pass (rotation)', () =>
    expect(verifyPairingChallengeForProof(stateOf([issued]), { ...check, expected: ROTATE })).toEqual(CHALLENGE));

  it('1. challenge_not_found without a challenge', () =>
    expect(refusal(() => verifyPairingChallengeForProof(stateOf([]), check))).toEqual({
      code: 'AGENT_PAIRING_PROOF_INVALID',
      details: { reason: 'challenge_not_found', challengeId: CHL },
    }));

  it('1. challenge_not_found when the stored challenge has another id', () =>
    expect(refusal(() => verifyPairingChallengeForProof(stateOf([issued]), { ...check, challengeId: 'chl_other' }))).toMatchObject({
      details: { reason: 'challenge_not_found', challengeId: 'chl_other' },
    }));

  describe('2. challenge_mismatch', () => {
    it.each<[string, PairingChallengeUse]>([
      ['another machine (creation)', { ...CREATE, machineId: 'mach_other' }],
      ['another agent address (creation)', { ...CREATE, agentAddress: '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359' }],
      ['another agent DID', { ...CREATE, agentDid: `did:pkh:eip155:137:${AGENT}` }],
      ['another agent provider', { ...CREATE, agentProvider: 'openai' }],
      ['another agent role', { ...CREATE, agentRole: 'ops' }],
      ['another machine (rotation)', { ...ROTATE, machineId: 'mach_other' }],
      ['another agent address (rotation)', { ...ROTATE, agentAddress: '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359' }],
    ])('for %s', (_label, expected) =>
      expect(refusal(() => verifyPairingChallengeForProof(stateOf([issued]), { ...check, expected }))).toEqual({
        code: 'AGENT_PAIRING_PROOF_INVALID',
        details: { reason: 'challenge_mismatch', challengeId: CHL },
      }),
    );

    it('compares the agent address case-insensitively', () =>
      expect(
        verifyPairingChallengeForProof(stateOf([issued]), { ...check, expected: { ...ROTATE, agentAddress: AGENT.toLowerCase() } }),
      ).toEqual(CHALLENGE));

    it('a rotation does not compare provider, role or DID (§10.1 item 31)', () => {
      const other = { ...CHALLENGE, agentDid: `did:pkh:eip155:137:${AGENT}`, agentProvider: 'openai', agentRole: 'ops' };
      const state = stateOf([{ type: 'agent_pairing_challenge.issued', data: other }]);
      expect(verifyPairingChallengeForProof(state, { ...check, expected: ROTATE })).toEqual(other);
    });
  });

  it('2 before 3: a consumed challenge for another machine is a mismatch', () =>
    expect(
      refusal(() =>
        verifyPairingChallengeForProof(stateOf([issued, consumed()]), { ...check, expected: { ...ROTATE, machineId: 'mach_other' } }),
      ),
    ).toMatchObject({ details: { reason: 'challenge_mismatch' } }));

  it('3. challenge_used once consumed', () =>
    expect(refusal(() => verifyPairingChallengeForProof(stateOf([issued, consumed()]), check))).toEqual({
      code: 'AGENT_PAIRING_PROOF_INVALID',
      details: { reason: 'challenge_used', challengeId: CHL },
    }));

  it('3 before 4: a consumed and expired challenge is used', () =>
    expect(
      refusal(() => verifyPairingChallengeForProof(stateOf([issued, consumed()]), { ...check, now: '2026-02-01T00:00:00.000Z' })),
    ).toMatchObject({ details: { reason: 'challenge_used' } }));

  it('4. AGENT_PAIRING_PROOF_EXPIRED at exactly expiresAt, with challengeId and expiresAt', () =>
    expect(refusal(() => verifyPairingChallengeForProof(stateOf([issued]), { ...check, now: EXPIRES_AT }))).toEqual({
      code: 'AGENT_PAIRING_PROOF_EXPIRED',
      details: { challengeId: CHL, expiresAt: EXPIRES_AT },
    }));

  it('4 before 5: an expired challenge never recomputes the nonce', () => {
    const recompute = jest.fn(() => 'other');
    expect(
      refusal(() => verifyPairingChallengeForProof(stateOf([issued]), { ...check, now: EXPIRES_AT, recomputeNonce: recompute })).code,
    ).toBe('AGENT_PAIRING_PROOF_EXPIRED');
    expect(recompute).not.toHaveBeenCalled();
  });

  it('5. nonce_mismatch after the secret changed', () =>
    expect(
      refusal(() =>
        verifyPairingChallengeForProof(stateOf([issued]), { ...check, recomputeNonce: (c) => agentPairingNonce('rotated secret', c) }),
      ),
    ).toEqual({ code: 'AGENT_PAIRING_PROOF_INVALID', details: { reason: 'nonce_mismatch', challengeId: CHL } }));
});

describe('§5.4.3 steps 6–7 (the handler recovers the signer through the SignatureVerifier port)', () => {
  it('6. malformed_signature is an AGENT_PAIRING_PROOF_INVALID reason', () =>
    expect(
      refusal(() => {
        throw proofInvalid('malformed_signature', CHL);
      }),
    ).toEqual({ code: 'AGENT_PAIRING_PROOF_INVALID', details: { reason: 'malformed_signature', challengeId: CHL } }));

  it('7. signer_mismatch when the recovered signer is not agentAddress', () =>
    expect(refusal(() => assertAgentSigner(CHL, '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', AGENT))).toEqual({
      code: 'AGENT_PAIRING_PROOF_INVALID',
      details: { reason: 'signer_mismatch', challengeId: CHL },
    }));

  it('7. accepts the agent address in any case', () => expect(() => assertAgentSigner(CHL, AGENT.toLowerCase(), AGENT)).not.toThrow());
});
