import { refusal } from '../../../test/support/refusal';
import { canonicalJson } from '../shared/canonical-json';
import {
  assertDelegationLimitsAllow,
  assertDelegationListsAllow,
  changedPolicyMembers,
  defaultDelegationPolicy,
  DelegationPolicy,
  delegationLimitViolations,
  delegationListViolations,
  delegationPolicyHash,
  mergeDelegationPolicy,
  normaliseDelegationPolicy,
  SpendFacts,
} from './delegation-policy';

const PAIR = 'pair_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const DAY = '2026-01-01';

const policy = (overrides: Partial<DelegationPolicy> = {}): DelegationPolicy => ({ ...defaultDelegationPolicy(), ...overrides });

describe('§5.6 delegationPolicyHash', () => {
  it('test vector 1: the default policy', () => {
    const normalised = normaliseDelegationPolicy();
    expect(canonicalJson(normalised)).toBe(
      '{"allowedServiceIds":[],"allowedSkillKeys":[],"currency":null,"dailySpendLimit":null,"deniedServiceIds":[],"deniedSkillKeys":[],"perTransactionLimit":null}',
    );
    expect(delegationPolicyHash(normalised)).toBe('9b31caa298aa2cb3d2276c7de05d6d1b7f1cd394a83077589c96152a5891ca48');
  });

  it('test vector 2: lists, limits and currency', () => {
    const normalised = normaliseDelegationPolicy({
      allowedSkillKeys: ['oracle.price-feed'],
      deniedServiceIds: ['svc.bad'],
      perTransactionLimit: 5,
      dailySpendLimit: 25.5,
      currency: 'USDT',
    });
    expect(canonicalJson(normalised)).toBe(
      '{"allowedServiceIds":[],"allowedSkillKeys":["oracle.price-feed"],"currency":"USDT","dailySpendLimit":25.5,"deniedServiceIds":["svc.bad"],"deniedSkillKeys":[],"perTransactionLimit":5}',
    );
    expect(delegationPolicyHash(normalised)).toBe('629db099a54f6c0c52c0e4b5db5d0c9c61e62ae73fbdd93afd37b0d91c6e2f25');
  });

  it('upper-cases the currency before hashing', () =>
    expect(delegationPolicyHash(normaliseDelegationPolicy({ currency: 'usdt', perTransactionLimit: 5 }))).toBe(
      delegationPolicyHash(normaliseDelegationPolicy({ currency: 'USDT', perTransactionLimit: 5 })),
    ));

  it('hashes exactly the seven members, whatever else the object carries', () => {
    const withExtra = { ...policy(), extra: 'x' } as DelegationPolicy;
    expect(delegationPolicyHash(withExtra)).toBe('9b31caa298aa2cb3d2276c7de05d6d1b7f1cd394a83077589c96152a5891ca48');
  });

  it('keeps list order and duplicates significant (arrays are not sorted)', () => {
    const ab = delegationPolicyHash(policy({ allowedSkillKeys: ['a', 'b'] }));
    expect(delegationPolicyHash(policy({ allowedSkillKeys: ['b', 'a'] }))).not.toBe(ab);
    expect(delegationPolicyHash(policy({ allowedSkillKeys: ['a', 'b', 'b'] }))).not.toBe(ab);
  });
});

describe('§5.1 normalisation and §5.8.6 member-by-member merge', () => {
  it('defaults every omitted member at creation', () =>
    expect(normaliseDelegationPolicy({ deniedSkillKeys: ['x'] })).toEqual(policy({ deniedSkillKeys: ['x'] })));

  it('keeps lists exactly as given and copies them', () => {
    const lists = ['b', 'a', 'b'];
    const normalised = normaliseDelegationPolicy({ allowedServiceIds: lists });
    lists.push('c');
    expect(normalised.allowedServiceIds).toEqual(['b', 'a', 'b']);
  });

  it('replaces present members and leaves absent ones unchanged', () => {
    const stored = policy({ allowedSkillKeys: ['s1'], deniedServiceIds: ['v1'], perTransactionLimit: 5, currency: 'USDT' });
    expect(mergeDelegationPolicy(stored, { deniedServiceIds: ['v2'], dailySpendLimit: 20 })).toEqual(
      policy({ allowedSkillKeys: ['s1'], deniedServiceIds: ['v2'], perTransactionLimit: 5, dailySpendLimit: 20, currency: 'USDT' }),
    );
  });

  it('null clears a limit or the currency', () => {
    const stored = policy({ perTransactionLimit: 5, dailySpendLimit: 10, currency: 'USDT' });
    expect(mergeDelegationPolicy(stored, { perTransactionLimit: null, currency: null })).toEqual(policy({ dailySpendLimit: 10 }));
  });

  it('a list sent as null is absent (§0.3), an empty list replaces', () => {
    const stored = policy({ allowedSkillKeys: ['s1'], deniedSkillKeys: ['s2'] });
    expect(mergeDelegationPolicy(stored, { allowedSkillKeys: null, deniedSkillKeys: [] })).toEqual(policy({ allowedSkillKeys: ['s1'] }));
  });

  it('does not mutate the stored policy', () => {
    const stored = policy({ allowedSkillKeys: ['s1'] });
    mergeDelegationPolicy(stored, { allowedSkillKeys: ['s2'], currency: 'eur' });
    expect(stored).toEqual(policy({ allowedSkillKeys: ['s1'] }));
  });

  it('reports only the members whose value changed', () => {
    const before = policy({ allowedSkillKeys: ['a'], currency: 'USDT', perTransactionLimit: 5 });
    const after = mergeDelegationPolicy(before, {
      allowedSkillKeys: ['a'],
      currency: 'usdt',
      perTransactionLimit: 6,
      deniedSkillKeys: ['x'],
    });
    expect(changedPolicyMembers(before, after)).toEqual({ perTransactionLimit: 6, deniedSkillKeys: ['x'] });
  });
});

describe('§5.7 allow and deny lists', () => {
  const subject = { skillKey: 'oracle.price-feed', serviceId: 'svc.feed' };

  it('allows everything with empty lists', () => expect(delegationListViolations(policy(), subject)).toEqual([]));

  it.each<[string, string, Partial<DelegationPolicy>]>([
    ['1. skill in deniedSkillKeys', 'skill_denied', { deniedSkillKeys: ['oracle.price-feed'] }],
    ['2. allowedSkillKeys non-empty without the skill', 'skill_not_allowed', { allowedSkillKeys: ['vision.detect'] }],
    ['3. service in deniedServiceIds', 'service_denied', { deniedServiceIds: ['svc.feed'] }],
    ['4. allowedServiceIds non-empty without the service', 'service_not_allowed', { allowedServiceIds: ['svc.other'] }],
  ])('%s → AGENT_POLICY_DENIED %s', (_label, reason, lists) =>
    expect(refusal(() => assertDelegationListsAllow(policy(lists), subject, PAIR))).toEqual({
      code: 'AGENT_POLICY_DENIED',
      details: { source: 'delegationPolicy', reason, pairingId: PAIR, skillKey: subject.skillKey, serviceId: subject.serviceId },
    }),
  );

  it('deny beats allow', () =>
    expect(
      delegationListViolations(policy({ allowedSkillKeys: ['oracle.price-feed'], deniedSkillKeys: ['oracle.price-feed'] }), subject),
    ).toEqual(['skill_denied']));

  it('lists every failing check in the spec order (for search, §6.4.4 X4)', () =>
    expect(
      delegationListViolations(
        policy({
          deniedSkillKeys: ['oracle.price-feed'],
          allowedSkillKeys: ['x'],
          deniedServiceIds: ['svc.feed'],
          allowedServiceIds: ['y'],
        }),
        subject,
      ),
    ).toEqual(['skill_denied', 'skill_not_allowed', 'service_denied', 'service_not_allowed']));

  it('compares exactly: case-sensitive, no wildcards, no prefixes', () => {
    expect(delegationListViolations(policy({ deniedSkillKeys: ['Oracle.Price-Feed', 'oracle.*', 'oracle'] }), subject)).toEqual([]);
    expect(delegationListViolations(policy({ allowedServiceIds: ['svc.*'] }), subject)).toEqual(['service_not_allowed']);
  });

  it('passes when the subject is allowed by both allow lists', () =>
    expect(() =>
      assertDelegationListsAllow(policy({ allowedSkillKeys: ['oracle.price-feed'], allowedServiceIds: ['svc.feed'] }), subject, PAIR),
    ).not.toThrow());
});

describe('§5.7 limits', () => {
  const facts = (overrides: Partial<SpendFacts> = {}): SpendFacts => ({
    amount: 5,
    currency: 'USDT',
    spentToday: '0',
    day: DAY,
    ...overrides,
  });
  const limits = (overrides: Partial<DelegationPolicy> = {}) =>
    policy({ perTransactionLimit: 5, dailySpendLimit: 25.5, currency: 'USDT', ...overrides });
  const check = (p: DelegationPolicy, f: SpendFacts) => refusal(() => assertDelegationLimitsAllow(p, f, PAIR));

  it('allows an amount equal to each limit', () => {
    expect(delegationLimitViolations(limits(), facts({ amount: 5, spentToday: '20.5' }))).toEqual([]);
  });

  it('allows anything without limits, whatever the currency or amount', () =>
    expect(delegationLimitViolations(policy({ currency: 'USDT' }), facts({ amount: null, currency: 'EUR' }))).toEqual([]));

  describe('currency (§7.3 step 3)', () => {
    it('refuses a known different currency with AGENT_POLICY_DENIED currency_mismatch', () =>
      expect(check(limits(), facts({ currency: 'eur' }))).toEqual({
        code: 'AGENT_POLICY_DENIED',
        details: { source: 'delegationPolicy', reason: 'currency_mismatch', pairingId: PAIR, currency: 'EUR', policyCurrency: 'USDT' },
      }));

    it('compares currencies upper-cased', () => expect(delegationLimitViolations(limits(), facts({ currency: 'usdt' }))).toEqual([]));

    it('assumes an unknown currency is the policy currency', () =>
      expect(delegationLimitViolations(limits(), facts({ currency: null }))).toEqual([]));

    it('compares bare amounts when the policy has no currency', () =>
      expect(delegationLimitViolations(limits({ currency: null }), facts({ currency: 'EUR' }))).toEqual([]));

    it('ignores the currency when no limit is set', () =>
      expect(delegationLimitViolations(limits({ perTransactionLimit: null, dailySpendLimit: null }), facts({ currency: 'EUR' }))).toEqual(
        [],
      ));

    it('comes before the per-transaction limit', () =>
      expect(check(limits(), facts({ currency: 'EUR', amount: 500 }))).toMatchObject({ details: { reason: 'currency_mismatch' } }));
  });

  describe('perTransactionLimit (§7.3 step 4)', () => {
    it('refuses an amount above the limit with AGENT_SPEND_LIMIT_EXCEEDED, amounts as decimal strings', () =>
      expect(check(limits(), facts({ amount: 5.000001 }))).toEqual({
        code: 'AGENT_SPEND_LIMIT_EXCEEDED',
        details: { amount: '5.000001', currency: 'USDT', limit: '5' },
      }));

    it('accepts decimal-string amounts and compares them exactly', () => {
      expect(
        delegationLimitViolations(limits({ perTransactionLimit: 0.3 }), facts({ amount: '0.30000000000000000000000000000000001' })),
      ).toEqual([{ kind: 'per_transaction', amount: '0.30000000000000000000000000000000001', currency: 'USDT', limit: '0.3' }]);
      expect(delegationLimitViolations(limits({ perTransactionLimit: 0.3, dailySpendLimit: null }), facts({ amount: '0.300' }))).toEqual(
        [],
      );
    });

    it('refuses an unknown amount with reason amount_unknown', () =>
      expect(check(limits(), facts({ amount: null }))).toEqual({
        code: 'AGENT_SPEND_LIMIT_EXCEEDED',
        details: { reason: 'amount_unknown', amount: null, currency: 'USDT', limit: '5' },
      }));

    it("reports the order's currency when the policy has none", () =>
      expect(check(limits({ currency: null }), facts({ amount: 6, currency: 'EUR' }))).toEqual({
        code: 'AGENT_SPEND_LIMIT_EXCEEDED',
        details: { amount: '6', currency: 'EUR', limit: '5' },
      }));

    it('a zero limit refuses any positive amount and allows zero', () => {
      expect(delegationLimitViolations(policy({ perTransactionLimit: 0 }), facts({ amount: 0 }))).toEqual([]);
      expect(check(policy({ perTransactionLimit: 0 }), facts({ amount: 1e-7 }))).toMatchObject({
        details: { amount: '0.0000001', limit: '0' },
      });
    });
  });

  describe('dailySpendLimit (§7.3 step 5)', () => {
    it('refuses when spentToday + amount exceeds the limit', () =>
      expect(check(limits(), facts({ amount: 5, spentToday: '20.6' }))).toEqual({
        code: 'AGENT_DAILY_LIMIT_EXCEEDED',
        details: { amount: '5', spentToday: '20.6', limit: '25.5', currency: 'USDT', day: DAY },
      }));

    it('refuses an unknown amount with reason amount_unknown when only a daily limit is set', () =>
      expect(check(limits({ perTransactionLimit: null }), facts({ amount: null, spentToday: '1' }))).toEqual({
        code: 'AGENT_DAILY_LIMIT_EXCEEDED',
        details: { reason: 'amount_unknown', amount: null, spentToday: '1', limit: '25.5', currency: 'USDT', day: DAY },
      }));

    it('adds exactly (0.1 + 0.2 against a limit of 0.3)', () =>
      expect(delegationLimitViolations(policy({ dailySpendLimit: 0.3 }), facts({ amount: 0.2, spentToday: '0.1' }))).toEqual([]));

    it('the per-transaction limit comes first', () =>
      expect(check(limits(), facts({ amount: 6, spentToday: '25' })).code).toBe('AGENT_SPEND_LIMIT_EXCEEDED'));
  });

  it('lists every failing check in the order of §7.3 steps 3–5 (for search, §6.4.4 X7)', () =>
    expect(delegationLimitViolations(limits(), facts({ amount: 30, currency: 'EUR', spentToday: '1' }))).toEqual([
      { kind: 'currency_mismatch', currency: 'EUR', policyCurrency: 'USDT' },
      { kind: 'per_transaction', amount: '30', currency: 'USDT', limit: '5' },
      { kind: 'daily', amount: '30', spentToday: '1', currency: 'USDT', limit: '25.5', day: DAY },
    ]));
});
