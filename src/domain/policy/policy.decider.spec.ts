import { deciderSpec, illegal, legal, Transition, transitionTable } from '../../../test/support/decider-spec';
import { fold } from '../shared/decider';
import { chainHash, GENESIS_HASH } from '../shared/hash-chain';
import { mergePolicyRules, Policy, PolicyCommand, policyDecider, PolicyEvent, PolicyRules, policyStream } from './policy.decider';

const T0 = '2026-01-01T00:00:00.000Z';
const NOW = '2026-01-02T00:00:00.000Z';
const ID = 'pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C';

const spec = deciderSpec(policyDecider, { now: NOW });

function policy(overrides: Partial<Policy> = {}): Policy {
  return {
    id: ID,
    name: 'Price feeds only',
    description: 'Oracles, capped',
    rules: { maxOrderAmount: 5, currency: 'USDT', allowedServiceTypes: ['oracle.price-feed'] },
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

const created = (overrides: Partial<Policy> = {}): PolicyEvent => ({ type: 'policy.created', data: policy(overrides) });
const updated = (changes: Extract<PolicyEvent, { type: 'policy.updated' }>['data']['changes'], at = NOW): PolicyEvent => ({
  type: 'policy.updated',
  data: { changes, at },
});
const deleted: PolicyEvent = { type: 'policy.deleted', data: { id: ID } };

const create = (extra: Partial<Extract<PolicyCommand, { type: 'create' }>> = {}): PolicyCommand => ({
  type: 'create',
  id: ID,
  name: 'Price feeds only',
  ...extra,
});
const update = (extra: Partial<Extract<PolicyCommand, { type: 'update' }>> = {}): PolicyCommand => ({ type: 'update', id: ID, ...extra });
const remove = (referencedBy: string[] = []): PolicyCommand => ({ type: 'delete', id: ID, referencedBy });

describe('policy decider', () => {
  describe('every (state, command) pair', () => {
    type StateName = 'none' | 'live' | 'deleted';
    type CommandName = 'create' | 'update (a change)' | 'update (no change)' | 'delete (unused)' | 'delete (in use)';
    const STATES: Record<StateName, PolicyEvent[]> = { none: [], live: [created()], deleted: [created(), deleted] };
    const COMMANDS: Record<CommandName, PolicyCommand> = {
      create: create({ description: 'Oracles, capped', rules: policy().rules }),
      'update (a change)': update({ name: 'Renamed' }),
      'update (no change)': update({ name: 'Price feeds only' }),
      'delete (unused)': remove(),
      'delete (in use)': remove(['mach_1']),
    };

    transitionTable(spec, {
      states: (Object.keys(STATES) as StateName[]).map((name) => ({ name, given: STATES[name] })),
      commands: (Object.keys(COMMANDS) as CommandName[]).map((name) => ({ name, command: COMMANDS[name] })),
      expect(state, command): Transition<PolicyEvent> {
        if (command === 'create') {
          return state === 'none'
            ? legal([created({ createdAt: NOW, updatedAt: NOW })])
            : illegal('STATE_CONFLICT', { entityType: 'policy', id: ID, reason: 'exists' });
        }
        if (state !== 'live') return illegal('NOT_FOUND', { entityType: 'policy', id: ID });
        switch (command) {
          case 'update (a change)':
            return legal([updated({ name: 'Renamed' })]);
          case 'update (no change)':
            return legal([]);
          case 'delete (unused)':
            return legal([deleted]);
          case 'delete (in use)':
            return illegal('POLICY_IN_USE', { policyId: ID, machineIds: ['mach_1'] });
        }
      },
    });
  });

  describe('create', () => {
    it('creates the policy as the API returns it: description "" and rules {} by default', () =>
      spec
        .given([])
        .when(create())
        .then([created({ description: '', rules: {}, createdAt: NOW, updatedAt: NOW })]));

    it('upper-cases the currency, lower-cases provider keys, drops duplicates and null members, in the order of §8.6', () => {
      const outcome = policyDecider.decide(
        create({
          rules: {
            requireNativeExecution: false,
            deniedProviderKeys: ['Bad.Provider', 'bad.provider'],
            allowedServiceTypes: ['oracle.price-feed', 'oracle.price-feed', 'storage.object'],
            allowedProviderKeys: [],
            currency: 'usdt',
            maxOrderAmount: null,
          },
        }),
        policyDecider.initialState(),
        { now: NOW },
      );
      const rules = (outcome[0].data as Policy).rules;
      expect(rules).toEqual({
        currency: 'USDT',
        allowedProviderKeys: [],
        deniedProviderKeys: ['bad.provider'],
        allowedServiceTypes: ['oracle.price-feed', 'storage.object'],
        requireNativeExecution: false,
      });
      expect(Object.keys(rules)).toEqual([
        'currency',
        'allowedProviderKeys',
        'deniedProviderKeys',
        'allowedServiceTypes',
        'requireNativeExecution',
      ]);
    });
  });

  describe('update (§8.6 PATCH merge)', () => {
    it('merges rules member by member: present members replace, absent ones are kept', () =>
      spec
        .given([created()])
        .when(update({ rules: { maxOrderAmount: 10, deniedProviderKeys: ['X.Y'] } }))
        .then([
          updated({
            rules: { maxOrderAmount: 10, currency: 'USDT', deniedProviderKeys: ['x.y'], allowedServiceTypes: ['oracle.price-feed'] },
          }),
        ]));

    it('removes a member sent as null', () =>
      spec
        .given([created()])
        .when(update({ rules: { currency: null, allowedServiceTypes: null } }))
        .then([updated({ rules: { maxOrderAmount: 5 } })]));

    it('replaces name and description, recording only what changed', () =>
      spec
        .given([created()])
        .when(update({ name: 'Price feeds only', description: '' }))
        .then([updated({ description: '' })]));

    it('writes nothing when nothing changes (same values, a currency in another case, null for an unset member)', () =>
      spec
        .given([created()])
        .when(update({ name: 'Price feeds only', rules: { currency: 'usdt', requireNativeExecution: null, maxOrderAmount: 5 } }))
        .then([]));

    it('moves updatedAt and keeps createdAt', () =>
      spec
        .given([created()])
        .when(update({ rules: { requireNativeExecution: true } }))
        .thenState({
          kind: 'live',
          policy: policy({ rules: { ...policy().rules, requireNativeExecution: true }, updatedAt: NOW }),
        }));

    it('folds successive updates', () => {
      const state = fold(policyDecider, [created(), updated({ name: 'A' }, '2026-01-01T01:00:00.000Z'), updated({ rules: {} })]);
      expect(state).toEqual({ kind: 'live', policy: policy({ name: 'A', rules: {}, updatedAt: NOW }) });
    });
  });

  describe('delete', () => {
    it('refuses to delete a policy non-archived machines still use, listing them', () =>
      spec
        .given([created()])
        .when(remove(['mach_1', 'mach_2']))
        .thenThrows('POLICY_IN_USE', { policyId: ID, machineIds: ['mach_1', 'mach_2'] }));

    it('deletes an unused policy with data { id }', () => spec.given([created()]).when(remove()).then([deleted]));

    it('leaves the policy NOT_FOUND afterwards', () => {
      spec
        .given([created(), deleted])
        .when(update({ name: 'Again' }))
        .thenThrows('NOT_FOUND', { entityType: 'policy', id: ID });
      spec.given([created(), deleted]).when(remove()).thenThrows('NOT_FOUND', { entityType: 'policy', id: ID });
      spec.given([created()]).when(remove()).thenState({ kind: 'deleted', id: ID });
    });
  });

  describe('mergePolicyRules', () => {
    it('keeps false, 0 and empty lists (they are set members)', () => {
      const rules: PolicyRules = { maxOrderAmount: 0, requireNativeExecution: false, allowedProviderKeys: [] };
      expect(mergePolicyRules({}, rules)).toEqual(rules);
    });
  });

  it('§8.7.3: events decided for the test vector chain to its hashes', () => {
    const at = { created: '2025-01-01T00:00:00.000Z', deleted: '2025-01-02T00:00:00.000Z' };
    const id = 'pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
    const { streamId } = policyStream(id);
    const [creation] = policyDecider.decide(
      { type: 'create', id, name: 'Price feeds only', rules: { allowedServiceTypes: ['oracle.price-feed'] } },
      policyDecider.initialState(),
      { now: at.created },
    );
    const [deletion] = policyDecider.decide({ type: 'delete', id, referencedBy: [] }, fold(policyDecider, [creation]), { now: at.deleted });

    const hash0 = chainHash({
      prevHash: GENESIS_HASH,
      streamId,
      streamRevision: 0,
      type: creation.type,
      data: creation.data,
      occurredAt: at.created,
    });
    const hash1 = chainHash({
      prevHash: hash0,
      streamId,
      streamRevision: 1,
      type: deletion.type,
      data: deletion.data,
      occurredAt: at.deleted,
    });
    expect(streamId).toBe('policy-pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C');
    expect(hash0).toBe('42af64ba2a437d447b7016c5c109fd43d50399c1ff6b9b4ad97e578c801c5cc1');
    expect(hash1).toBe('47e25650c20fa9f45d36c5c2ecf631aa1bc9843012fd27445eb17a2dfbed9cf4');
  });
});
