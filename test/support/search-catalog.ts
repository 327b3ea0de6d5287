import { fileAdapter, fileService, fileSkill, fixedPrice, walletPayment } from './catalog-fixture';

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
    fileService('console.handoff', {
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
    fileService('compute.tiny', {
      skillKey: 'compute.marketplace',
      serviceType: 'compute.marketplace',
      operations: ['run-job', 'chat-completion'],
      pricing: { mode: 'fixed', amount: 1e-7, currency: 'USDC', rate: 'per_request', notes: [] },
      payment: { defaultRail: 'x402', required: true, supportedRails: ['x402'], amount: '0.0000001', currency: 'USDC', network: 'base' },
      region: 'ap-south',
      capabilities: ['gpu'],
    }),
    fileService('feed.zeta', { capabilities: ['crypto', 'price-feed'] }),
    fileService('feed.unknown', {
      operations: ['get-price', 'get-price-history'],
      pricing: { mode: 'provider-defined', currency: 'USDT', rate: 'per_1k_requests', notes: ['Volume tiers.'] },
      payment: { defaultRail: 'x402', required: true, supportedRails: ['x402'], currency: 'USDT' },
      capabilities: ['price-feed', 'crypto'],
    }),
    fileService('feed.setup', {
      providerKey: 'delta',
      integrationStatus: 'setup-required',
      pricing: { mode: 'quote-required', notes: [] },
      payment: { defaultRail: 'offchain-record', required: false, supportedRails: ['offchain-record'] },
    }),
    fileService('feed.pricey', { pricing: fixedPrice(3, 'USDT'), payment: walletPayment('3', 'USDT') }),
    fileService('feed.partner', {
      providerKey: 'omega',
      integrationStatus: 'partner-required',
      pricing: fixedPrice(0.2, 'EUR'),
      // Deliberately not the price: the quote's payment must carry the price (§6.4.2).
      payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet', 'escrow'], amount: '5', currency: 'USDT' },
      region: 'us-east',
    }),
    fileService('feed.mid', { pricing: fixedPrice(0.75, 'USDT'), payment: walletPayment('0.75', 'USDT') }),
    fileService('feed.local', {
      providerKey: 'gamma',
      integrationStatus: 'local-config-required',
      pricing: fixedPrice(0, null),
      payment: { defaultRail: 'not-required', required: false, supportedRails: ['not-required'] },
    }),
    fileService('feed.docs', {
      providerKey: 'docs',
      integrationStatus: 'docs-only',
      pricing: { mode: 'provider-defined', notes: [] },
      payment: { defaultRail: 'not-required', required: false, supportedRails: ['not-required'] },
    }),
    fileService('feed.creds', {
      providerKey: 'beta',
      integrationStatus: 'credentials-required',
      pricing: fixedPrice(0.1, 'USDT'),
      payment: walletPayment('0.1', 'USDT'),
      capabilities: ['price-feed', 'crypto', 'fx'],
    }),
    fileService('feed.cheap', {
      pricing: fixedPrice(0.25, null),
      payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], currency: 'USDT' },
      region: 'eu-central',
    }),
    fileService('feed.alpha', {
      operations: ['get-price', 'get-price-history'],
      pricing: { mode: 'fixed', amount: 0.5, currency: 'usdt', rate: 'per_request', notes: ['Spot price.'] },
      payment: walletPayment('0.5', 'USDT'),
      capabilities: ['price-feed', 'crypto'],
    }),
  ];
  return {
    version: 1,
    skills: [
      fileSkill('oracle.price-feed', 'acme', ['get-price', 'get-price-history']),
      fileSkill('compute.marketplace', 'acme', ['run-job', 'chat-completion']),
      {
        ...fileSkill('network.partner-console', 'hand', ['open-console']),
        executionMode: 'external-handoff',
        integrationStatus: 'partner-required',
      },
    ],
    adapters: [
      fileAdapter('acme', 'native'),
      {
        ...fileAdapter('beta', 'credentials-required'),
        authType: 'api-key',
        credentialFields: [
          { key: 'apiKey', label: 'API key', secret: true, required: true },
          { key: 'account', label: 'Account', secret: false, required: false },
        ],
      },
      { ...fileAdapter('gamma', 'local-config-required'), authType: 'local', runtimeEndpointRequired: true },
      fileAdapter('delta', 'setup-required'),
      fileAdapter('omega', 'partner-required'),
      fileAdapter('docs', 'docs-only'),
      { ...fileAdapter('hand', 'partner-required'), authType: 'bearer' },
    ],
    services,
  };
}
