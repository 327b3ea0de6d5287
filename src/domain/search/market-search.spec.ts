import { catalogService } from '../../../test/support/catalog-service';
import { CatalogService, MarketPaymentRailRecommendation, MarketServicePricing } from '../catalog/catalog-types';
import { DelegationPolicyInput, normaliseDelegationPolicy } from '../pairing/delegation-policy';
import { formatPrice, RankedService, SearchContext, SearchCriteria, SearchOutcome, searchServices } from './market-search';

// ---------------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------------

const PAYMENT: MarketPaymentRailRecommendation = { defaultRail: 'x402', required: true, supportedRails: ['x402', 'wallet'] };

/** §6.2: price unknown (not `fixed`). */
const PROVIDER_DEFINED: MarketServicePricing = { mode: 'provider-defined', amount: null, currency: null, rate: null, notes: [] };

/** §6.2: a known price (`fixed` with an amount). */
function fixed(amount: number, currency: string | null = 'USDT'): MarketServicePricing {
  return { mode: 'fixed', amount, currency, rate: 'per_request', notes: ['billed per call'] };
}

/** A catalogued service that passes every exclusion rule unless overridden. */
function service(id: string, overrides: Partial<CatalogService> = {}): CatalogService {
  return catalogService({
    id,
    providerKey: 'prov-a',
    skillKey: 'skill.price',
    description: 'A test service',
    operations: ['get-price', 'stream-prices'],
    pricing: PROVIDER_DEFINED,
    payment: PAYMENT,
    region: 'eu-west',
    capabilities: ['realtime', 'historical', 'signed'],
    ...overrides,
  });
}

type ContextOverrides = Partial<Omit<SearchContext, 'delegationPolicy'>> & { delegationPolicy?: DelegationPolicyInput };

function context({ delegationPolicy, ...overrides }: ContextOverrides = {}): SearchContext {
  return {
    delegationPolicy: normaliseDelegationPolicy(delegationPolicy),
    spentToday: '0',
    day: '2026-01-01',
    machinePolicyReasons: () => [],
    usableRuntimeProviderKeys: new Set(),
    suppliedCredentialKeys: new Set(),
    ...overrides,
  };
}

function search(services: CatalogService[], criteria: SearchCriteria = {}, overrides: ContextOverrides = {}): SearchOutcome {
  return searchServices(services, criteria, context(overrides));
}

const ids = (outcome: SearchOutcome) => outcome.ranked.map((r) => r.serviceId);
const excludedIds = (outcome: SearchOutcome) => outcome.excluded.map((e) => e.serviceId);

/** The exclusion reasons of one service (fails when it was not excluded). */
function exclusionOf(services: CatalogService[], criteria: SearchCriteria = {}, overrides: ContextOverrides = {}): string[] {
  const outcome = search(services, criteria, overrides);
  expect(outcome.ranked).toEqual([]);
  expect(outcome.excluded).toHaveLength(1);
  return outcome.excluded[0].reasons;
}

/** Asserts the single service was kept and returns its quote. */
function quoteOf(one: CatalogService, criteria: SearchCriteria = {}, overrides: ContextOverrides = {}): RankedService {
  const outcome = search([one], criteria, overrides);
  expect(outcome.excluded).toEqual([]);
  expect(outcome.ranked).toHaveLength(1);
  return outcome.ranked[0];
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/** native execution (+15) and integration ready (+15): the points of a default service without criteria. */
const BASE_REASONS = ['native execution (+15)', 'integration ready (+15)'];

// ---------------------------------------------------------------------------------------------------
// §6.4.4 notation
// ---------------------------------------------------------------------------------------------------

describe('formatPrice (§6.4.4 {price})', () => {
  it('is the decimal string, a space and the currency', () => {
    expect(formatPrice('0.5', 'USDT')).toBe('0.5 USDT');
  });

  it('is the bare decimal string when the currency is null', () => {
    expect(formatPrice('0.5', null)).toBe('0.5');
  });
});

// ---------------------------------------------------------------------------------------------------
// Step 1 — scope
// ---------------------------------------------------------------------------------------------------

describe('searchServices — step 1, scope (dropped silently)', () => {
  it('without filters, every service is in scope', () => {
    const outcome = search([service('a'), service('b', { serviceType: 'storage.object', skillKey: 'skill.store' })]);
    expect(ids(outcome)).toEqual(['a', 'b']);
    expect(outcome.excluded).toEqual([]);
  });

  it('serviceType keeps only services of that type; others are neither quoted nor excluded', () => {
    const outcome = search(
      [
        service('a'),
        service('b', { serviceType: 'storage.object' }),
        service('c', { serviceType: 'storage.object', integrationStatus: 'docs-only' }),
      ],
      { serviceType: 'oracle.price-feed' },
    );
    expect(ids(outcome)).toEqual(['a']);
    expect(outcome.excluded).toEqual([]);
  });

  it('skillKey keeps only services of that skill; others are neither quoted nor excluded', () => {
    const outcome = search(
      [service('a'), service('b', { skillKey: 'skill.other' }), service('c', { skillKey: 'skill.other', integrationStatus: 'docs-only' })],
      { skillKey: 'skill.price' },
    );
    expect(ids(outcome)).toEqual(['a']);
    expect(outcome.excluded).toEqual([]);
  });

  it('operation keeps only services that list it; others are neither quoted nor excluded', () => {
    const outcome = search(
      [
        service('a', { operations: ['stream-prices', 'get-price'] }),
        service('b', { operations: ['stream-prices'] }),
        service('c', { operations: ['other'], integrationStatus: 'docs-only' }),
      ],
      { operation: 'get-price' },
    );
    expect(ids(outcome)).toEqual(['a']);
    expect(outcome.excluded).toEqual([]);
  });

  it('combines the filters with AND, and excludes only in-scope services', () => {
    const outcome = search(
      [
        service('a'),
        service('b', { integrationStatus: 'docs-only' }),
        service('c', { serviceType: 'storage.object' }),
        service('d', { skillKey: 'skill.other' }),
        service('e', { operations: ['other'] }),
      ],
      { serviceType: 'oracle.price-feed', skillKey: 'skill.price', operation: 'get-price' },
    );
    expect(ids(outcome)).toEqual(['a']);
    expect(outcome.excluded).toEqual([{ serviceId: 'b', reasons: ['integration status docs-only cannot be ordered'] }]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Step 2 — exclusion
// ---------------------------------------------------------------------------------------------------

describe('searchServices — step 2, exclusion', () => {
  describe('X1 docs-only', () => {
    it('excludes docs-only services', () => {
      expect(exclusionOf([service('a', { integrationStatus: 'docs-only' })])).toEqual(['integration status docs-only cannot be ordered']);
    });
  });

  describe('X2 external handoff vs preferences', () => {
    const handoff = service('a', { executionMode: 'external-handoff', handoff: { label: 'Console', url: 'https://x.example', notes: [] } });

    it('excludes external-handoff services when nativeOnly is true', () => {
      expect(exclusionOf([handoff], { preferences: { nativeOnly: true } })).toEqual(['external handoff excluded by preferences']);
    });

    it('excludes them when allowExternalHandoff is false', () => {
      expect(exclusionOf([handoff], { preferences: { allowExternalHandoff: false } })).toEqual([
        'external handoff excluded by preferences',
      ]);
    });

    it('nativeOnly: true takes precedence over allowExternalHandoff: true', () => {
      expect(exclusionOf([handoff], { preferences: { nativeOnly: true, allowExternalHandoff: true } })).toEqual([
        'external handoff excluded by preferences',
      ]);
    });

    it('keeps them by default (nativeOnly false, allowExternalHandoff true)', () => {
      quoteOf(handoff);
      quoteOf(handoff, { preferences: {} });
      quoteOf(handoff, { preferences: { nativeOnly: false, allowExternalHandoff: true } });
    });

    it('never excludes native services for it', () => {
      quoteOf(service('a'), { preferences: { nativeOnly: true, allowExternalHandoff: false } });
    });
  });

  describe('X3 required capabilities', () => {
    it('lists the missing capabilities in request order', () => {
      expect(exclusionOf([service('a', { capabilities: ['b'] })], { requirements: { capabilities: ['c', 'b', 'a'] } })).toEqual([
        'missing required capabilities: c, a',
      ]);
    });

    it('names a single missing capability', () => {
      expect(exclusionOf([service('a')], { requirements: { capabilities: ['realtime', 'gpu'] } })).toEqual([
        'missing required capabilities: gpu',
      ]);
    });

    it('keeps services that have every required capability, and an empty list requires nothing', () => {
      quoteOf(service('a'), { requirements: { capabilities: ['signed', 'realtime'] } });
      quoteOf(service('a', { capabilities: [] }), { requirements: { capabilities: [] } });
      quoteOf(service('a', { capabilities: [] }), { requirements: {} });
    });
  });

  describe('X4 delegation allow/deny lists (§5.7)', () => {
    const svc = service('svc-1', { skillKey: 'skill.price' });

    it('skill denied', () => {
      expect(exclusionOf([svc], {}, { delegationPolicy: { deniedSkillKeys: ['skill.price'] } })).toEqual([
        "delegation policy: skill 'skill.price' is denied",
      ]);
    });

    it('skill not in allowedSkillKeys', () => {
      expect(exclusionOf([svc], {}, { delegationPolicy: { allowedSkillKeys: ['skill.other'] } })).toEqual([
        "delegation policy: skill 'skill.price' is not in allowedSkillKeys",
      ]);
    });

    it('service denied', () => {
      expect(exclusionOf([svc], {}, { delegationPolicy: { deniedServiceIds: ['svc-1'] } })).toEqual([
        "delegation policy: service 'svc-1' is denied",
      ]);
    });

    it('service not in allowedServiceIds', () => {
      expect(exclusionOf([svc], {}, { delegationPolicy: { allowedServiceIds: ['svc-2'] } })).toEqual([
        "delegation policy: service 'svc-1' is not in allowedServiceIds",
      ]);
    });

    it('gives one reason per failing check, in §5.7 order', () => {
      const policy = {
        deniedSkillKeys: ['skill.price'],
        allowedSkillKeys: ['skill.other'],
        deniedServiceIds: ['svc-1'],
        allowedServiceIds: ['svc-2'],
      };
      expect(exclusionOf([svc], {}, { delegationPolicy: policy })).toEqual([
        "delegation policy: skill 'skill.price' is denied",
        "delegation policy: skill 'skill.price' is not in allowedSkillKeys",
        "delegation policy: service 'svc-1' is denied",
        "delegation policy: service 'svc-1' is not in allowedServiceIds",
      ]);
    });

    it('deny beats allow: a key in both lists gives only the denial', () => {
      expect(
        exclusionOf(
          [svc],
          {},
          { delegationPolicy: { deniedServiceIds: ['svc-1'], allowedServiceIds: ['svc-1'], allowedSkillKeys: ['skill.price'] } },
        ),
      ).toEqual(["delegation policy: service 'svc-1' is denied"]);
    });

    it('keeps allowed services; empty allow lists mean no restriction; matching is exact and case-sensitive', () => {
      quoteOf(svc, {}, { delegationPolicy: { allowedSkillKeys: ['skill.price'], allowedServiceIds: ['svc-1'] } });
      quoteOf(svc, {}, { delegationPolicy: { allowedSkillKeys: [], allowedServiceIds: [] } });
      quoteOf(svc, {}, { delegationPolicy: { deniedSkillKeys: ['SKILL.PRICE', 'skill.*'], deniedServiceIds: ['svc-'] } });
    });
  });

  describe('X5 machine policies (§8.6)', () => {
    it('passes the machine policy reasons through, in the order given', () => {
      const reasons = [
        "machine policy pol_2: provider 'prov-a' is denied",
        "machine policy pol_1: service type 'oracle.price-feed' is not in allowedServiceTypes",
      ];
      expect(exclusionOf([service('a')], {}, { machinePolicyReasons: () => reasons })).toEqual(reasons);
    });

    it('asks about each in-scope service and excludes only those with reasons', () => {
      const asked: string[] = [];
      const outcome = search(
        [service('a'), service('b', { providerKey: 'prov-b' }), service('c', { serviceType: 'storage.object' })],
        {
          serviceType: 'oracle.price-feed',
        },
        {
          machinePolicyReasons: (s) => {
            asked.push(s.id);
            return s.providerKey === 'prov-b' ? ["machine policy pol_1: provider 'prov-b' is denied"] : [];
          },
        },
      );
      expect(ids(outcome)).toEqual(['a']);
      expect(outcome.excluded).toEqual([{ serviceId: 'b', reasons: ["machine policy pol_1: provider 'prov-b' is denied"] }]);
      expect(asked).not.toContain('c');
    });
  });

  describe('X6 budget maxAmount', () => {
    it('excludes a known price above maxAmount', () => {
      expect(exclusionOf([service('a', { pricing: fixed(0.5) })], { budget: { maxAmount: 0.25 } })).toEqual([
        'price 0.5 USDT exceeds budget maxAmount 0.25',
      ]);
    });

    it('formats {price} without currency when the pricing currency is null', () => {
      expect(exclusionOf([service('a', { pricing: fixed(0.5, null) })], { budget: { maxAmount: 0.25, currency: 'USDT' } })).toEqual([
        'price 0.5 exceeds budget maxAmount 0.25',
      ]);
    });

    it('writes every number as a plain decimal string (1e-7 → 0.0000001)', () => {
      expect(exclusionOf([service('a', { pricing: fixed(2e-7) })], { budget: { maxAmount: 1e-7 } })).toEqual([
        'price 0.0000002 USDT exceeds budget maxAmount 0.0000001',
      ]);
    });

    it('applies with an equal budget currency', () => {
      expect(exclusionOf([service('a', { pricing: fixed(3) })], { budget: { maxAmount: 2, currency: 'USDT' } })).toEqual([
        'price 3 USDT exceeds budget maxAmount 2',
      ]);
    });

    it('allows a price equal to maxAmount', () => {
      quoteOf(service('a', { pricing: fixed(0.3) }), { budget: { maxAmount: 0.3 } });
    });

    it('does not apply when the currencies are incompatible', () => {
      quoteOf(service('a', { pricing: fixed(5, 'USDC') }), { budget: { maxAmount: 1, currency: 'USDT' } });
    });

    it('does not apply without maxAmount (budget.amount alone never excludes)', () => {
      quoteOf(service('a', { pricing: fixed(5) }), { budget: { amount: 1 } });
    });

    it('never excludes services whose price is unknown', () => {
      quoteOf(service('a', { pricing: PROVIDER_DEFINED }), { budget: { maxAmount: 0 } });
      quoteOf(service('b', { pricing: { mode: 'fixed', amount: null, currency: 'USDT', rate: null, notes: [] } }), {
        budget: { maxAmount: 0 },
      });
      // Not `fixed`: the amount is not a known price (§6.2).
      quoteOf(service('c', { pricing: { mode: 'provider-defined', amount: 100, currency: 'USDT', rate: null, notes: [] } }), {
        budget: { maxAmount: 1 },
      });
      quoteOf(service('d', { pricing: { mode: 'quote-required', amount: 100, currency: 'USDT', rate: null, notes: [] } }), {
        budget: { maxAmount: 1 },
      });
    });

    it('compares exactly (0.1 + 0.2 style precision does not matter: 0.30000000000000004 > 0.3)', () => {
      expect(exclusionOf([service('a', { pricing: fixed(0.30000000000000004) })], { budget: { maxAmount: 0.3 } })).toEqual([
        'price 0.30000000000000004 USDT exceeds budget maxAmount 0.3',
      ]);
    });
  });

  describe('X7 delegation limits (§5.7)', () => {
    it('excludes a known price above perTransactionLimit', () => {
      expect(exclusionOf([service('a', { pricing: fixed(5) })], {}, { delegationPolicy: { perTransactionLimit: 4 } })).toEqual([
        'delegation policy: price 5 USDT exceeds perTransactionLimit 4',
      ]);
    });

    it('writes the limit as a plain decimal string', () => {
      expect(exclusionOf([service('a', { pricing: fixed(2e-7, null) })], {}, { delegationPolicy: { perTransactionLimit: 1e-7 } })).toEqual([
        'delegation policy: price 0.0000002 exceeds perTransactionLimit 0.0000001',
      ]);
    });

    it('allows an amount equal to perTransactionLimit', () => {
      quoteOf(service('a', { pricing: fixed(4) }), {}, { delegationPolicy: { perTransactionLimit: 4 } });
    });

    it('excludes a price that would take the day over dailySpendLimit, naming spentToday', () => {
      expect(
        exclusionOf([service('a', { pricing: fixed(1) })], {}, { delegationPolicy: { dailySpendLimit: 3 }, spentToday: '2.5' }),
      ).toEqual(['delegation policy: price 1 USDT would exceed dailySpendLimit 3 (spent today 2.5)']);
    });

    it('excludes on dailySpendLimit even with nothing spent today', () => {
      expect(exclusionOf([service('a', { pricing: fixed(3.5) })], {}, { delegationPolicy: { dailySpendLimit: 3 } })).toEqual([
        'delegation policy: price 3.5 USDT would exceed dailySpendLimit 3 (spent today 0)',
      ]);
    });

    it('allows spentToday + price equal to dailySpendLimit, in exact decimals (0.1 + 0.2 = 0.3)', () => {
      quoteOf(service('a', { pricing: fixed(1) }), {}, { delegationPolicy: { dailySpendLimit: 3 }, spentToday: '2' });
      quoteOf(service('b', { pricing: fixed(0.2) }), {}, { delegationPolicy: { dailySpendLimit: 0.3 }, spentToday: '0.1' });
    });

    it('excludes a known currency that differs from the policy currency when a limit is set', () => {
      expect(
        exclusionOf(
          [service('a', { pricing: fixed(1, 'USDC') })],
          {},
          { delegationPolicy: { perTransactionLimit: 100, currency: 'USDT' } },
        ),
      ).toEqual(['delegation policy: currency USDC differs from policy currency USDT']);
    });

    it('ignores the policy currency when no limit is set', () => {
      quoteOf(service('a', { pricing: fixed(1000, 'USDC') }), {}, { delegationPolicy: { currency: 'USDT' } });
    });

    it('treats a price without currency as in the policy currency', () => {
      quoteOf(service('a', { pricing: fixed(1, null) }), {}, { delegationPolicy: { perTransactionLimit: 2, currency: 'USDT' } });
      expect(
        exclusionOf([service('b', { pricing: fixed(3, null) })], {}, { delegationPolicy: { perTransactionLimit: 2, currency: 'USDT' } }),
      ).toEqual(['delegation policy: price 3 exceeds perTransactionLimit 2']);
    });

    it('compares bare amounts when the policy currency is null', () => {
      quoteOf(service('a', { pricing: fixed(2, 'USDC') }), {}, { delegationPolicy: { perTransactionLimit: 2 } });
      expect(exclusionOf([service('b', { pricing: fixed(3, 'USDC') })], {}, { delegationPolicy: { perTransactionLimit: 2 } })).toEqual([
        'delegation policy: price 3 USDC exceeds perTransactionLimit 2',
      ]);
    });

    it('never excludes services whose price is unknown (order creation checks the effective amount)', () => {
      const policy = { perTransactionLimit: 0, dailySpendLimit: 0, currency: 'USDT' };
      quoteOf(service('a', { pricing: PROVIDER_DEFINED }), {}, { delegationPolicy: policy, spentToday: '5' });
      quoteOf(
        service('b', { pricing: { mode: 'provider-defined', amount: 100, currency: 'USDC', rate: null, notes: [] } }),
        {},
        {
          delegationPolicy: policy,
          spentToday: '5',
        },
      );
    });
  });

  describe('several reasons on one service', () => {
    it('lists every failing rule, in table order X1 … X7', () => {
      const svc = service('svc-1', {
        integrationStatus: 'docs-only',
        executionMode: 'external-handoff',
        capabilities: [],
        pricing: fixed(10),
      });
      const reasons = exclusionOf(
        [svc],
        { requirements: { capabilities: ['gpu'] }, budget: { maxAmount: 5 }, preferences: { nativeOnly: true } },
        {
          delegationPolicy: { deniedServiceIds: ['svc-1'], perTransactionLimit: 8 },
          machinePolicyReasons: () => ['machine policy pol_1: native execution required'],
        },
      );
      expect(reasons).toEqual([
        'integration status docs-only cannot be ordered',
        'external handoff excluded by preferences',
        'missing required capabilities: gpu',
        "delegation policy: service 'svc-1' is denied",
        'machine policy pol_1: native execution required',
        'price 10 USDT exceeds budget maxAmount 5',
        'delegation policy: price 10 USDT exceeds perTransactionLimit 8',
      ]);
    });

    it('puts X5 after X4 and before the price rules', () => {
      const reasons = exclusionOf(
        [service('svc-1', { pricing: fixed(10) })],
        { budget: { maxAmount: 5 } },
        {
          delegationPolicy: { allowedSkillKeys: ['other'], dailySpendLimit: 1 },
          machinePolicyReasons: () => ['machine policy pol_9: price 10 USDT exceeds maxOrderAmount 2', 'machine policy pol_3: x'],
        },
      );
      expect(reasons).toEqual([
        "delegation policy: skill 'skill.price' is not in allowedSkillKeys",
        'machine policy pol_9: price 10 USDT exceeds maxOrderAmount 2',
        'machine policy pol_3: x',
        'price 10 USDT exceeds budget maxAmount 5',
        'delegation policy: price 10 USDT would exceed dailySpendLimit 1 (spent today 0)',
      ]);
    });
  });

  it('never quotes excluded services', () => {
    const outcome = search([service('a', { integrationStatus: 'docs-only' }), service('b')]);
    expect(ids(outcome)).toEqual(['b']);
    expect(excludedIds(outcome)).toEqual(['a']);
  });
});

// ---------------------------------------------------------------------------------------------------
// Step 3 — scoring
// ---------------------------------------------------------------------------------------------------

describe('searchServices — step 3, scoring', () => {
  it('scores a native, ready service without criteria 30 with two reasons', () => {
    const quote = quoteOf(service('a'));
    expect(quote.reasons).toEqual(BASE_REASONS);
    expect(quote.score).toBe(30);
  });

  describe('Operation', () => {
    it('adds 20 when an operation is given', () => {
      const quote = quoteOf(service('a'), { operation: 'stream-prices' });
      expect(quote.reasons).toEqual(["operation 'stream-prices' supported (+20)", ...BASE_REASONS]);
      expect(quote.score).toBe(50);
    });
  });

  describe('Capabilities', () => {
    it('adds 15 when capabilities are required (n = number required)', () => {
      const quote = quoteOf(service('a'), { requirements: { capabilities: ['realtime', 'signed'] } });
      expect(quote.reasons).toEqual(['all 2 required capabilities present (+15)', ...BASE_REASONS]);
      expect(quote.score).toBe(45);
    });

    it('adds nothing for an empty list', () => {
      const quote = quoteOf(service('a'), { requirements: { capabilities: [] } });
      expect(quote.reasons).toEqual(BASE_REASONS);
      expect(quote.score).toBe(30);
    });
  });

  describe('Region', () => {
    it('adds 15 on a match, compared lower-cased; {region} is the request value lower-cased', () => {
      const quote = quoteOf(service('a', { region: 'eu-west' }), { region: 'EU-West' });
      expect(quote.reasons).toEqual(["region 'eu-west' matches (+15)", ...BASE_REASONS]);
      expect(quote.score).toBe(45);
    });

    it('adds 10 for a global service', () => {
      const quote = quoteOf(service('a', { region: 'global' }), { region: 'US-East' });
      expect(quote.reasons).toEqual(['global service (+10)', ...BASE_REASONS]);
      expect(quote.score).toBe(40);
    });

    it('a request for global matches a global service (first matching row)', () => {
      const quote = quoteOf(service('a', { region: 'global' }), { region: 'GLOBAL' });
      expect(quote.reasons).toEqual(["region 'global' matches (+15)", ...BASE_REASONS]);
      expect(quote.score).toBe(45);
    });

    it('adds 0 otherwise, naming both regions', () => {
      const quote = quoteOf(service('a', { region: 'eu-west' }), { region: 'US-East' });
      expect(quote.reasons).toEqual(["region 'eu-west' does not match 'us-east' (+0)", ...BASE_REASONS]);
      expect(quote.score).toBe(30);
    });

    it('adds no reason without a region', () => {
      expect(quoteOf(service('a', { region: 'global' })).reasons).toEqual(BASE_REASONS);
    });
  });

  describe('Execution mode', () => {
    it('native adds 15', () => {
      expect(quoteOf(service('a', { integrationStatus: 'partner-required' })).reasons).toEqual([
        'native execution (+15)',
        'partner approval required (+0)',
      ]);
    });

    it('external-handoff adds 5', () => {
      const quote = quoteOf(service('a', { executionMode: 'external-handoff' }));
      expect(quote.reasons).toEqual(['external handoff (+5)', 'integration ready (+15)']);
      expect(quote.score).toBe(20);
    });
  });

  describe('Integration status', () => {
    const scored = (s: CatalogService, overrides: ContextOverrides = {}) => {
      const quote = quoteOf(s, {}, overrides);
      return { score: quote.score, reasons: quote.reasons };
    };

    it('native: integration ready (+15)', () => {
      expect(scored(service('a'))).toEqual({ score: 30, reasons: ['native execution (+15)', 'integration ready (+15)'] });
    });

    it('credentials-required with credentials supplied (+10)', () => {
      expect(
        scored(service('a', { integrationStatus: 'credentials-required', providerKey: 'prov-a' }), {
          suppliedCredentialKeys: new Set(['prov-a']),
        }),
      ).toEqual({ score: 25, reasons: ['native execution (+15)', 'provider credentials supplied (+10)'] });
    });

    it('credentials-required without them (+0), including credentials for another provider', () => {
      const expected = { score: 15, reasons: ['native execution (+15)', 'provider credentials required but not supplied (+0)'] };
      expect(scored(service('a', { integrationStatus: 'credentials-required' }))).toEqual(expected);
      expect(scored(service('a', { integrationStatus: 'credentials-required' }), { suppliedCredentialKeys: new Set(['prov-b']) })).toEqual(
        expected,
      );
    });

    it('local-config-required with a usable runtime endpoint (+10)', () => {
      expect(
        scored(service('a', { integrationStatus: 'local-config-required' }), { usableRuntimeProviderKeys: new Set(['prov-a']) }),
      ).toEqual({ score: 25, reasons: ['native execution (+15)', 'runtime endpoint registered (+10)'] });
    });

    it('local-config-required without one (+0), including an endpoint for another provider', () => {
      const expected = { score: 15, reasons: ['native execution (+15)', 'runtime endpoint required but not registered (+0)'] };
      expect(scored(service('a', { integrationStatus: 'local-config-required' }))).toEqual(expected);
      expect(
        scored(service('a', { integrationStatus: 'local-config-required' }), { usableRuntimeProviderKeys: new Set(['prov-b']) }),
      ).toEqual(expected);
    });

    it('setup-required (+5)', () => {
      expect(scored(service('a', { integrationStatus: 'setup-required' }))).toEqual({
        score: 20,
        reasons: ['native execution (+15)', 'adapter setup required (+5)'],
      });
    });

    it('partner-required (+0)', () => {
      expect(scored(service('a', { integrationStatus: 'partner-required' }))).toEqual({
        score: 15,
        reasons: ['native execution (+15)', 'partner approval required (+0)'],
      });
    });
  });

  describe('Price vs budget', () => {
    const priceReason = (s: CatalogService, budget: SearchCriteria['budget']) => {
      const quote = quoteOf(s, { budget });
      expect(quote.reasons.slice(0, 2)).toEqual(BASE_REASONS);
      return { points: quote.score - 30, reasons: quote.reasons.slice(2) };
    };

    it('incompatible currencies: 0 points, naming both', () => {
      expect(priceReason(service('a', { pricing: fixed(1, 'USDC') }), { amount: 10, currency: 'USDT' })).toEqual({
        points: 0,
        reasons: ['price currency USDC differs from budget currency USDT (+0)'],
      });
    });

    it('within budget.amount, equal included: +10', () => {
      expect(priceReason(service('a', { pricing: fixed(10) }), { amount: 10, currency: 'USDT' })).toEqual({
        points: 10,
        reasons: ['price 10 USDT within budget (+10)'],
      });
    });

    it('within budget, price without currency: {price} is the bare number', () => {
      expect(priceReason(service('a', { pricing: fixed(0.5, null) }), { amount: 1, currency: 'USDT' })).toEqual({
        points: 10,
        reasons: ['price 0.5 within budget (+10)'],
      });
    });

    it('within budget, budget without currency is compatible', () => {
      expect(priceReason(service('a', { pricing: fixed(1e-7, 'USDC') }), { amount: 1 })).toEqual({
        points: 10,
        reasons: ['price 0.0000001 USDC within budget (+10)'],
      });
    });

    it('above amount but within maxAmount: +5', () => {
      expect(priceReason(service('a', { pricing: fixed(3) }), { amount: 1, maxAmount: 5 })).toEqual({
        points: 5,
        reasons: ['price 3 USDT within maxAmount (+5)'],
      });
    });

    it('maxAmount only, price equal to it: +5', () => {
      expect(priceReason(service('a', { pricing: fixed(5) }), { maxAmount: 5 })).toEqual({
        points: 5,
        reasons: ['price 5 USDT within maxAmount (+5)'],
      });
    });

    it('above budget.amount without maxAmount: 0', () => {
      expect(priceReason(service('a', { pricing: fixed(3) }), { amount: 1 })).toEqual({
        points: 0,
        reasons: ['price 3 USDT above budget (+0)'],
      });
    });

    it('compares exactly: 0.30000000000000004 is above an amount of 0.3', () => {
      expect(priceReason(service('a', { pricing: fixed(0.30000000000000004) }), { amount: 0.3 })).toEqual({
        points: 0,
        reasons: ['price 0.30000000000000004 USDT above budget (+0)'],
      });
    });

    it('price unknown: +3 whatever the currencies', () => {
      const expected = { points: 3, reasons: ['price set by provider (+3)'] };
      expect(priceReason(service('a'), { amount: 1 })).toEqual(expected);
      expect(priceReason(service('a'), { maxAmount: 1, currency: 'USDT' })).toEqual(expected);
      expect(
        priceReason(service('a', { pricing: { mode: 'quote-required', amount: 2, currency: 'USDC', rate: null, notes: [] } }), {
          amount: 1,
          currency: 'USDT',
        }),
      ).toEqual(expected);
    });

    it('no budget given (no amount, no maxAmount): 0 points and no reason', () => {
      expect(priceReason(service('a', { pricing: fixed(3) }), undefined)).toEqual({ points: 0, reasons: [] });
      expect(priceReason(service('a', { pricing: fixed(3) }), {})).toEqual({ points: 0, reasons: [] });
      expect(priceReason(service('a', { pricing: fixed(3, 'USDC') }), { currency: 'USDT' })).toEqual({ points: 0, reasons: [] });
      expect(priceReason(service('a'), { currency: 'USDT' })).toEqual({ points: 0, reasons: [] });
    });

    it('a budget amount of 0 is a budget', () => {
      expect(priceReason(service('a'), { amount: 0 })).toEqual({ points: 3, reasons: ['price set by provider (+3)'] });
    });
  });

  describe('Preferred provider', () => {
    it('adds 10 for a preferred provider', () => {
      const quote = quoteOf(service('a', { providerKey: 'prov-b' }), { preferences: { preferredProviderKeys: ['prov-x', 'prov-b'] } });
      expect(quote.reasons).toEqual([...BASE_REASONS, "preferred provider 'prov-b' (+10)"]);
      expect(quote.score).toBe(40);
    });

    it('adds nothing for other providers', () => {
      expect(quoteOf(service('a'), { preferences: { preferredProviderKeys: ['prov-x'] } }).reasons).toEqual(BASE_REASONS);
    });
  });

  it('lists the reasons in table order and sums to 100 at most', () => {
    const quote = quoteOf(service('a', { providerKey: 'prov-a', pricing: fixed(0.5) }), {
      operation: 'get-price',
      requirements: { capabilities: ['realtime'] },
      region: 'EU-WEST',
      budget: { amount: 1, maxAmount: 2, currency: 'USDT' },
      preferences: { preferredProviderKeys: ['prov-a'] },
    });
    expect(quote.reasons).toEqual([
      "operation 'get-price' supported (+20)",
      'all 1 required capabilities present (+15)',
      "region 'eu-west' matches (+15)",
      'native execution (+15)',
      'integration ready (+15)',
      'price 0.5 USDT within budget (+10)',
      "preferred provider 'prov-a' (+10)",
    ]);
    expect(quote.score).toBe(100);
  });

  it('table order holds for the non-native rows too', () => {
    const quote = quoteOf(
      service('a', { executionMode: 'external-handoff', integrationStatus: 'setup-required', region: 'asia', pricing: fixed(3, 'USDC') }),
      {
        operation: 'get-price',
        region: 'eu',
        budget: { amount: 1, currency: 'USDT' },
        preferences: { preferredProviderKeys: ['prov-a'] },
      },
    );
    expect(quote.reasons).toEqual([
      "operation 'get-price' supported (+20)",
      "region 'asia' does not match 'eu' (+0)",
      'external handoff (+5)',
      'adapter setup required (+5)',
      'price currency USDC differs from budget currency USDT (+0)',
      "preferred provider 'prov-a' (+10)",
    ]);
    expect(quote.score).toBe(40);
  });
});

// ---------------------------------------------------------------------------------------------------
// Step 4 — ranking
// ---------------------------------------------------------------------------------------------------

describe('searchServices — step 4, ranking', () => {
  it('sorts by score descending', () => {
    const outcome = search(
      [
        service('a', { integrationStatus: 'partner-required' }), // 15
        service('b', { integrationStatus: 'setup-required' }), // 20
        service('c'), // 30
        service('d', { providerKey: 'prov-d' }), // 40
      ],
      { preferences: { preferredProviderKeys: ['prov-d'] } },
    );
    expect(ids(outcome)).toEqual(['d', 'c', 'b', 'a']);
    expect(outcome.ranked.map((r) => r.score)).toEqual([40, 30, 20, 15]);
  });

  it('a higher score wins over a lower price', () => {
    const outcome = search([
      service('a', { pricing: fixed(0.01), integrationStatus: 'setup-required' }),
      service('b', { pricing: fixed(100) }),
    ]);
    expect(ids(outcome)).toEqual(['b', 'a']);
  });

  it('breaks score ties by known price ascending, compared as decimals (0.09 before 0.10)', () => {
    const outcome = search([
      service('a', { pricing: fixed(0.1) }),
      service('b', { pricing: fixed(0.09) }),
      service('c', { pricing: fixed(2) }),
    ]);
    expect(ids(outcome)).toEqual(['b', 'a', 'c']);
  });

  it('compares prices with many digits exactly', () => {
    const outcome = search([
      service('a', { pricing: fixed(0.30000000000000004) }),
      service('b', { pricing: fixed(0.3) }),
      service('c', { pricing: fixed(9007199254740994) }),
      service('d', { pricing: fixed(9007199254740992) }),
      service('e', { pricing: fixed(1.0000000000000002) }),
      service('f', { pricing: fixed(1) }),
      service('g', { pricing: fixed(1.5e-7) }),
      service('h', { pricing: fixed(1e-7) }),
    ]);
    expect(ids(outcome)).toEqual(['h', 'g', 'b', 'a', 'f', 'e', 'd', 'c']);
  });

  it('compares prices regardless of currency', () => {
    const outcome = search([
      service('a', { pricing: fixed(2, 'USDC') }),
      service('b', { pricing: fixed(1, 'USDT') }),
      service('c', { pricing: fixed(1.5, null) }),
    ]);
    expect(ids(outcome)).toEqual(['b', 'c', 'a']);
  });

  it('puts unknown prices after all known prices of the same score', () => {
    const outcome = search([
      service('a'),
      service('b', { pricing: { mode: 'provider-defined', amount: 0, currency: 'USDT', rate: null, notes: [] } }),
      service('y', { pricing: fixed(1000) }),
      service('z', { pricing: fixed(5) }),
    ]);
    expect(ids(outcome)).toEqual(['z', 'y', 'a', 'b']);
  });

  it('breaks remaining ties by id ascending in UTF-16 code-unit order', () => {
    const services = ['svc:0', 'svc0', 'svc.a', 'svc-b', 'svc-9', 'svc-10', 'svc_1'].map((id) => service(id));
    expect(ids(search(services))).toEqual(['svc-10', 'svc-9', 'svc-b', 'svc.a', 'svc0', 'svc:0', 'svc_1']);
  });

  it('breaks equal known prices by id', () => {
    const outcome = search([
      service('b', { pricing: fixed(1, 'USDC') }),
      service('a', { pricing: fixed(1, 'USDT') }),
      service('c', { pricing: fixed(1) }),
    ]);
    expect(ids(outcome)).toEqual(['a', 'b', 'c']);
  });

  it('does not depend on the order of the input', () => {
    const services = [
      service('a', { pricing: fixed(0.1) }),
      service('b', { pricing: fixed(0.09) }),
      service('c'),
      service('d', { integrationStatus: 'setup-required' }),
      service('e', { providerKey: 'prov-e' }),
      service('f', { pricing: fixed(0.09) }),
    ];
    const criteria: SearchCriteria = { preferences: { preferredProviderKeys: ['prov-e'] } };
    const forward = search(services, criteria);
    expect(ids(forward)).toEqual(['e', 'b', 'f', 'a', 'c', 'd']);
    expect(search([...services].reverse(), criteria).ranked).toEqual(forward.ranked);
  });
});

// ---------------------------------------------------------------------------------------------------
// Step 5 — quotes
// ---------------------------------------------------------------------------------------------------

describe('searchServices — step 5, quotes', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => service(`svc-${String(i).padStart(2, '0')}`, { pricing: fixed(i + 1) }));

  it('quotes at most 10 services by default, ranked 1..10', () => {
    const outcome = search(many(12));
    expect(outcome.ranked).toHaveLength(10);
    expect(outcome.ranked.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(ids(outcome)).toEqual(many(10).map((s) => s.id));
    expect(outcome.excluded).toEqual([]);
  });

  it('quotes the best maxResults; eligible services beyond it are neither quoted nor excluded', () => {
    const services = [...many(5), service('svc-99', { integrationStatus: 'docs-only' })];
    const outcome = search(services.reverse(), { maxResults: 2 });
    expect(ids(outcome)).toEqual(['svc-00', 'svc-01']);
    expect(outcome.ranked.map((r) => r.rank)).toEqual([1, 2]);
    expect(outcome.excluded).toEqual([{ serviceId: 'svc-99', reasons: ['integration status docs-only cannot be ordered'] }]);
  });

  it('maxResults 1 keeps the single best, even when it comes last', () => {
    const outcome = search([service('a'), service('b', { providerKey: 'prov-b' })], {
      maxResults: 1,
      preferences: { preferredProviderKeys: ['prov-b'] },
    });
    expect(ids(outcome)).toEqual(['b']);
    expect(outcome.ranked[0].rank).toBe(1);
  });

  it('quotes every eligible service when there are fewer than maxResults', () => {
    const outcome = search(many(12), { maxResults: 50 });
    expect(outcome.ranked.map((r) => r.rank)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('no services gives no quotes, which is a valid result', () => {
    expect(search([])).toEqual({ ranked: [], excluded: [] });
    expect(search([service('a')], { skillKey: 'nothing' })).toEqual({ ranked: [], excluded: [] });
  });
});

// ---------------------------------------------------------------------------------------------------
// Step 6 / response
// ---------------------------------------------------------------------------------------------------

describe('searchServices — response', () => {
  it('sorts excluded by serviceId ascending (services given in id order)', () => {
    const services = ['svc-10', 'svc-9', 'svc-a', 'svc.0', 'svc0'].map((id) => service(id, { integrationStatus: 'docs-only' }));
    const outcome = search([...services, service('svc:0')]);
    expect(excludedIds(outcome)).toEqual(['svc-10', 'svc-9', 'svc-a', 'svc.0', 'svc0']);
    expect(ids(outcome)).toEqual(['svc:0']);
  });

  it('copies the service into the quote', () => {
    const handoff = { label: 'Console', url: 'https://console.example', notes: ['log in first'] };
    const svc = service('svc-1', {
      skillKey: 'skill.console',
      providerKey: 'prov-c',
      serviceType: 'network.partner-console',
      executionMode: 'external-handoff',
      integrationStatus: 'partner-required',
      region: 'global',
      handoff,
      operations: ['open-console', 'close'],
      pricing: { mode: 'quote-required', amount: null, currency: 'USDT', rate: 'per_session', notes: ['ask sales'] },
    });
    expect(quoteOf(svc)).toEqual({
      serviceId: 'svc-1',
      skillKey: 'skill.console',
      providerKey: 'prov-c',
      executionMode: 'external-handoff',
      integrationStatus: 'partner-required',
      operation: 'open-console',
      score: 5,
      reasons: ['external handoff (+5)', 'partner approval required (+0)'],
      pricing: { mode: 'quote-required', amount: null, currency: 'USDT', rate: 'per_session', notes: ['ask sales'] },
      payment: PAYMENT,
      serviceType: 'network.partner-console',
      rank: 1,
      region: 'global',
      handoff,
    });
  });

  it('quote.operation is the requested operation, else the service’s first', () => {
    expect(quoteOf(service('a'), { operation: 'stream-prices' }).operation).toBe('stream-prices');
    expect(quoteOf(service('a')).operation).toBe('get-price');
  });

  it('quote.pricing is the service’s pricing', () => {
    const pricing = fixed(0.5);
    expect(quoteOf(service('a', { pricing })).pricing).toEqual({
      mode: 'fixed',
      amount: 0.5,
      currency: 'USDT',
      rate: 'per_request',
      notes: ['billed per call'],
    });
  });

  describe('quote.payment', () => {
    const payment: MarketPaymentRailRecommendation = {
      defaultRail: 'wdk-usdt-transfer',
      required: true,
      supportedRails: ['wdk-usdt-transfer', 'escrow'],
      currency: 'PEAQ',
      amount: '99',
      payTo: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      network: 'peaq',
      tokenAddress: '0x0000000000000000000000000000000000000001',
    };

    it('with a known price: amount is the price as a decimal string, currency the pricing currency', () => {
      expect(quoteOf(service('a', { pricing: fixed(1e-7, 'USDT'), payment })).payment).toEqual({
        ...payment,
        amount: '0.0000001',
        currency: 'USDT',
      });
      expect(quoteOf(service('a', { pricing: fixed(25.5, 'USDT'), payment })).payment).toEqual({
        ...payment,
        amount: '25.5',
        currency: 'USDT',
      });
    });

    it('with a known price without pricing currency: the recommendation’s own currency', () => {
      expect(quoteOf(service('a', { pricing: fixed(2, null), payment })).payment).toEqual({ ...payment, amount: '2', currency: 'PEAQ' });
    });

    it('with a known price and no currency anywhere: currency stays omitted', () => {
      const quoted = quoteOf(service('a', { pricing: fixed(2, null), payment: PAYMENT })).payment;
      expect(quoted).toEqual({ ...PAYMENT, amount: '2' });
      expect(quoted).not.toHaveProperty('currency');
    });

    it('with an unknown price: the recommendation untouched', () => {
      expect(quoteOf(service('a', { payment })).payment).toEqual(payment);
      expect(
        quoteOf(service('b', { payment, pricing: { mode: 'provider-defined', amount: 5, currency: 'USDT', rate: null, notes: [] } }))
          .payment,
      ).toEqual(payment);
      const bare = quoteOf(service('c', { payment: PAYMENT })).payment;
      expect(bare).toEqual(PAYMENT);
      expect(bare).not.toHaveProperty('amount');
      expect(bare).not.toHaveProperty('currency');
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------------------------------

describe('searchServices — determinism', () => {
  const services = () => [
    service('a', { pricing: fixed(0.1), payment: { ...PAYMENT, currency: 'USDT' } }),
    service('b', { integrationStatus: 'docs-only' }),
    service('c', { region: 'global', integrationStatus: 'credentials-required', providerKey: 'prov-c' }),
    service('d', { executionMode: 'external-handoff', pricing: fixed(3, null) }),
    service('e', { pricing: fixed(50) }),
    service('f', { capabilities: [] }),
  ];
  const criteria: SearchCriteria = {
    operation: 'get-price',
    region: 'EU-West',
    requirements: { capabilities: ['realtime'] },
    budget: { amount: 1, maxAmount: 10 },
    preferences: { preferredProviderKeys: ['prov-c'] },
    maxResults: 3,
  };
  const overrides: ContextOverrides = { suppliedCredentialKeys: new Set(['prov-c']), delegationPolicy: { perTransactionLimit: 40 } };

  it('gives deep-equal outcomes for the same inputs', () => {
    const first = search(services(), criteria, overrides);
    const second = search(services(), criteria, overrides);
    const again = search(services(), criteria, overrides);
    expect(second).toEqual(first);
    expect(again).toEqual(first);
    expect(ids(first)).toEqual(['a', 'c', 'd']);
    expect(first.ranked.map((r) => r.score)).toEqual([90, 83, 75]);
    expect(excludedIds(first)).toEqual(['b', 'e', 'f']);
  });

  it('does not mutate the services or the criteria', () => {
    const input = services();
    const snapshot = structuredClone(input);
    const frozenCriteria = deepFreeze(structuredClone(criteria));
    const frozen = deepFreeze(input);
    const outcome = search(frozen, frozenCriteria, overrides);
    expect(input).toEqual(snapshot);
    expect(frozenCriteria).toEqual(criteria);
    // Changing the outcome does not reach back into the catalogue.
    outcome.ranked[0].pricing.notes.push('x');
    outcome.ranked[0].payment.supportedRails.push('escrow');
    expect(input).toEqual(snapshot);
  });
});
