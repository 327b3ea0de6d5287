import { CatalogService } from '../../domain/catalog/catalog-types';

/**
 * The machine policies (§8.6) that deny a service, for the `machineContext` of the service detail
 * (§6.3.4): for each policy in the given `policyIds` order that denies it, the first failing rule with
 * its `reason` code. Price-dependent rules are evaluated only when the service's price is known.
 * Answered by the policies feature.
 */
export interface MachinePolicyDenials {
  denialsFor(policyIds: readonly string[], service: CatalogService): Promise<Array<{ policyId: string; reason: string }>>;
}
export const MACHINE_POLICY_DENIALS = Symbol('MachinePolicyDenials');
