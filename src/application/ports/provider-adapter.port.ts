import { AdapterSetup, CatalogService, ExternalHandoff } from '../../domain/catalog/catalog-types';
import { PaymentHeaders } from '../../domain/order/payment-headers';
import { AttemptResult } from '../../domain/task/dispatch-result';
import { RouteCandidate } from '../../domain/task/route-resolution';

/** §0.7 `ProviderCredentials`: `{ [providerKey]: { [field]: value } }`. Secret: forwarded, never stored. */
export type ProviderCredentials = Record<string, Record<string, string>>;

/**
 * One dispatch attempt of `execute` (§7.5.10 step 9, §8.5.3) on one route candidate. It carries the
 * raw payment headers and credentials of the request: adapters forward them and keep nothing.
 */
export type ProviderInvocation = {
  route: RouteCandidate;
  service: CatalogService;
  /** The catalogue's adapter setup for the service's provider key (§6.3), if any. */
  adapter: AdapterSetup | null;
  orderId: string;
  taskId: string;
  runId: string;
  /** `Run.attempt` of this attempt. */
  attempt: number;
  machineId: string;
  operation: string;
  /** The execution's input, unredacted (the stored copy is redacted, §9). */
  input: Record<string, unknown>;
  paymentHeaders: PaymentHeaders | null;
  providerCredentials: ProviderCredentials | null;
  correlationId: string;
  /** `PEAQOS_EXECUTE_TIMEOUT_MS`: the bound of this attempt. */
  timeoutMs: number;
};

/** A provider's answer kept beyond the §8.5.3 classification. */
export type ProviderResponseExtras = {
  /** The `payment-response` header, verbatim (§8.5.4), or null. */
  paymentResponse: string | null;
  /** On a `402`: the `payment-required` and `www-authenticate` headers, verbatim (for the new challenge). */
  challengeHeaders: Record<string, string>;
};

export type ProviderAnswer =
  /** `external-handoff`: nothing is dispatched; the run succeeds with the service's handoff. */
  | { kind: 'handoff'; handoff: ExternalHandoff }
  /** An attempt on the route's target, as §8.5.3 classifies it. */
  | { kind: 'attempt'; result: AttemptResult; extras?: ProviderResponseExtras };

/**
 * How `execute` reaches a route's target. Adapters are asked in order; the first that `handles` the
 * route dispatches it. The external-handoff adapter answers handoff routes; provider routes use the
 * generic protocol of §8.5.4 unless an adapter for the provider key comes first.
 */
export interface ProviderAdapter {
  /** A name for logs and `Route.reason`-free diagnostics. */
  readonly name: string;
  handles(route: RouteCandidate, service: CatalogService): boolean;
  invoke(invocation: ProviderInvocation): Promise<ProviderAnswer>;
}

/** The ordered list of adapters (`ProviderAdapter[]`). */
export const PROVIDER_ADAPTERS = Symbol('ProviderAdapters');
