/** §6.1–§6.2 and §7.2: the catalogue's types, exactly as the API returns them. */

export const SERVICE_TYPES = [
  'oracle.price-feed',
  'compute.marketplace',
  'storage.object',
  'data.location',
  'network.partner-console',
  'identity.proof-of-person',
  'device.control',
  'machine.commerce',
] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export const EXECUTION_MODES = ['native', 'external-handoff'] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

export const INTEGRATION_STATUSES = [
  'native',
  'credentials-required',
  'partner-required',
  'local-config-required',
  'setup-required',
  'docs-only',
] as const;
export type IntegrationStatus = (typeof INTEGRATION_STATUSES)[number];

export const PAYMENT_RAIL_TYPES = [
  'not-required',
  'wallet',
  'x402',
  'xvv42',
  'vault-stripe',
  'wdk-usdt-transfer',
  'escrow',
  'offchain-record',
  'external',
  'onchain-escrow',
] as const;
export type MarketPaymentRailType = (typeof PAYMENT_RAIL_TYPES)[number];

export const AUTH_TYPES = ['none', 'bearer', 'api-key', 'wallet', 'local'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** §0.5: skill keys, service ids and provider keys. */
export const CATALOGUE_KEY = /^[a-z0-9][a-z0-9._:-]{0,127}$/;

export type SkillSummary = {
  key: string;
  providerKey: string;
  label: string;
  description: string;
  serviceTypes: ServiceType[];
  operations: string[];
  executionMode: ExecutionMode;
  integrationStatus: IntegrationStatus;
};

export type MarketServicePricing = {
  mode: 'provider-defined' | 'fixed' | 'quote-required';
  amount: number | null;
  currency: string | null;
  rate: string | null;
  notes: string[];
};

export type MarketPaymentRailRecommendation = {
  defaultRail: MarketPaymentRailType;
  required: boolean;
  supportedRails: MarketPaymentRailType[];
  currency?: string;
  /** Decimal string, human units. */
  amount?: string;
  payTo?: string;
  network?: string;
  tokenAddress?: string;
};

export type MarketServiceEndpoint = {
  label?: string | null;
  operation?: string | null;
  url?: string | null;
  method?: string | null;
  path?: string | null;
  providerName?: string | null;
  key?: string | null;
  protocols: string[];
  networks: string[];
};

export type ExternalHandoff = { label: string; url: string; notes: string[] };

export type MarketService = {
  id: string;
  skillKey: string;
  providerKey: string;
  companyName: string;
  serviceType: ServiceType;
  name: string;
  description: string;
  operations: string[];
  pricing: MarketServicePricing;
  payment: MarketPaymentRailRecommendation;
  endpoints: MarketServiceEndpoint[];
  /** Legacy alias of `endpoints[0]`, `null` when there is none (§6.2). */
  endpoint: MarketServiceEndpoint | null;
  consumption: { adapterSetupPath: string; serviceDetailPath: string; marketSearchPath: string; orderCreatePath: string };
  executionMode: ExecutionMode;
  integrationStatus: IntegrationStatus;
  /** Lower-case; `global` serves every region. */
  region: string;
  capabilities: string[];
  handoff: ExternalHandoff | null;
  metadata: Record<string, unknown>;
};

export type CatalogService = MarketService & {
  providerId: string;
  providerLabel: string;
  authType: AuthType;
  accessMode: 'public' | 'credentialed' | 'partner-approved' | 'whitelisted' | 'local';
  distribution: 'peaq-native' | 'clawhub' | 'openapi' | 'mcp' | 'docs-only';
  maturity: 'reference' | 'beta' | 'production';
  kind: 'runtime' | 'reference';
  freshnessSeconds: number;
  requiresHumanEnablement: boolean;
  referenceUrl?: string;
  artifactUrl?: string;
};

export type OperationFieldType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

export type OperationField = { key: string; type: OperationFieldType; description?: string; required: boolean };

export type OperationContract = {
  operation: string;
  summary: string;
  inputFields: OperationField[];
  outputFields: OperationField[];
  exampleInput: Record<string, unknown>;
  notes: string[];
};

export type AdapterSetup = {
  providerKey: string;
  label: string;
  integrationStatus: IntegrationStatus;
  authType: AuthType;
  credentialFields: Array<{ key: string; label: string; secret: boolean; required: boolean }>;
  runtimeEndpointRequired: boolean;
  docsUrl: string | null;
  notes: string[];
};

/** A catalogued service with its operation contracts (one per operation, §2.5). */
export type CatalogServiceWithContracts = CatalogService & { operationContracts: OperationContract[] };

/** §6.2: the machine's view of a service (`GET /market/services/:serviceId?machineId=`). */
export type MarketServiceMachineContext = {
  machineId: string;
  /** The machine's runtime endpoint for the service's `providerKey` (§8.2), or null. */
  runtimeEndpoint: {
    id: string;
    status: 'active' | 'degraded' | 'unreachable';
    source: 'manual' | 'agent';
    leaseExpiresAt: string | null;
  } | null;
  /** The machine policies that deny the service, in `policyIds` order (§8.6). */
  policyDenials: Array<{ policyId: string; reason: string }>;
};

/** §6.2 `MarketServiceDetail`: `machineContext` only when `?machineId=` is given. */
export type MarketServiceDetail = CatalogServiceWithContracts & { machineContext?: MarketServiceMachineContext };

/** The enum members of §6.2 the catalogue file is validated against (§2.5). */
export const PRICING_MODES: readonly MarketServicePricing['mode'][] = ['provider-defined', 'fixed', 'quote-required'];
export const ACCESS_MODES: readonly CatalogService['accessMode'][] = ['public', 'credentialed', 'partner-approved', 'whitelisted', 'local'];
export const DISTRIBUTIONS: readonly CatalogService['distribution'][] = ['peaq-native', 'clawhub', 'openapi', 'mcp', 'docs-only'];
export const MATURITIES: readonly CatalogService['maturity'][] = ['reference', 'beta', 'production'];
export const SERVICE_KINDS: readonly CatalogService['kind'][] = ['runtime', 'reference'];
export const OPERATION_FIELD_TYPES: readonly OperationFieldType[] = ['string', 'number', 'integer', 'boolean', 'object', 'array'];

/** §6.2: a price is known when `pricing.mode` is `fixed` and `pricing.amount` is not null. */
export function knownPrice(service: Pick<MarketService, 'pricing'>): number | null {
  return service.pricing.mode === 'fixed' && service.pricing.amount !== null ? service.pricing.amount : null;
}
