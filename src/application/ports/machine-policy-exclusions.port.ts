import { CatalogService } from '../../domain/catalog/catalog-types';

/**
 * §6.4.4 X5: the exclusion reasons the machine's policies (in `policyIds` order) give for a service.
 * Looked up once per search; the returned function is pure.
 */
export interface MachinePolicyExclusions {
  reasonsFor(policyIds: readonly string[]): Promise<(service: CatalogService) => string[]>;
}
export const MACHINE_POLICY_EXCLUSIONS = Symbol('MachinePolicyExclusions');
