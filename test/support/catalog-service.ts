import { CatalogService } from '../../src/domain/catalog/catalog-types';

/**
 * A complete `CatalogService` (§6.2) for unit specs: a native, fixed-price (0.5 USDT) price feed of
 * provider `acme`, with `consumption` computed from its id and provider key. Override what a test is about.
 */
export function catalogService(overrides: Partial<CatalogService> = {}): CatalogService {
  const id = overrides.id ?? 'acme.feed';
  const providerKey = overrides.providerKey ?? 'acme';
  return {
    id,
    skillKey: 'oracle.price',
    providerKey,
    companyName: 'Acme',
    serviceType: 'oracle.price-feed',
    name: `Service ${id}`,
    description: '',
    operations: ['get-price'],
    pricing: { mode: 'fixed', amount: 0.5, currency: 'USDT', rate: null, notes: [] },
    payment: { defaultRail: 'x402', required: true, supportedRails: ['x402'] },
    endpoints: [],
    endpoint: null,
    consumption: {
      adapterSetupPath: `/api/v1/market/adapters/${providerKey}`,
      serviceDetailPath: `/api/v1/market/services/${id}`,
      marketSearchPath: '/api/v1/market/search',
      orderCreatePath: '/api/v1/market/orders',
    },
    executionMode: 'native',
    integrationStatus: 'native',
    region: 'global',
    capabilities: [],
    handoff: null,
    metadata: {},
    providerId: `provider-${providerKey}`,
    providerLabel: 'Acme',
    authType: 'none',
    accessMode: 'public',
    distribution: 'peaq-native',
    maturity: 'production',
    kind: 'runtime',
    freshnessSeconds: 60,
    requiresHumanEnablement: false,
    ...overrides,
  };
}
