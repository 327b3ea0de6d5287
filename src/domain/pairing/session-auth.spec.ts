import { refusal } from '../../../test/support/refusal';
import { fold } from '../shared/decider';
import { AgentPairing, AgentPairingEvent, agentPairingDecider } from './agent-pairing.decider';
import { defaultDelegationPolicy, delegationPolicyHash } from './delegation-policy';
import { agentAuthRequired, checkSessionAgainstPairing, checkSessionBinding, SessionClaims, sessionTokenError } from './session-auth';

const T0 = '2026-01-01T00:00:00.000Z';
const PAIR = 'pair_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const MACH = 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2D';
const AGENT = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const JTI = '3b241101-e2bb-4255-8caf-4136c566a962';
const HASH = delegationPolicyHash(defaultDelegationPolicy());

const pairing: AgentPairing = {
  id: PAIR,
  machineId: MACH,
  status: 'active',
  agentAddress: AGENT,
  agentDid: `did:pkh:eip155:1:${AGENT}`,
  agentProvider: 'anthropic',
  agentRole: 'buyer',
  description: null,
  verification: null,
  delegationPolicy: defaultDelegationPolicy(),
  hasAuthToken: true,
  tokenLastFour: 'abcd',
  sessionId: 'sess_1',
  sessionTokenId: JTI,
  sessionIssuedAt: T0,
  sessionExpiresAt: '2026-01-01T01:00:00.000Z',
  createdAt: T0,
  updatedAt: T0,
};

const claims: SessionClaims = {
  machineId: MACH,
  pairingId: PAIR,
  sessionId: 'sess_1',
  agentAddress: AGENT,
  agentDid: `did:pkh:eip155:1:${AGENT}`,
  delegationPolicyHash: HASH,
  iat: 1767225600,
  exp: 1767229200,
  jti: JTI,
};

const created: AgentPairingEvent = { type: 'agent_pairing.created', data: pairing };
const stateOf = (...events: AgentPairingEvent[]) => fold(agentPairingDecider, [created, ...events]);

describe('§1.2 agent pairing token verification', () => {
  it('1. a required header that is absent → 401 AGENT_AUTH_REQUIRED', () =>
    expect(
      refusal(() => {
        throw agentAuthRequired();
      }),
    ).toEqual({ code: 'AGENT_AUTH_REQUIRED', details: undefined }));

  describe('steps 2–4 (SessionTokens port failures) as API errors', () => {
    it.each(['malformed', 'bad_signature'] as const)('%s → 401 AGENT_AUTH_INVALID with that reason', (reason) =>
      expect(
        refusal(() => {
          throw sessionTokenError({ reason });
        }),
      ).toEqual({ code: 'AGENT_AUTH_INVALID', details: { reason } }),
    );

    it('expired → 401 AGENT_AUTH_EXPIRED with expiredAt', () =>
      expect(
        refusal(() => {
          throw sessionTokenError({ reason: 'expired', expiredAt: '2026-01-01T01:00:00.000Z' });
        }),
      ).toEqual({ code: 'AGENT_AUTH_EXPIRED', details: { expiredAt: '2026-01-01T01:00:00.000Z' } }));
  });

  describe('steps 5–8 against the pairing', () => {
    it('returns the pairing for a current token', () => expect(checkSessionAgainstPairing(stateOf(), claims)).toEqual(pairing));

    it('5. unknown_pairing when the pairing does not exist', () =>
      expect(refusal(() => checkSessionAgainstPairing(agentPairingDecider.initialState(), claims))).toEqual({
        code: 'AGENT_AUTH_INVALID',
        details: { reason: 'unknown_pairing' },
      }));

    it('5. unknown_pairing when the pairing belongs to another machine', () =>
      expect(refusal(() => checkSessionAgainstPairing(stateOf(), { ...claims, machineId: 'mach_other' }))).toEqual({
        code: 'AGENT_AUTH_INVALID',
        details: { reason: 'unknown_pairing' },
      }));

    it('5. unknown_pairing when the folded pairing is another one', () =>
      expect(refusal(() => checkSessionAgainstPairing(stateOf(), { ...claims, pairingId: 'pair_other' }))).toMatchObject({
        details: { reason: 'unknown_pairing' },
      }));

    it('6. pairing_revoked for a revoked pairing (before the session check, which revocation cleared)', () =>
      expect(
        refusal(() =>
          checkSessionAgainstPairing(
            stateOf({ type: 'agent_pairing.revoked', data: { from: 'active', to: 'revoked', force: false, at: T0 } }),
            claims,
          ),
        ),
      ).toEqual({ code: 'AGENT_AUTH_INVALID', details: { reason: 'pairing_revoked' } }));

    it('6. a paused pairing → 403 AGENT_PAIRING_INACTIVE with pairingId and status', () =>
      expect(
        refusal(() =>
          checkSessionAgainstPairing(
            stateOf({ type: 'agent_pairing.status_changed', data: { from: 'active', to: 'paused', at: T0 } }),
            claims,
          ),
        ),
      ).toEqual({ code: 'AGENT_PAIRING_INACTIVE', details: { pairingId: PAIR, status: 'paused' } }));

    it('6. a resumed pairing accepts its unexpired token again', () =>
      expect(
        checkSessionAgainstPairing(
          stateOf(
            { type: 'agent_pairing.status_changed', data: { from: 'active', to: 'paused', at: T0 } },
            { type: 'agent_pairing.status_changed', data: { from: 'paused', to: 'active', at: T0 } },
          ),
          claims,
        ).status,
      ).toBe('active'));

    it('7. session_rotated after a rotation', () => {
      const rotated: AgentPairingEvent = {
        type: 'agent_pairing.session_issued',
        data: {
          sessionId: 'sess_2',
          sessionTokenId: '9b0c1f5e-5c1a-4d5e-9a57-7c1b2f3d4e5f',
          sessionIssuedAt: T0,
          sessionExpiresAt: '2026-01-01T01:00:00.000Z',
          tokenLastFour: 'wxyz',
          delegationPolicyHash: HASH,
          previousSessionId: 'sess_1',
          at: T0,
        },
      };
      expect(refusal(() => checkSessionAgainstPairing(stateOf(rotated), claims))).toEqual({
        code: 'AGENT_AUTH_INVALID',
        details: { reason: 'session_rotated' },
      });
    });

    it('7. session_rotated when only the jti differs', () =>
      expect(
        refusal(() => checkSessionAgainstPairing(stateOf(), { ...claims, jti: '00000000-0000-4000-8000-000000000000' })),
      ).toMatchObject({
        details: { reason: 'session_rotated' },
      }));

    it('8. policy_changed after a PATCH changed the policy', () => {
      const policy = { ...defaultDelegationPolicy(), currency: 'EUR' };
      const changed: AgentPairingEvent = {
        type: 'agent_pairing.policy_changed',
        data: { changes: { currency: 'EUR' }, delegationPolicy: policy, delegationPolicyHash: delegationPolicyHash(policy), at: T0 },
      };
      expect(refusal(() => checkSessionAgainstPairing(stateOf(changed), claims))).toEqual({
        code: 'AGENT_AUTH_INVALID',
        details: { reason: 'policy_changed' },
      });
    });

    it('7 before 8: a rotated session with a stale hash is session_rotated', () =>
      expect(
        refusal(() => checkSessionAgainstPairing(stateOf(), { ...claims, sessionId: 'sess_0', delegationPolicyHash: 'x' })),
      ).toMatchObject({
        details: { reason: 'session_rotated' },
      }));
  });

  describe('step 9: binding to the request', () => {
    it('accepts the token’s machine and pairing, or no named pairing', () => {
      expect(() => checkSessionBinding(claims, { machineId: MACH, pairingId: PAIR })).not.toThrow();
      expect(() => checkSessionBinding(claims, { machineId: MACH })).not.toThrow();
      expect(() => checkSessionBinding(claims, { machineId: MACH, pairingId: null })).not.toThrow();
    });

    it('machine_mismatch for another machine', () =>
      expect(refusal(() => checkSessionBinding(claims, { machineId: 'mach_other', pairingId: PAIR }))).toEqual({
        code: 'AGENT_AUTH_INVALID',
        details: { reason: 'machine_mismatch' },
      }));

    it('pairing_mismatch for another pairing', () =>
      expect(refusal(() => checkSessionBinding(claims, { machineId: MACH, pairingId: 'pair_other' }))).toEqual({
        code: 'AGENT_AUTH_INVALID',
        details: { reason: 'pairing_mismatch' },
      }));

    it('the machine is checked before the pairing', () =>
      expect(refusal(() => checkSessionBinding(claims, { machineId: 'mach_other', pairingId: 'pair_other' }))).toMatchObject({
        details: { reason: 'machine_mismatch' },
      }));
  });
});
