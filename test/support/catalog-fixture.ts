import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- catalogue files are JSON; tests break them on purpose
type Json = any;

/**
 * A small, valid catalogue file (§2.5): one skill (`oracle.price-feed`), one adapter (`acme`) and one
 * service (`acme.feed`) with its operation contract. Tests change a copy to break one rule at a time.
 */
export function minimalCatalogFile(): Json {
  return {
    version: 1,
    skills: [
      {
        key: 'oracle.price-feed',
        providerKey: 'acme',
        label: 'Price feeds',
        description: 'Prices of asset pairs.',
        serviceTypes: ['oracle.price-feed'],
        operations: ['get-price', 'get-price-history'],
        executionMode: 'native',
        integrationStatus: 'native',
      },
    ],
    adapters: [
      {
        providerKey: 'acme',
        label: 'Acme',
        integrationStatus: 'native',
        authType: 'none',
        credentialFields: [],
        runtimeEndpointRequired: false,
        docsUrl: 'https://docs.acme.example',
        notes: [],
      },
    ],
    services: [
      {
        id: 'acme.feed',
        skillKey: 'oracle.price-feed',
        providerKey: 'acme',
        companyName: 'Acme',
        serviceType: 'oracle.price-feed',
        name: 'Acme price feed',
        description: 'Spot prices.',
        operations: ['get-price'],
        pricing: { mode: 'fixed', amount: 0.5, currency: 'usdt', notes: [] },
        payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], amount: '0.5', currency: 'usdt' },
        endpoints: [{ url: 'https://api.acme.example/price', method: 'GET', protocols: [], networks: [] }],
        executionMode: 'native',
        integrationStatus: 'native',
        region: 'global',
        capabilities: ['price-feed'],
        metadata: {},
        providerId: 'acme',
        providerLabel: 'Acme',
        authType: 'none',
        accessMode: 'public',
        distribution: 'openapi',
        maturity: 'production',
        kind: 'runtime',
        freshnessSeconds: 5,
        requiresHumanEnablement: false,
        operationContracts: [contract('get-price')],
      },
    ],
  };
}

/** An operation contract with one required string input. */
export function contract(operation: string): Json {
  return {
    operation,
    summary: `Contract of ${operation}`,
    inputFields: [{ key: 'symbol', type: 'string', required: true }],
    outputFields: [{ key: 'price', type: 'number', description: 'The price', required: true }],
    exampleInput: { symbol: 'ETH/USD' },
    notes: [],
  };
}

/** A fixed §2.5 `pricing` block. */
export function fixedPrice(amount: number, currency: string | null): Json {
  return { mode: 'fixed', amount, currency, notes: [] };
}

/** A required `wallet`-only §2.5 `payment` block. */
export function walletPayment(amount: string, currency: string): Json {
  return { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], amount, currency };
}

/** A native, `native`-status catalogue-file skill labelled by its key (serving `serviceTypes`, by default its key). */
export function fileSkill(key: string, providerKey: string, operations: string[], serviceTypes: string[] = [key]): Json {
  return {
    key,
    providerKey,
    label: key,
    description: `The ${key} skill.`,
    serviceTypes,
    operations,
    executionMode: 'native',
    integrationStatus: 'native',
  };
}

/** A catalogue-file adapter without credentials or docs, labelled by its upper-cased key, changed by `extra`. */
export function fileAdapter(providerKey: string, integrationStatus: string, extra: Json = {}): Json {
  return {
    providerKey,
    label: providerKey.toUpperCase(),
    integrationStatus,
    authType: 'none',
    credentialFields: [],
    runtimeEndpointRequired: false,
    docsUrl: null,
    notes: [],
    ...extra,
  };
}

/**
 * A native, `native`-status `oracle.price-feed` service of `acme` at 0.5 USDT with `get-price` in `global`,
 * changed by `overrides`; its `operationContracts` are `contract()` of its (possibly overridden) operations.
 */
export function fileService(id: string, overrides: Json = {}): Json {
  const base: Json = {
    id,
    skillKey: 'oracle.price-feed',
    providerKey: 'acme',
    companyName: `Company of ${id}`,
    serviceType: 'oracle.price-feed',
    name: `Service ${id}`,
    description: `The ${id} service.`,
    operations: ['get-price'],
    pricing: fixedPrice(0.5, 'USDT'),
    payment: walletPayment('0.5', 'USDT'),
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

/** Writes `content` (JSON-encoded unless a string) to `<dir>/<name>` and returns the path. */
export function writeCatalogFile(dir: string, content: unknown, name = 'catalog.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** §6.2 `CatalogService` members that are always present (referenceUrl and artifactUrl only when set). */
export const SERVICE_MEMBERS = [
  'id',
  'skillKey',
  'providerKey',
  'companyName',
  'serviceType',
  'name',
  'description',
  'operations',
  'pricing',
  'payment',
  'endpoints',
  'endpoint',
  'consumption',
  'executionMode',
  'integrationStatus',
  'region',
  'capabilities',
  'handoff',
  'metadata',
  'providerId',
  'providerLabel',
  'authType',
  'accessMode',
  'distribution',
  'maturity',
  'kind',
  'freshnessSeconds',
  'requiresHumanEnablement',
];
