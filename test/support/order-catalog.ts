import { fileAdapter, fileService, fileSkill, fixedPrice, walletPayment } from './catalog-fixture';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- catalogue files are JSON
type Json = any;

/** A payee and token the payment blocks of `feed.fixed` carry, so that the order's copy can be checked. */
export const FIXED_PAY_TO = '0x00000000000000000000000000000000000000aa';
export const FIXED_TOKEN = '0x00000000000000000000000000000000000000bb';

/**
 * A small catalogue (§2.5) for the order e2e suites (§7.3, §7.5.2): every source of the effective amount,
 * currencies known, unknown and in lower case, a service with several operations, a docs-only service and
 * an operation contract with every `OperationFieldType`.
 *
 * | id | provider | status | price | payment (as catalogued) | operations |
 * | :-- | :-- | :-- | :-- | :-- | :-- |
 * | feed.fixed | acme | native | 0.5 usdt (→ USDT) | wallet 0.5 USDT, payTo, network peaq, token | get-price |
 * | feed.cheap | acme | native | 0.25 USDT | wallet 0.25 USDT | get-price |
 * | feed.tiny | acme | native | 1e-7 USDT | wallet, no amount | get-price |
 * | feed.bare | acme | native | 2, currency null | offchain-record 2 EUR (neither carried over) | get-price |
 * | feed.eur | acme | native | 0.5 EUR | wallet 0.5 EUR | get-price |
 * | feed.open | acme | native | provider-defined (USDT) | x402 9 USDT (not carried over) | get-price |
 * | feed.multi | acme | native | 0.5 USDT | wallet 0.5 USDT | get-price, get-price-history |
 * | feed.docs | docs | docs-only | provider-defined | not-required | get-price |
 * | compute.job | beta | native | 1 USDT | wallet 1 USDT | run-job (every field type) |
 *
 * `get-price` and `get-price-history` take one required string `symbol` (catalog-fixture `contract`).
 */
export function orderCatalogFile(): Json {
  return {
    version: 1,
    skills: [
      fileSkill('oracle.price-feed', 'acme', ['get-price', 'get-price-history']),
      fileSkill('compute.marketplace', 'beta', ['run-job']),
    ],
    adapters: [fileAdapter('acme', 'native'), fileAdapter('beta', 'native'), fileAdapter('docs', 'docs-only')],
    services: [
      service('feed.fixed', {
        pricing: { mode: 'fixed', amount: 0.5, currency: 'usdt', rate: 'per_request', notes: ['Spot price.'] },
        payment: {
          defaultRail: 'wallet',
          required: true,
          supportedRails: ['wallet', 'escrow'],
          amount: '0.5',
          currency: 'USDT',
          payTo: FIXED_PAY_TO,
          network: 'peaq',
          tokenAddress: FIXED_TOKEN,
        },
        endpoints: [{ url: 'https://api.acme.example/price', method: 'GET', protocols: [], networks: [] }],
      }),
      service('feed.cheap', { pricing: fixedPrice(0.25, 'USDT'), payment: walletPayment('0.25', 'USDT') }),
      service('feed.tiny', {
        pricing: fixedPrice(1e-7, 'USDT'),
        payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], currency: 'USDT' },
      }),
      service('feed.bare', {
        pricing: fixedPrice(2, null),
        payment: { defaultRail: 'offchain-record', required: false, supportedRails: ['offchain-record'], amount: '2', currency: 'EUR' },
      }),
      service('feed.eur', { pricing: fixedPrice(0.5, 'EUR'), payment: walletPayment('0.5', 'EUR') }),
      service('feed.open', {
        pricing: { mode: 'provider-defined', currency: 'USDT', rate: 'per_1k_requests', notes: ['Volume tiers.'] },
        payment: { defaultRail: 'x402', required: true, supportedRails: ['x402'], amount: '9', currency: 'USDT', network: 'base' },
      }),
      service('feed.multi', { operations: ['get-price', 'get-price-history'] }),
      service('feed.docs', {
        providerKey: 'docs',
        integrationStatus: 'docs-only',
        distribution: 'docs-only',
        pricing: { mode: 'provider-defined', notes: [] },
        payment: { defaultRail: 'not-required', required: false, supportedRails: ['not-required'] },
      }),
      {
        ...service('compute.job', {
          skillKey: 'compute.marketplace',
          serviceType: 'compute.marketplace',
          providerKey: 'beta',
          operations: ['run-job'],
          pricing: fixedPrice(1, 'USDT'),
          payment: walletPayment('1', 'USDT'),
          capabilities: ['gpu'],
        }),
        operationContracts: [
          {
            operation: 'run-job',
            summary: 'Runs a job',
            inputFields: [
              { key: 'prompt', type: 'string', required: true },
              { key: 'maxTokens', type: 'integer', required: true },
              { key: 'temperature', type: 'number', required: false },
              { key: 'stream', type: 'boolean', required: false },
              { key: 'options', type: 'object', required: false },
              { key: 'tags', type: 'array', required: false },
            ],
            outputFields: [{ key: 'result', type: 'string', required: true }],
            exampleInput: { prompt: 'Hello', maxTokens: 16 },
            notes: [],
          },
        ],
      },
    ],
  };
}

/** The §2.5 `payment` block of a free service: the not-required rail, 0.1 USDT. */
export const FREE_PAYMENT = {
  defaultRail: 'not-required',
  required: false,
  supportedRails: ['not-required'],
  amount: '0.1',
  currency: 'USDT',
};

/** A required x402 §2.5 `payment` block: 0.01 USDC on base. */
export const X402_PAYMENT = {
  defaultRail: 'x402',
  required: true,
  supportedRails: ['x402'],
  amount: '0.01',
  currency: 'USDC',
  network: 'base',
};

/** A `vault` adapter: credentials required (`api-key`), a required secret `apiKey` and an optional `region`. */
export const VAULT_ADAPTER = fileAdapter('vault', 'credentials-required', {
  label: 'Vault',
  authType: 'api-key',
  credentialFields: [
    { key: 'apiKey', label: 'API key', secret: true, required: true },
    { key: 'region', label: 'Region', secret: false, required: false },
  ],
});

/** The members of a service of VAULT_ADAPTER. */
export const VAULT_SERVICE = { providerKey: 'vault', authType: 'api-key', integrationStatus: 'credentials-required' };

/**
 * A catalogue file of the execute and payment suites: the `oracle.price-feed` skill of `acme` with
 * `get-price` (labelled "Price feeds"), the native `acme` adapter followed by `adapters`, and `services`.
 */
export function acmeCatalogFile(services: Json[], adapters: Json[] = []): Json {
  return {
    version: 1,
    skills: [{ ...fileSkill('oracle.price-feed', 'acme', ['get-price']), label: 'Price feeds', description: 'Prices.' }],
    adapters: [fileAdapter('acme', 'native', { label: 'Acme' }), ...adapters],
    services,
  };
}

/**
 * A catalogue file of one free native service, `exec.free`, for apps whose scripted provider adapter
 * answers `execute`: its endpoint (port 9 on 127.0.0.1) is never called.
 */
export function freeExecCatalogFile(): Json {
  return acmeCatalogFile([
    fileService('exec.free', {
      pricing: fixedPrice(0.1, 'USDT'),
      payment: FREE_PAYMENT,
      endpoints: [{ url: 'http://127.0.0.1:9/never-called', method: 'POST', protocols: [], networks: [] }],
    }),
  ]);
}

/** The order catalogue's services carry `metadata: { tier: 'test' }`. */
function service(id: string, overrides: Json = {}): Json {
  return fileService(id, { metadata: { tier: 'test' }, ...overrides });
}
