import { deciderSpec, illegal, legal, Transition, transitionTable } from '../../../test/support/decider-spec';
import { sha256Hex } from '../shared/canonical-json';
import {
  AgentPairing,
  AgentPairingCommand,
  AgentPairingEvent,
  agentPairingDecider,
  agentPairingStream,
  IssuedSession,
  PairingStatus,
  SessionIssuedData,
  VerifiedAgentProof,
} from './agent-pairing.decider';
import { DelegationPolicy, defaultDelegationPolicy, delegationPolicyHash } from './delegation-policy';
import { PAIRING_STATUS_TRANSITIONS, PAIRING_STATUSES } from './pairing-status';

const T0 = '2026-01-01T00:00:00.000Z';
const NOW = '2026-01-02T10:00:00.000Z';
const DAY = '2026-01-02';
const PAIR = 'pair_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const MACH = 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2D';
const AGENT = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const OTHER_ADDRESS = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';
const AGENT_DID = `did:pkh:eip155:1:${AGENT}`;
const SIGNATURE = '0x' + 'AB'.repeat(65);
const DEFAULT_HASH = '9b31caa298aa2cb3d2276c7de05d6d1b7f1cd394a83077589c96152a5891ca48';
/** 2026-01-01T00:00:00Z and one hour later, as NumericDate. */
const IAT0 = 1767225600;

const spec = deciderSpec(agentPairingDecider, { now: NOW });

const session = (n: number, hash = DEFAULT_HASH, iat = IAT0): IssuedSession => ({
  sessionId: `sess_${n}`,
  jti: `00000000-0000-4000-8000-00000000000${n}`,
  iat,
  exp: iat + 3600,
  tokenLastFour: `abc${n}`,
  delegationPolicyHash: hash,
});

const proof = (overrides: Partial<VerifiedAgentProof> = {}): VerifiedAgentProof => ({
  challengeId: 'chl_1',
  signerAddress: AGENT,
  challengeExpiresAt: '2026-01-02T10:10:00.000Z',
  signature: SIGNATURE,
  ...overrides,
});

function pairing(overrides: Partial<AgentPairing> = {}): AgentPairing {
  return {
    id: PAIR,
    machineId: MACH,
    status: 'active',
    agentAddress: AGENT,
    agentDid: AGENT_DID,
    agentProvider: 'anthropic',
    agentRole: 'buyer',
    description: null,
    verification: { method: 'eip191', signerAddress: AGENT, verifiedAt: T0, challengeExpiresAt: '2026-01-01T00:10:00.000Z' },
    delegationPolicy: defaultDelegationPolicy(),
    hasAuthToken: true,
    tokenLastFour: 'abc1',
    sessionId: 'sess_1',
    sessionTokenId: session(1).jti,
    sessionIssuedAt: T0,
    sessionExpiresAt: '2026-01-01T01:00:00.000Z',
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

const created = (overrides: Partial<AgentPairing> = {}): AgentPairingEvent => ({ type: 'agent_pairing.created', data: pairing(overrides) });
const statusChanged = (from: PairingStatus, to: PairingStatus, at = T0): AgentPairingEvent => ({
  type: 'agent_pairing.status_changed',
  data: { from, to, at },
});
const revoked = (from: PairingStatus, force = false, at = T0): AgentPairingEvent => ({
  type: 'agent_pairing.revoked',
  data: { from, to: 'revoked', force, at },
});
const policyChanged = (policy: DelegationPolicy, changes: Partial<DelegationPolicy>, at = T0): AgentPairingEvent => ({
  type: 'agent_pairing.policy_changed',
  data: { changes, delegationPolicy: policy, delegationPolicyHash: delegationPolicyHash(policy), at },
});
const registered = (orderId: string, amount: string | null, currency: string | null = 'USDT', day = DAY): AgentPairingEvent => ({
  type: 'agent_pairing.order_registered',
  data: { orderId, amount, currency, day },
});

/** The event history that leaves a pairing in each status. */
const HISTORY: Record<PairingStatus | 'none', AgentPairingEvent[]> = {
  none: [],
  active: [created()],
  paused: [created(), statusChanged('active', 'paused')],
  revoked: [created(), revoked('active')],
};

const sessionIssued = (n: number, previous: string | null, extra: Partial<SessionIssuedData> = {}): AgentPairingEvent => ({
  type: 'agent_pairing.session_issued',
  data: {
    sessionId: `sess_${n}`,
    sessionTokenId: session(n).jti,
    sessionIssuedAt: T0,
    sessionExpiresAt: '2026-01-01T01:00:00.000Z',
    tokenLastFour: `abc${n}`,
    delegationPolicyHash: DEFAULT_HASH,
    previousSessionId: previous,
    at: NOW,
    ...extra,
  },
});

const verifiedExtra = (): Partial<SessionIssuedData> => ({
  verification: { method: 'eip191', signerAddress: AGENT, verifiedAt: NOW, challengeExpiresAt: proof().challengeExpiresAt },
  challengeId: 'chl_1',
  signatureFingerprint: sha256Hex(SIGNATURE.toLowerCase()),
});

const create = (extra: Partial<Extract<AgentPairingCommand, { type: 'create' }>> = {}): AgentPairingCommand => ({
  type: 'create',
  id: PAIR,
  machineId: MACH,
  agentAddress: AGENT,
  agentProvider: 'anthropic',
  agentRole: 'buyer',
  verifiedProof: proof(),
  session: session(1),
  ...extra,
});
const rotate = (extra: Partial<Extract<AgentPairingCommand, { type: 'rotate_session' }>> = {}): AgentPairingCommand => ({
  type: 'rotate_session',
  id: PAIR,
  machineId: MACH,
  session: session(2),
  ...extra,
});
const update = (extra: Partial<Extract<AgentPairingCommand, { type: 'update' }>>): AgentPairingCommand => ({
  type: 'update',
  id: PAIR,
  machineId: MACH,
  ...extra,
});
const revoke = (extra: Partial<Extract<AgentPairingCommand, { type: 'revoke' }>> = {}): AgentPairingCommand => ({
  type: 'revoke',
  id: PAIR,
  machineId: MACH,
  openOrders: { orderIds: [] },
  ...extra,
});
const registerOrder = (extra: Partial<Extract<AgentPairingCommand, { type: 'register_order' }>> = {}): AgentPairingCommand => ({
  type: 'register_order',
  id: PAIR,
  machineId: MACH,
  orderId: 'ord_1',
  amount: 5,
  currency: 'USDT',
  subject: { skillKey: 'oracle.price-feed', serviceId: 'svc.feed' },
  ...extra,
});

const withPolicy = (policy: Partial<DelegationPolicy>): AgentPairingEvent[] => [
  created({ delegationPolicy: { ...defaultDelegationPolicy(), ...policy } }),
];

describe('agent pairing decider', () => {
  describe('status transitions (every status × every command)', () => {
    // The pairing table, written out independently of the decider's map: from → to → trigger.
    // prettier-ignore
    const TABLE: Record<PairingStatus, Record<PairingStatus, 'patch' | 'revoke' | '-' | 'N'>> = {
      active:  { active: '-', paused: 'patch', revoked: 'revoke' },
      paused:  { active: 'patch', paused: '-', revoked: 'revoke' },
      revoked: { active: 'N', paused: 'N', revoked: '-' },
    };

    const commands = [
      { name: 'create', command: create() },
      { name: 'pause', command: { type: 'pause', id: PAIR, machineId: MACH } as AgentPairingCommand },
      { name: 'resume', command: { type: 'resume', id: PAIR, machineId: MACH } as AgentPairingCommand },
      { name: 'PATCH status paused', command: update({ status: 'paused' }) },
      { name: 'PATCH status active', command: update({ status: 'active' }) },
      { name: 'PATCH description', command: update({ description: 'ops bot' }) },
      { name: 'PATCH policy', command: update({ delegationPolicy: { deniedSkillKeys: ['x'] } }) },
      { name: 'revoke', command: revoke() },
      { name: 'revoke force', command: revoke({ force: true }) },
      { name: 'rotate session', command: rotate() },
      { name: 'register order', command: registerOrder() },
    ] as const;
    type Name = (typeof commands)[number]['name'];

    const denied = { ...defaultDelegationPolicy(), deniedSkillKeys: ['x'] };
    const toStatus = (from: PairingStatus, to: PairingStatus): Transition<AgentPairingEvent> => {
      if (from === 'revoked')
        return illegal('STATE_CONFLICT', { entityType: 'agent-pairing', id: PAIR, status: 'revoked', reason: 'pairing_revoked' });
      return TABLE[from][to] === '-' ? legal([]) : legal([statusChanged(from, to, NOW)]);
    };

    transitionTable(spec, {
      states: (['none', ...PAIRING_STATUSES] as const).map((name) => ({ name, given: HISTORY[name] })),
      commands,
      expect(state, name: Name): Transition<AgentPairingEvent> {
        if (name === 'create') {
          return state === 'none'
            ? legal([
                {
                  type: 'agent_pairing.created',
                  data: pairing({ createdAt: NOW, updatedAt: NOW, verification: verifiedExtra().verification }),
                },
                sessionIssued(1, null, { sessionIssuedAt: T0, ...verifiedExtra() }),
              ])
            : illegal('STATE_CONFLICT', { reason: 'exists', entityType: 'agent-pairing', id: PAIR, status: state });
        }
        if (state === 'none') return illegal('NOT_FOUND', { entityType: 'agent-pairing', id: PAIR });
        switch (name) {
          case 'pause':
          case 'PATCH status paused':
            return toStatus(state, 'paused');
          case 'resume':
          case 'PATCH status active':
            return toStatus(state, 'active');
          case 'PATCH description':
            return state === 'revoked'
              ? illegal('STATE_CONFLICT', { reason: 'pairing_revoked' })
              : legal([{ type: 'agent_pairing.updated', data: { changes: { description: 'ops bot' }, at: NOW } }]);
          case 'PATCH policy':
            return state === 'revoked'
              ? illegal('STATE_CONFLICT', { reason: 'pairing_revoked' })
              : legal([policyChanged(denied, { deniedSkillKeys: ['x'] }, NOW)]);
          case 'revoke':
          case 'revoke force':
            return TABLE[state].revoked === '-' ? legal([]) : legal([revoked(state, name === 'revoke force', NOW)]);
          case 'rotate session':
            return state === 'active'
              ? legal([sessionIssued(2, 'sess_1', { tokenLastFour: 'abc2' })])
              : illegal('AGENT_PAIRING_INACTIVE', { pairingId: PAIR, status: state });
          case 'register order':
            return state === 'active'
              ? legal([registered('ord_1', '5')])
              : illegal('AGENT_PAIRING_INACTIVE', { pairingId: PAIR, status: state });
        }
      },
    });

    it('the decider map equals the table', () => {
      for (const from of PAIRING_STATUSES) {
        for (const to of PAIRING_STATUSES) {
          const trigger = TABLE[from][to];
          expect(PAIRING_STATUS_TRANSITIONS[from][to]).toBe(trigger === '-' || trigger === 'N' ? undefined : trigger);
        }
      }
    });

    it('a PATCH can never revoke (revoked is only reachable through the revoke endpoint)', () =>
      spec
        .given(HISTORY.active)
        .when(update({ status: 'revoked' as 'paused' }))
        .thenThrows('STATE_CONFLICT', { reason: 'invalid_transition', status: 'active', allowed: ['paused'] }));

    it('answers NOT_FOUND for a pairing of another machine, for every command', () => {
      for (const command of commands.filter((c) => c.name !== 'create')) {
        spec
          .given(HISTORY.active)
          .when({ ...command.command, machineId: 'mach_other' })
          .thenThrows('NOT_FOUND', { entityType: 'agent-pairing', id: PAIR });
      }
    });
  });

  describe('create (§5.8.4)', () => {
    it('creates an active pairing as the API returns it, then records its first session with the proof fingerprint', () => {
      const hash = delegationPolicyHash({
        ...defaultDelegationPolicy(),
        allowedSkillKeys: ['oracle.price-feed'],
        currency: 'USDT',
        perTransactionLimit: 5,
      });
      spec
        .given([])
        .when(
          create({
            description: 'trading agent',
            delegationPolicy: { allowedSkillKeys: ['oracle.price-feed'], currency: 'usdt', perTransactionLimit: 5 },
            session: session(1, hash),
          }),
        )
        .then([
          {
            type: 'agent_pairing.created',
            data: {
              id: PAIR,
              machineId: MACH,
              status: 'active',
              agentAddress: AGENT,
              agentDid: AGENT_DID,
              agentProvider: 'anthropic',
              agentRole: 'buyer',
              description: 'trading agent',
              verification: { method: 'eip191', signerAddress: AGENT, verifiedAt: NOW, challengeExpiresAt: '2026-01-02T10:10:00.000Z' },
              delegationPolicy: {
                allowedSkillKeys: ['oracle.price-feed'],
                deniedSkillKeys: [],
                allowedServiceIds: [],
                deniedServiceIds: [],
                perTransactionLimit: 5,
                dailySpendLimit: null,
                currency: 'USDT',
              },
              hasAuthToken: true,
              tokenLastFour: 'abc1',
              sessionId: 'sess_1',
              sessionTokenId: '00000000-0000-4000-8000-000000000001',
              sessionIssuedAt: '2026-01-01T00:00:00.000Z',
              sessionExpiresAt: '2026-01-01T01:00:00.000Z',
              createdAt: NOW,
              updatedAt: NOW,
            },
          },
          sessionIssued(1, null, { ...verifiedExtra(), delegationPolicyHash: hash }),
        ]);
    });

    it('fails (CONCURRENCY_CONFLICT) when the token was signed with another policy hash than the normalised policy', () =>
      spec
        .given([])
        .when(create({ delegationPolicy: { perTransactionLimit: 5 } }))
        .thenThrows('CONCURRENCY_CONFLICT', { entityType: 'agent-pairing', id: PAIR }));

    it('accepts a session carrying the hash of the normalised policy', () => {
      const hash = delegationPolicyHash({ ...defaultDelegationPolicy(), perTransactionLimit: 5, currency: 'USDT' });
      spec
        .given([])
        .when(create({ delegationPolicy: { perTransactionLimit: 5, currency: 'usdt' }, session: session(1, hash) }))
        .thenState((s) => s.kind === 'live' && s.delegationPolicyHash === hash);
    });

    it('applies the defaults: empty policy, description null, derived DID', () =>
      spec
        .given([])
        .when(create({ verifiedProof: undefined }))
        .thenState(
          (s) =>
            s.kind === 'live' &&
            s.pairing.description === null &&
            s.pairing.agentDid === AGENT_DID &&
            s.pairing.verification === null &&
            JSON.stringify(s.pairing.delegationPolicy) === JSON.stringify(defaultDelegationPolicy()),
        ));

    it('stores the agent address and a supplied DID EIP-55 checksummed', () =>
      spec
        .given([])
        .when(create({ agentAddress: AGENT.toLowerCase(), agentDid: `did:pkh:eip155:137:${AGENT.toLowerCase()}` }))
        .thenState((s) => s.kind === 'live' && s.pairing.agentAddress === AGENT && s.pairing.agentDid === `did:pkh:eip155:137:${AGENT}`));

    it('refuses an invalid agentDid (VALIDATION_ERROR invalid_agent_did)', () =>
      spec
        .given([])
        .when(create({ agentDid: 'did:pkh:eip155:0:x' }))
        .thenThrows('VALIDATION_ERROR', { reason: 'invalid_agent_did' }));

    it('refuses an agentDid of another address (VALIDATION_ERROR agent_did_mismatch)', () =>
      spec
        .given([])
        .when(create({ agentDid: `did:pkh:eip155:1:${OTHER_ADDRESS}` }))
        .thenThrows('VALIDATION_ERROR', { reason: 'agent_did_mismatch' }));

    it('refuses a proof signed by another address (signer_mismatch)', () =>
      spec
        .given([])
        .when(create({ verifiedProof: proof({ signerAddress: OTHER_ADDRESS }) }))
        .thenThrows('AGENT_PAIRING_PROOF_INVALID', { reason: 'signer_mismatch', challengeId: 'chl_1' }));

    it('records a session without verification fields when no proof was verified (§5.3)', () =>
      spec
        .given([])
        .when(create({ verifiedProof: undefined }))
        .then([
          {
            type: 'agent_pairing.created',
            data: pairing({ createdAt: NOW, updatedAt: NOW, verification: null }),
          },
          sessionIssued(1, null),
        ]));

    it('never writes the signature or a token into an event', () => {
      const events = agentPairingDecider.decide(create(), agentPairingDecider.initialState(), { now: NOW });
      const text = JSON.stringify(events).toLowerCase();
      expect(text).not.toContain(SIGNATURE.slice(2).toLowerCase());
      expect(text).not.toContain('pairingtoken');
    });
  });

  describe('rotate session (§5.8.5, §5.5)', () => {
    it('issues a new session, superseding the current one', () =>
      spec
        .given(HISTORY.active)
        .when(rotate({ session: session(2, DEFAULT_HASH, IAT0 + 7200) }))
        .thenState(
          (s) =>
            s.kind === 'live' &&
            s.pairing.sessionId === 'sess_2' &&
            s.pairing.sessionTokenId === session(2).jti &&
            s.pairing.tokenLastFour === 'abc2' &&
            s.pairing.sessionIssuedAt === '2026-01-01T02:00:00.000Z' &&
            s.pairing.sessionExpiresAt === '2026-01-01T03:00:00.000Z' &&
            s.pairing.hasAuthToken &&
            s.pairing.updatedAt === NOW,
        ));

    it('updates verification when a proof was verified', () =>
      spec
        .given(HISTORY.active)
        .when(rotate({ verifiedProof: proof() }))
        .then([sessionIssued(2, 'sess_1', { tokenLastFour: 'abc2', ...verifiedExtra() })]));

    it('keeps the previous verification without a proof', () =>
      spec
        .given(HISTORY.active)
        .when(rotate())
        .thenState((s) => s.kind === 'live' && s.pairing.verification?.verifiedAt === T0));

    it('sets verification on a pairing created without one', () =>
      spec
        .given([created({ verification: null })])
        .when(rotate({ verifiedProof: proof() }))
        .thenState((s) => s.kind === 'live' && s.pairing.verification?.verifiedAt === NOW));

    it('carries the current policy hash; a session signed before a concurrent PATCH is refused (CONCURRENCY_CONFLICT)', () => {
      const denied = { ...defaultDelegationPolicy(), deniedSkillKeys: ['x'] };
      const history = [created(), policyChanged(denied, { deniedSkillKeys: ['x'] })];
      spec.given(history).when(rotate()).thenThrows('CONCURRENCY_CONFLICT', { entityType: 'agent-pairing', id: PAIR });
      spec
        .given(history)
        .when(rotate({ session: session(2, delegationPolicyHash(denied)) }))
        .thenState((s) => s.kind === 'live' && s.pairing.sessionId === 'sess_2');
    });

    it('refuses a proof signed by another address (signer_mismatch)', () =>
      spec
        .given(HISTORY.active)
        .when(rotate({ verifiedProof: proof({ signerAddress: OTHER_ADDRESS }) }))
        .thenThrows('AGENT_PAIRING_PROOF_INVALID', { reason: 'signer_mismatch' }));

    it('checks the status before the proof', () =>
      spec
        .given(HISTORY.paused)
        .when(rotate({ verifiedProof: proof({ signerAddress: OTHER_ADDRESS }) }))
        .thenThrows('AGENT_PAIRING_INACTIVE', { status: 'paused' }));
  });

  describe('update (§5.8.6)', () => {
    it('replaces description and role, writing only what changes', () =>
      spec
        .given([created({ description: 'a' })])
        .when(update({ description: 'b', agentRole: 'buyer' }))
        .then([{ type: 'agent_pairing.updated', data: { changes: { description: 'b' }, at: NOW } }]));

    it('null clears the description', () =>
      spec
        .given([created({ description: 'a' })])
        .when(update({ description: null }))
        .thenState((s) => s.kind === 'live' && s.pairing.description === null && s.pairing.updatedAt === NOW));

    it('merges the policy member by member and records the new policy and hash', () => {
      const stored = { ...defaultDelegationPolicy(), allowedSkillKeys: ['s1'], perTransactionLimit: 5, currency: 'USDT' };
      const next = { ...stored, perTransactionLimit: null, dailySpendLimit: 20 };
      spec
        .given(withPolicy(stored))
        .when(update({ delegationPolicy: { perTransactionLimit: null, dailySpendLimit: 20 } }))
        .then([policyChanged(next, { perTransactionLimit: null, dailySpendLimit: 20 }, NOW)]);
    });

    it('moves the hash with the policy (old tokens then fail with policy_changed)', () =>
      spec
        .given(HISTORY.active)
        .when(update({ delegationPolicy: { currency: 'eur' } }))
        .thenState(
          (s) => s.kind === 'live' && s.delegationPolicyHash === delegationPolicyHash({ ...defaultDelegationPolicy(), currency: 'EUR' }),
        ));

    it('writes nothing when the normalised policy is unchanged (same hash, tokens stay valid)', () =>
      spec
        .given(withPolicy({ allowedSkillKeys: ['a', 'b'], currency: 'USDT' }))
        .when(update({ delegationPolicy: { allowedSkillKeys: ['a', 'b'], currency: 'usdt', deniedSkillKeys: null } }))
        .then([]));

    it('a PATCH that changes nothing writes nothing', () =>
      spec
        .given(HISTORY.active)
        .when(update({ description: null, agentRole: 'buyer', status: 'active', delegationPolicy: {} }))
        .then([]));

    it('writes one event per kind of change, in a fixed order', () =>
      spec
        .given(HISTORY.active)
        .when(update({ status: 'paused', delegationPolicy: { currency: 'EUR' }, agentRole: 'ops' }))
        .then([
          { type: 'agent_pairing.updated', data: { changes: { agentRole: 'ops' }, at: NOW } },
          policyChanged({ ...defaultDelegationPolicy(), currency: 'EUR' }, { currency: 'EUR' }, NOW),
          statusChanged('active', 'paused', NOW),
        ]));

    it('a paused pairing can be re-policied and resumed in one PATCH', () =>
      spec
        .given(HISTORY.paused)
        .when(update({ status: 'active', delegationPolicy: { dailySpendLimit: 1 } }))
        .thenState((s) => s.kind === 'live' && s.pairing.status === 'active' && s.pairing.delegationPolicy.dailySpendLimit === 1));

    it('a revoked pairing refuses even a change-nothing PATCH', () =>
      spec.given(HISTORY.revoked).when(update({})).thenThrows('STATE_CONFLICT', { reason: 'pairing_revoked', status: 'revoked' }));

    it('pausing keeps the session (tokens revive on resume, §1.2)', () =>
      spec
        .given(HISTORY.active)
        .when(update({ status: 'paused' }))
        .thenState((s) => s.kind === 'live' && s.pairing.sessionId === 'sess_1' && s.pairing.hasAuthToken));
  });

  describe('revoke (§5.8.7)', () => {
    it('revokes and clears the session', () =>
      spec
        .given(HISTORY.active)
        .when(revoke())
        .thenState(
          (s) =>
            s.kind === 'live' &&
            s.pairing.status === 'revoked' &&
            s.pairing.hasAuthToken === false &&
            s.pairing.tokenLastFour === null &&
            s.pairing.sessionId === null &&
            s.pairing.sessionTokenId === null &&
            s.pairing.sessionIssuedAt === null &&
            s.pairing.sessionExpiresAt === null &&
            s.pairing.updatedAt === NOW,
        ));

    it('is idempotent: an already revoked pairing decides nothing, open orders or not', () =>
      spec
        .given(HISTORY.revoked)
        .when(revoke({ openOrders: { orderIds: ['ord_1'], executingOrderIds: ['ord_1'] } }))
        .then([]));

    it('refuses while orders are open, with their ids and count (OPEN_MARKET_ORDERS)', () =>
      spec
        .given(HISTORY.active)
        .when(revoke({ openOrders: { orderIds: ['ord_1', 'ord_2'] } }))
        .thenThrows('OPEN_MARKET_ORDERS', { orderIds: ['ord_1', 'ord_2'], count: 2 }));

    it('lists at most 100 order ids, with the full count', () => {
      const ids = Array.from({ length: 150 }, (_, i) => `ord_${i}`);
      spec
        .given(HISTORY.paused)
        .when(revoke({ openOrders: { orderIds: ids, count: 150 } }))
        .thenThrows('OPEN_MARKET_ORDERS', { orderIds: ids.slice(0, 100), count: 150 });
    });

    it('takes the count from the handler when it only passed the first ids', () =>
      spec
        .given(HISTORY.active)
        .when(revoke({ openOrders: { orderIds: ['ord_1'], count: 250 } }))
        .thenThrows('OPEN_MARKET_ORDERS', { orderIds: ['ord_1'], count: 250 }));

    it('with force, revokes despite open orders (the handler cancels them)', () =>
      spec
        .given(HISTORY.active)
        .when(revoke({ force: true, openOrders: { orderIds: ['ord_1', 'ord_2'], executingOrderIds: [] } }))
        .then([revoked('active', true, NOW)]));

    it('with force, still refuses while an order is executing (reason orders_executing)', () =>
      spec
        .given(HISTORY.active)
        .when(revoke({ force: true, openOrders: { orderIds: ['ord_1', 'ord_2', 'ord_3'], executingOrderIds: ['ord_2'] } }))
        .thenThrows('OPEN_MARKET_ORDERS', { reason: 'orders_executing', orderIds: ['ord_2'], count: 1 }));

    it('without force, open orders are reported without a reason even when some execute', () =>
      spec
        .given(HISTORY.active)
        .when(revoke({ openOrders: { orderIds: ['ord_1', 'ord_2'], executingOrderIds: ['ord_2'] } }))
        .thenThrows('OPEN_MARKET_ORDERS', { orderIds: ['ord_1', 'ord_2'], count: 2 }));
  });

  describe('register order (§5.7 spend, §7.3 evaluation order)', () => {
    const limited = withPolicy({ perTransactionLimit: 5, dailySpendLimit: 10, currency: 'USDT' });

    it('records the order with its normalised amount, upper-cased currency and UTC day', () =>
      spec
        .given(HISTORY.active)
        .when(registerOrder({ amount: '2.50', currency: 'usdt' }))
        .then([registered('ord_1', '2.5', 'USDT')]));

    it('records an unknown amount and currency as null when no limit is set', () =>
      spec
        .given(HISTORY.active)
        .when(registerOrder({ amount: null, currency: null }))
        .then([registered('ord_1', null, null)]));

    it('does not change updatedAt (the pairing as shown is unchanged)', () =>
      spec
        .given(HISTORY.active)
        .when(registerOrder())
        .thenState((s) => s.kind === 'live' && s.pairing.updatedAt === T0 && s.spend.size === 1));

    it('keeps only the latest day’s orders in the state', () =>
      spec
        .given([...HISTORY.active, registered('ord_old', '9', 'USDT', '2026-01-01'), registered('ord_a', '1')])
        .when(registerOrder({ orderId: 'ord_b', amount: '2' }))
        .thenState((s) => s.kind === 'live' && [...s.spend].map((o) => o.orderId).join() === 'ord_a,ord_b'));

    it('counts an order once: a repeated registration decides nothing', () =>
      spec
        .given([...HISTORY.active, registered('ord_1', '5')])
        .when(registerOrder())
        .then([]));

    it('1. allow/deny lists → AGENT_POLICY_DENIED (source delegationPolicy)', () =>
      spec
        .given(withPolicy({ deniedServiceIds: ['svc.feed'] }))
        .when(registerOrder())
        .thenThrows('AGENT_POLICY_DENIED', {
          source: 'delegationPolicy',
          reason: 'service_denied',
          pairingId: PAIR,
          serviceId: 'svc.feed',
        }));

    it('2. a machine policy denial comes after the lists (source machinePolicy, policyId)', () => {
      const machinePolicyDenial = { policyId: 'pol_1', reason: 'provider_denied', providerKey: 'acme' };
      spec
        .given(withPolicy({ allowedSkillKeys: ['other'] }))
        .when(registerOrder({ machinePolicyDenial }))
        .thenThrows('AGENT_POLICY_DENIED', { source: 'delegationPolicy', reason: 'skill_not_allowed' });
      spec
        .given(HISTORY.active)
        .when(registerOrder({ machinePolicyDenial }))
        .thenThrows('AGENT_POLICY_DENIED', { source: 'machinePolicy', policyId: 'pol_1', reason: 'provider_denied', providerKey: 'acme' });
    });

    it('3. currency_mismatch comes after machine policies', () => {
      spec
        .given(limited)
        .when(registerOrder({ currency: 'EUR', machinePolicyDenial: { policyId: 'pol_1', reason: 'x' } }))
        .thenThrows('AGENT_POLICY_DENIED', { source: 'machinePolicy' });
      spec
        .given(limited)
        .when(registerOrder({ currency: 'EUR' }))
        .thenThrows('AGENT_POLICY_DENIED', { reason: 'currency_mismatch' });
    });

    it('4. perTransactionLimit → AGENT_SPEND_LIMIT_EXCEEDED', () =>
      spec
        .given(limited)
        .when(registerOrder({ amount: 5.01 }))
        .thenThrows('AGENT_SPEND_LIMIT_EXCEEDED', { amount: '5.01', limit: '5', currency: 'USDT' }));

    it('4. an unknown amount with a perTransactionLimit → amount_unknown', () =>
      spec
        .given(limited)
        .when(registerOrder({ amount: null }))
        .thenThrows('AGENT_SPEND_LIMIT_EXCEEDED', { reason: 'amount_unknown' }));

    it("5. dailySpendLimit counts the day's registered orders", () =>
      spec
        .given([...limited, registered('ord_a', '4'), registered('ord_b', '1.5')])
        .when(registerOrder({ orderId: 'ord_c', amount: '4.6' }))
        .thenThrows('AGENT_DAILY_LIMIT_EXCEEDED', { amount: '4.6', spentToday: '5.5', limit: '10', currency: 'USDT', day: DAY }));

    it('5. reaching the daily limit exactly is allowed', () =>
      spec
        .given([...limited, registered('ord_a', '4'), registered('ord_b', '1.5')])
        .when(registerOrder({ orderId: 'ord_c', amount: '4.5' }))
        .then([registered('ord_c', '4.5')]));

    it('5. excluded orders (cancelled, failed, refunded) and other days do not count', () =>
      spec
        .given([...limited, registered('ord_a', '4'), registered('ord_b', '5'), registered('ord_old', '9', 'USDT', '2026-01-01')])
        .when(registerOrder({ orderId: 'ord_c', amount: '5', excludedOrderIds: ['ord_b'] }))
        .then([registered('ord_c', '5')]));

    it('5. orders of another known currency count as 0 while the policy has a currency', () =>
      spec
        .given([...limited, registered('ord_a', '9', 'EUR'), registered('ord_b', '4', null)])
        .when(registerOrder({ orderId: 'ord_c', amount: '5' }))
        .then([registered('ord_c', '5')]));

    it('5. an unknown amount with only a dailySpendLimit → AGENT_DAILY_LIMIT_EXCEEDED amount_unknown', () =>
      spec
        .given(withPolicy({ dailySpendLimit: 10 }))
        .when(registerOrder({ amount: null }))
        .thenThrows('AGENT_DAILY_LIMIT_EXCEEDED', { reason: 'amount_unknown', day: DAY }));

    it('a second concurrent order sees the first on retry (serialised through the pairing stream)', () => {
      const daily = withPolicy({ dailySpendLimit: 10, currency: 'USDT' });
      const first = agentPairingDecider.decide(registerOrder({ orderId: 'ord_a', amount: 6 }), fold(daily), { now: NOW });
      spec
        .given([...daily, ...first])
        .when(registerOrder({ orderId: 'ord_b', amount: 5 }))
        .thenThrows('AGENT_DAILY_LIMIT_EXCEEDED', { spentToday: '6', amount: '5' });
    });
  });

  it('names the stream agent-pairing-{pair} (§8.7.2)', () =>
    expect(agentPairingStream(PAIR, MACH)).toEqual({
      streamId: `agent-pairing-${PAIR}`,
      entityType: 'agent-pairing',
      entityId: PAIR,
      machineId: MACH,
    }));
});

function fold(events: AgentPairingEvent[]) {
  return events.reduce((s, e) => agentPairingDecider.evolve(s, e), agentPairingDecider.initialState());
}
