import { catalogService } from '../../../test/support/catalog-service';
import { refusal } from '../../../test/support/refusal';
import { CatalogService, MarketServicePricing } from '../catalog/catalog-types';
import {
  firstMachinePolicyDenial,
  machinePolicyError,
  machinePolicyExclusionReasons,
  MachinePolicySubject,
  machinePolicyViolations,
  policyDenialsForService,
} from './machine-policy';
import { PolicyRules } from './policy.decider';

const SUBJECT: MachinePolicySubject = { providerKey: 'acme', serviceType: 'oracle.price-feed', executionMode: 'native' };
const USDT_5 = { amount: 5, currency: 'USDT' };

const policy = (id: string, rules: PolicyRules) => ({ id, rules });
const violations = (
  rules: PolicyRules,
  subject: Partial<MachinePolicySubject> = {},
  amount: { amount: number | string | null; currency: string | null } = USDT_5,
) => machinePolicyViolations(policy('pol_1', rules), { ...SUBJECT, ...subject }, amount);

const service = ({
  pricing,
  ...overrides
}: Omit<Partial<CatalogService>, 'pricing'> & { pricing?: Partial<MarketServicePricing> } = {}) => {
  const base = catalogService(overrides);
  return { ...base, pricing: { ...base.pricing, ...pricing } };
};

describe('§8.6 machine policy rules', () => {
  it('an empty rule set, and empty lists, restrict nothing', () => {
    expect(violations({})).toEqual([]);
    expect(violations({ allowedProviderKeys: [], deniedProviderKeys: [], allowedServiceTypes: [] })).toEqual([]);
    expect(violations({ requireNativeExecution: false }, { executionMode: 'external-handoff' })).toEqual([]);
  });

  it('1. provider in deniedProviderKeys → provider_denied (deny is checked before allow)', () => {
    expect(violations({ deniedProviderKeys: ['acme'] })).toEqual(['provider_denied']);
    expect(violations({ deniedProviderKeys: ['acme'], allowedProviderKeys: ['acme'] })).toEqual(['provider_denied']);
    expect(violations({ deniedProviderKeys: ['other'] })).toEqual([]);
  });

  it('2. allowedProviderKeys non-empty without the provider → provider_not_allowed', () => {
    expect(violations({ allowedProviderKeys: ['other'] })).toEqual(['provider_not_allowed']);
    expect(violations({ allowedProviderKeys: ['other', 'acme'] })).toEqual([]);
  });

  it('3. allowedServiceTypes non-empty without the service type → service_type_not_allowed', () => {
    expect(violations({ allowedServiceTypes: ['storage.object'] })).toEqual(['service_type_not_allowed']);
    expect(violations({ allowedServiceTypes: ['storage.object', 'oracle.price-feed'] })).toEqual([]);
  });

  it('4. requireNativeExecution with a non-native mode → native_execution_required', () => {
    expect(violations({ requireNativeExecution: true }, { executionMode: 'external-handoff' })).toEqual(['native_execution_required']);
    expect(violations({ requireNativeExecution: true })).toEqual([]);
  });

  describe('5. maxOrderAmount', () => {
    it('allows an amount up to and including the limit, compared as exact decimals', () => {
      expect(violations({ maxOrderAmount: 5 })).toEqual([]);
      expect(violations({ maxOrderAmount: 5 }, {}, { amount: '5.000000000000000000000000000001', currency: null })).toEqual([
        'exceeds_max_order_amount',
      ]);
      // 0.1 + 0.2 in floating point is above 0.3; as decimals "0.3" equals 0.3.
      expect(violations({ maxOrderAmount: 0.3 }, {}, { amount: '0.3', currency: null })).toEqual([]);
      expect(violations({ maxOrderAmount: 1e-7 }, {}, { amount: '0.0000001', currency: null })).toEqual([]);
    });

    it('exceeds_max_order_amount above the limit; amount_unknown when the amount is unknown', () => {
      expect(violations({ maxOrderAmount: 4.99 })).toEqual(['exceeds_max_order_amount']);
      expect(violations({ maxOrderAmount: 0 }, {}, { amount: 0, currency: null })).toEqual([]);
      expect(violations({ maxOrderAmount: 100 }, {}, { amount: null, currency: 'USDT' })).toEqual(['amount_unknown']);
      expect(violations({ maxOrderAmount: 100 }, {}, { amount: null, currency: null })).toEqual(['amount_unknown']);
    });

    it('currency_mismatch when the policy and the order currencies are both known and differ (case-insensitively)', () => {
      expect(violations({ maxOrderAmount: 100, currency: 'USDC' })).toEqual(['currency_mismatch']);
      expect(violations({ maxOrderAmount: 100, currency: 'USDT' }, {}, { amount: 5, currency: 'usdt' })).toEqual([]);
      // The mismatch is the rule's one reason, even when the amount is also unknown or above the limit.
      expect(violations({ maxOrderAmount: 1, currency: 'USDC' })).toEqual(['currency_mismatch']);
      expect(violations({ maxOrderAmount: 1, currency: 'USDC' }, {}, { amount: null, currency: 'EUR' })).toEqual(['currency_mismatch']);
    });

    it('an order of unknown currency is compared with the limit; without a policy currency, bare amounts are compared', () => {
      expect(violations({ maxOrderAmount: 4, currency: 'USDC' }, {}, { amount: 5, currency: null })).toEqual(['exceeds_max_order_amount']);
      expect(violations({ maxOrderAmount: 4 }, {}, { amount: 5, currency: 'EUR' })).toEqual(['exceeds_max_order_amount']);
    });

    it('a currency without maxOrderAmount restricts nothing', () => {
      expect(violations({ currency: 'USDC' })).toEqual([]);
    });
  });

  it('reports every failing rule of one policy, in the order of §8.6', () => {
    expect(
      violations(
        {
          deniedProviderKeys: ['acme'],
          allowedProviderKeys: ['other'],
          allowedServiceTypes: ['storage.object'],
          requireNativeExecution: true,
          maxOrderAmount: 1,
        },
        { executionMode: 'external-handoff' },
      ),
    ).toEqual([
      'provider_denied',
      'provider_not_allowed',
      'service_type_not_allowed',
      'native_execution_required',
      'exceeds_max_order_amount',
    ]);
  });
});

describe('§8.6 / §7.3 step 2: the first denial of the machine policies in policyIds order', () => {
  const allowing = policy('pol_allow', { allowedProviderKeys: ['acme'] });
  const capping = policy('pol_cap', { maxOrderAmount: 1, deniedProviderKeys: ['other'] });
  const typed = policy('pol_type', { allowedServiceTypes: ['storage.object'], maxOrderAmount: 1 });

  it('is null when every policy allows (and for no policies)', () => {
    expect(firstMachinePolicyDenial([allowing], SUBJECT, USDT_5)).toBeNull();
    expect(firstMachinePolicyDenial([], SUBJECT, USDT_5)).toBeNull();
  });

  it('is the first failing rule of the first failing policy', () => {
    expect(firstMachinePolicyDenial([allowing, typed, capping], SUBJECT, USDT_5)).toEqual({
      policyId: 'pol_type',
      reason: 'service_type_not_allowed',
    });
    expect(firstMachinePolicyDenial([allowing, capping, typed], SUBJECT, USDT_5)).toEqual({
      policyId: 'pol_cap',
      reason: 'exceeds_max_order_amount',
    });
    expect(firstMachinePolicyDenial([capping], SUBJECT, { amount: null, currency: null })).toEqual({
      policyId: 'pol_cap',
      reason: 'amount_unknown',
    });
  });

  it('becomes 403 AGENT_POLICY_DENIED with source machinePolicy', () => {
    const error = machinePolicyError({ policyId: 'pol_cap', reason: 'exceeds_max_order_amount' });
    expect(
      refusal(() => {
        throw error;
      }),
    ).toEqual({
      code: 'AGENT_POLICY_DENIED',
      details: { source: 'machinePolicy', policyId: 'pol_cap', reason: 'exceeds_max_order_amount' },
    });
  });
});

describe('§6.4.4 X5 exclusion reasons', () => {
  it('one reason per failing rule, policy by policy, in the exact templates', () => {
    const policies = [
      policy('pol_a', { deniedProviderKeys: ['acme'], allowedProviderKeys: ['other'] }),
      policy('pol_ok', {}),
      policy('pol_b', { allowedServiceTypes: ['storage.object'], requireNativeExecution: true, maxOrderAmount: 0.25 }),
      policy('pol_c', { maxOrderAmount: 100, currency: 'usdc'.toUpperCase() }),
    ];
    expect(machinePolicyExclusionReasons(policies, service({ executionMode: 'external-handoff' }))).toEqual([
      "machine policy pol_a: provider 'acme' is denied",
      "machine policy pol_a: provider 'acme' is not in allowedProviderKeys",
      "machine policy pol_b: service type 'oracle.price-feed' is not in allowedServiceTypes",
      'machine policy pol_b: native execution required',
      'machine policy pol_b: price 0.5 USDT exceeds maxOrderAmount 0.25',
      'machine policy pol_c: currency USDT differs from policy currency USDC',
    ]);
  });

  it('prints numbers as decimal strings and the price without a currency when it has none', () => {
    const reasons = machinePolicyExclusionReasons(
      [policy('pol_1', { maxOrderAmount: 1e-7 })],
      service({ pricing: { amount: 0.000001, currency: null } }),
    );
    expect(reasons).toEqual(['machine policy pol_1: price 0.000001 exceeds maxOrderAmount 0.0000001']);
  });

  it('skips the price rules when the price is unknown (not fixed, or no amount)', () => {
    const policies = [policy('pol_1', { maxOrderAmount: 0, currency: 'EUR' })];
    expect(machinePolicyExclusionReasons(policies, service({ pricing: { mode: 'provider-defined', amount: 9 } }))).toEqual([]);
    expect(machinePolicyExclusionReasons(policies, service({ pricing: { mode: 'fixed', amount: null } }))).toEqual([]);
    expect(machinePolicyExclusionReasons(policies, service({ pricing: { mode: 'quote-required', amount: null } }))).toEqual([]);
    expect(machinePolicyExclusionReasons(policies, service())).toEqual([
      'machine policy pol_1: currency USDT differs from policy currency EUR',
    ]);
  });
});

describe('§6.3.4 policyDenials', () => {
  it('lists the first failing rule of each denying policy, in policyIds order', () => {
    const policies = [
      policy('pol_b', { requireNativeExecution: true, deniedProviderKeys: ['acme'] }),
      policy('pol_ok', { allowedProviderKeys: ['acme'] }),
      policy('pol_a', { maxOrderAmount: 0.1 }),
    ];
    expect(policyDenialsForService(policies, service({ executionMode: 'external-handoff' }))).toEqual([
      { policyId: 'pol_b', reason: 'provider_denied' },
      { policyId: 'pol_a', reason: 'exceeds_max_order_amount' },
    ]);
  });

  it('evaluates price rules only when the price is known (no amount_unknown)', () => {
    const policies = [policy('pol_a', { maxOrderAmount: 0.1 })];
    expect(policyDenialsForService(policies, service({ pricing: { mode: 'provider-defined', amount: null } }))).toEqual([]);
  });
});
