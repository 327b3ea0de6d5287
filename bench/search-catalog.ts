import { catalogService } from '../test/support/catalog-service';
import {
  CatalogServiceWithContracts,
  ExecutionMode,
  IntegrationStatus,
  SERVICE_TYPES,
  ServiceType,
} from '../src/domain/catalog/catalog-types';

/**
 * A synthetic catalogue of `count` services spread over the eight service types, every integration
 * status and execution mode, six regions and global, with known and unknown prices: the shape of the
 * shipped catalogue, repeated. Sorted by id, as the Catalog port serves services.
 */
export function syntheticServices(count: number): CatalogServiceWithContracts[] {
  const statuses: IntegrationStatus[] = [
    'native',
    'credentials-required',
    'partner-required',
    'local-config-required',
    'setup-required',
    'docs-only',
  ];
  const regions = ['global', 'eu-west', 'us-east', 'ap-south', 'eu-central', 'us-west', 'sa-east'];
  const services: CatalogServiceWithContracts[] = [];
  for (let i = 0; i < count; i++) {
    const serviceType: ServiceType = SERVICE_TYPES[i % SERVICE_TYPES.length];
    const executionMode: ExecutionMode = i % 7 === 3 ? 'external-handoff' : 'native';
    const providerKey = `provider-${i % 97}`;
    const id = `svc-${String(i).padStart(6, '0')}`;
    const fixedPrice = i % 3 !== 0;
    services.push({
      ...catalogService({
        id,
        skillKey: serviceType,
        providerKey,
        companyName: `Company ${i % 211}`,
        serviceType,
        name: `Service ${i}`,
        description: `Synthetic ${serviceType} service number ${i}`,
        operations: ['query', i % 2 === 0 ? 'stream' : 'batch'],
        pricing: {
          mode: fixedPrice ? 'fixed' : 'provider-defined',
          amount: fixedPrice ? Number(((i % 50) / 10 + 0.05).toFixed(2)) : null,
          currency: fixedPrice ? 'USDT' : null,
          rate: fixedPrice ? 'per_request' : null,
          notes: [],
        },
        payment: {
          defaultRail: fixedPrice ? 'wallet' : 'not-required',
          required: fixedPrice,
          supportedRails: fixedPrice ? ['wallet', 'x402'] : ['not-required'],
        },
        executionMode,
        integrationStatus: statuses[i % statuses.length],
        region: regions[i % regions.length],
        capabilities: i % 4 === 0 ? ['gpu', 'low-latency'] : ['low-latency'],
        handoff: executionMode === 'external-handoff' ? { label: 'Console', url: `https://partner.example/${id}`, notes: [] } : null,
        providerId: providerKey,
        providerLabel: `Provider ${i % 97}`,
      }),
      operationContracts: [],
    });
  }
  return services.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The same synthetic catalogue as a §2.5 catalogue file (skills and adapters for every key used). */
export function syntheticCatalogFile(count: number): Record<string, unknown> {
  const services = syntheticServices(count);
  const providerKeys = [...new Set(services.map((s) => s.providerKey))].sort();
  const skills = SERVICE_TYPES.map((serviceType) => ({
    key: serviceType,
    providerKey: providerKeys[0],
    label: serviceType,
    description: `Synthetic ${serviceType} skill`,
    serviceTypes: [serviceType],
    operations: ['query', 'stream', 'batch'],
    executionMode: 'native',
    integrationStatus: 'native',
  }));
  const adapters = providerKeys.map((providerKey) => ({
    providerKey,
    label: providerKey,
    integrationStatus: 'native',
    authType: 'none',
    credentialFields: [],
    runtimeEndpointRequired: false,
    docsUrl: null,
    notes: [],
  }));
  return {
    version: 1,
    skills,
    adapters,
    services: services.map(({ consumption: _consumption, endpoint: _endpoint, operationContracts: _contracts, ...service }) => ({
      ...service,
      operationContracts: service.operations.map((operation) => ({
        operation,
        summary: `${operation} ${service.name}`,
        inputFields: [],
        outputFields: [],
        exampleInput: {},
        notes: [],
      })),
    })),
  };
}
