import { contract } from './catalog-fixture';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- catalogue files are JSON
type Json = any;

/**
 * A small catalogue (§2.5) made for the search e2e suites (§6.4.4): every integration status, both
 * execution modes, known and unknown prices (with and without currency, one of them `1e-7`), equal prices
 * and equal scores, so that scores, reasons, exclusions and every tie-break can be asserted exactly.
 *
 * Services are written in descending id order on purpose: search must still answer `excluded` sorted by
 * `serviceId` and break ties by id ascending.
 *
 * | id | provider | status | mode | price | region | capabilities |
 * | :-- | :-- | :-- | :-- | :-- | :-- | :-- |
 * | console.handoff | hand | partner-required | external-handoff | quote-required | global | wifi |
 * | compute.tiny | acme | native | native | 1e-7 USDC | ap-south | gpu |
 * | feed.alpha | acme | native | native | 0.5 usdt (→ USDT) | global | price-feed, crypto |
 * | feed.cheap | acme | native | native | 0.25, currency null (payment USDT) | eu-central | price-feed |
 * | feed.creds | beta | credentials-required | native | 0.1 USDT | global | price-feed, crypto, fx |
 * | feed.docs | docs | docs-only | native | provider-defined | global | price-feed |
 * | feed.local | gamma | local-config-required | native | 0, currency null | global | price-feed |
 * | feed.mid | acme | native | native | 0.75 USDT | global | price-feed |
 * | feed.partner | omega | partner-required | native | 0.2 EUR (payment says 5 USDT) | us-east | price-feed |
 * | feed.pricey | acme | native | native | 3 USDT | global | price-feed |
 * | feed.setup | delta | setup-required | native | quote-required | global | price-feed |
 * | feed.unknown | acme | native | native | provider-defined (USDT) | global | price-feed, crypto |
 * | feed.zeta | acme | native | native | 0.5 USDT | global | crypto, price-feed |
 *
 * Every `feed.*` service offers `get-price`; `feed.alpha` and `feed.unknown` also `get-price-history`.
 */
export function searchCatalogFile(): Json {
  const services = [
    service('console.handoff', {
      skillKey: 'network.partner-console',
      serviceType: 'network.partner-console',
      providerKey: 'hand',
      operations: ['open-console'],
      executionMode: 'external-handoff',
      integrationStatus: 'partner-required',
      pricing: { mode: 'quote-required', notes: ['Quoted per site.'] },
      payment: { defaultRail: 'external', required: false, supportedRails: ['external'] },
      capabilities: ['wifi'],
      handoff: { label: 'Hand console', url: 'https://console.hand.example/start', notes: ['Sign in with the operator account.'] },
    }),
    service('compute.tiny', {
      skillKey: 'compute.marketplace',
      serviceType: 'compute.marketplace',
      operations: ['run-job', 'chat-completion'],
      pricing: { mode: 'fixed', amount: 1e-7, currency: 'USDC', rate: 'per_request', notes: [] },
      payment: { defaultRail: 'x402', required: true, supportedRails: ['x402'], amount: '0.0000001', currency: 'USDC', network: 'base' },
      region: 'ap-south',
      capabilities: ['gpu'],
    }),
    service('feed.zeta', { capabilities: ['crypto', 'price-feed'] }),
    service('feed.unknown', {
      operations: ['get-price', 'get-price-history'],
      pricing: { mode: 'provider-defined', currency: 'USDT', rate: 'per_1k_requests', notes: ['Volume tiers.'] },
      payment: { defaultRail: 'x402', required: true, supportedRails: ['x402'], currency: 'USDT' },
      capabilities: ['price-feed', 'crypto'],
    }),
    service('feed.setup', {
      providerKey: 'delta',
      integrationStatus: 'setup-required',
      pricing: { mode: 'quote-required', notes: [] },
      payment: { defaultRail: 'offchain-record', required: false, supportedRails: ['offchain-record'] },
    }),
    service('feed.pricey', { pricing: price(3, 'USDT'), payment: wallet('3', 'USDT') }),
    service('feed.partner', {
      providerKey: 'omega',
      integrationStatus: 'partner-required',
      pricing: price(0.2, 'EUR'),
      // Deliberately not the price: the quote's payment must carry the price (§6.4.2).
      payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet', 'escrow'], amount: '5', currency: 'USDT' },
      region: 'us-east',
    }),
    service('feed.mid', { pricing: price(0.75, 'USDT'), payment: wallet('0.75', 'USDT') }),
    service('feed.local', {
      providerKey: 'gamma',
      integrationStatus: 'local-config-required',
      pricing: price(0, null),
      payment: { defaultRail: 'not-required', required: false, supportedRails: ['not-required'] },
    }),
    service('feed.docs', {
      providerKey: 'docs',
      integrationStatus: 'docs-only',
      pricing: { mode: 'provider-defined', notes: [] },
      payment: { defaultRail: 'not-required', required: false, supportedRails: ['not-required'] },
    }),
    service('feed.creds', {
      providerKey: 'beta',
      integrationStatus: 'credentials-required',
      pricing: price(0.1, 'USDT'),
      payment: wallet('0.1', 'USDT'),
      capabilities: ['price-feed', 'crypto', 'fx'],
    }),
    service('feed.cheap', {
      pricing: price(0.25, null),
      payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], currency: 'USDT' },
      region: 'eu-central',
    }),
    service('feed.alpha', {
      operations: ['get-price', 'get-price-history'],
      pricing: { mode: 'fixed', amount: 0.5, currency: 'usdt', rate: 'per_request', notes: ['Spot price.'] },
      payment: wallet('0.5', 'USDT'),
      capabilities: ['price-feed', 'crypto'],
    }),
  ];
  return {
    version: 1,
    skills: [
      skill('oracle.price-feed', 'acme', ['get-price', 'get-price-history']),
      skill('compute.marketplace', 'acme', ['run-job', 'chat-completion']),
      {
        ...skill('network.partner-console', 'hand', ['open-console']),
        executionMode: 'external-handoff',
        integrationStatus: 'partner-required',
      },
    ],
    adapters: [
      adapter('acme', 'native'),
      {
        ...adapter('beta', 'credentials-required'),
        authType: 'api-key',
        credentialFields: [
          { key: 'apiKey', label: 'API key', secret: true, required: true },
          { key: 'account', label: 'Account', secret: false, required: false },
        ],
      },
      { ...adapter('gamma', 'local-config-required'), authType: 'local', runtimeEndpointRequired: true },
      adapter('delta', 'setup-required'),
      adapter('omega', 'partner-required'),
      adapter('docs', 'docs-only'),
      { ...adapter('hand', 'partner-required'), authType: 'bearer' },
    ],
    services,
  };
}

function price(amount: number, currency: string | null): Json {
  return { mode: 'fixed', amount, currency, notes: [] };
}

function wallet(amount: string, currency: string): Json {
  return { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], amount, currency };
}

function skill(key: string, providerKey: string, operations: string[]): Json {
  return {
    key,
    providerKey,
    label: key,
    description: `The ${key} skill.`,
    serviceTypes: [key],
    operations,
    executionMode: 'native',
    integrationStatus: 'native',
  };
}

function adapter(providerKey: string, integrationStatus: string): Json {
  return {
    providerKey,
    label: providerKey.toUpperCase(),
    integrationStatus,
    authType: 'none',
    credentialFields: [],
    runtimeEndpointRequired: false,
    docsUrl: null,
    notes: [],
  };
}

/** A native, `native`-status `oracle.price-feed` service of `acme` at 0.5 USDT in `global`, changed by `overrides`. */
function service(id: string, overrides: Json = {}): Json {
  const base: Json = {
    id,
    skillKey: 'oracle.price-feed',
    providerKey: 'acme',
    companyName: `Company of ${id}`,
    serviceType: 'oracle.price-feed',
    name: `Service ${id}`,
    description: `The ${id} service.`,
    operations: ['get-price'],
    pricing: price(0.5, 'USDT'),
    payment: wallet('0.5', 'USDT'),
    endpoints: [],
    executionMode: 'native',
    integrationStatus: 'native',
    region: 'global',
    capabilities: ['price-feed'],
    metadata: {},
    providerId: id,
    providerLabel: id,
    authType: 'none',
    accessMode: 'public',
    distribution: 'openapi',
    maturity: 'production',
    kind: 'runtime',
    freshnessSeconds: 5,
    requiresHumanEnablement: false,
  };
  const merged = { ...base, ...overrides };
  return { ...merged, operationContracts: merged.operations.map((operation: string) => contract(operation)) };
}
