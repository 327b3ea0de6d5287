import { CatalogService, MarketServiceEndpoint } from '../catalog/catalog-types';

/** The service fields §8.5.2 reads. */
export type RoutableService = Pick<CatalogService, 'executionMode' | 'integrationStatus' | 'handoff' | 'endpoints' | 'providerKey'>;

/** The machine's runtime endpoint for the service's `providerKey` (§8.2), with its effective status. */
export type RuntimeEndpointCandidate = {
  id: string;
  endpointBaseUrl: string;
  source: 'manual' | 'agent';
  status: 'active' | 'degraded' | 'unreachable';
};

export type RouteResolutionInput = {
  service: RoutableService;
  /** The adapter's `runtimeEndpointRequired` (§6.3). */
  adapterRuntimeEndpointRequired: boolean;
  /** The order's operation. */
  operation: string;
  /** The machine's runtime endpoint for the service's provider key, or null when it has none. */
  usableRuntimeEndpoint: RuntimeEndpointCandidate | null;
};

export type RouteCandidate = {
  target: 'provider' | 'runtime-endpoint' | 'handoff';
  url: string;
  runtimeEndpointId: string | null;
  reason: string;
};

/** `details.reason` of `409 ROUTE_REQUIRED` (§8.5.2). */
export type RouteRequiredReason = 'no_handoff_target' | 'runtime_endpoint_required' | 'no_provider_endpoint';

export type RouteResolution = { ok: true; candidates: RouteCandidate[] } | { ok: false; reason: RouteRequiredReason };

/** §8.2: a runtime endpoint is usable when its effective status is `active` or `degraded`. */
export function isUsableRuntimeEndpoint(endpoint: Pick<RuntimeEndpointCandidate, 'status'> | null): boolean {
  return endpoint !== null && (endpoint.status === 'active' || endpoint.status === 'degraded');
}

/** §8.5.2: the candidate routes of an execution, in the order they are tried (§8.5.3). */
export function routeCandidates(input: RouteResolutionInput): RouteResolution {
  const { service } = input;
  if (service.executionMode === 'external-handoff') {
    const url = nonEmpty(service.handoff?.url) ?? service.endpoints.map((e) => nonEmpty(e.url)).find((u) => u !== null) ?? null;
    if (url === null) return { ok: false, reason: 'no_handoff_target' };
    return { ok: true, candidates: [{ target: 'handoff', url, runtimeEndpointId: null, reason: `external handoff to ${url}` }] };
  }

  const candidates: RouteCandidate[] = [];
  const endpoint = input.usableRuntimeEndpoint;
  if (endpoint !== null && isUsableRuntimeEndpoint(endpoint)) {
    candidates.push({
      target: 'runtime-endpoint',
      url: endpoint.endpointBaseUrl,
      runtimeEndpointId: endpoint.id,
      reason: `runtime endpoint ${endpoint.id} (${endpoint.source}, ${endpoint.status})`,
    });
  }
  const runtimeEndpointRequired = input.adapterRuntimeEndpointRequired || service.integrationStatus === 'local-config-required';
  if (!runtimeEndpointRequired) {
    const url = providerEndpointUrl(service, input.operation);
    if (url !== null) candidates.push({ target: 'provider', url, runtimeEndpointId: null, reason: `provider endpoint ${url}` });
  }
  if (candidates.length > 0) return { ok: true, candidates };
  return { ok: false, reason: runtimeEndpointRequired ? 'runtime_endpoint_required' : 'no_provider_endpoint' };
}

/** A service endpoint whose `url` is set (non-empty). */
export type ProviderEndpoint = MarketServiceEndpoint & { url: string };

/**
 * §8.5.2 step 2, the provider endpoint: the first entry of `endpoints` whose `operation` is the order's
 * operation, else the first entry without an operation, provided that entry has a non-empty `url`
 * (an entry without one is not skipped for a later one: there is then no provider endpoint).
 * Execution's provider candidate, the HTTP adapter's method and the x402 challenge fetch all read it.
 */
export function providerEndpoint(endpoints: readonly MarketServiceEndpoint[], operation: string): ProviderEndpoint | undefined {
  const entry =
    endpoints.find((e) => e.operation === operation) ?? endpoints.find((e) => e.operation === null || e.operation === undefined);
  return entry !== undefined && nonEmpty(entry.url) !== null ? (entry as ProviderEndpoint) : undefined;
}

/** The URL of the provider endpoint (§8.5.2 step 2): `url` + (`path` ?? ""), or null when there is none. */
export function providerEndpointUrl(service: Pick<RoutableService, 'endpoints'>, operation: string): string | null {
  const entry = providerEndpoint(service.endpoints, operation);
  return entry === undefined ? null : entry.url + (entry.path ?? '');
}

function nonEmpty(value: string | null | undefined): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}
