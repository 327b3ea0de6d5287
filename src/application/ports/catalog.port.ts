import { AdapterSetup, CatalogServiceWithContracts, SkillSummary } from '../../domain/catalog/catalog-types';

/**
 * The loaded catalogue (§2.5, §6): skills, services with their operation contracts, adapters.
 * Read-only and in memory; loaded and validated once at start. Lists are sorted by their key
 * (skills by `key`, services by `id`, adapters by `providerKey`, UTF-16 code-unit order).
 */
export interface Catalog {
  skills(): readonly SkillSummary[];
  skill(key: string): SkillSummary | undefined;
  /** Every service, `consumption` and `endpoint` computed (§6.2). */
  services(): readonly CatalogServiceWithContracts[];
  service(id: string): CatalogServiceWithContracts | undefined;
  adapters(): readonly AdapterSetup[];
  /** `providerKey` as given; callers lower-case path keys first (§6.3.6). */
  adapter(providerKey: string): AdapterSetup | undefined;
}
export const CATALOG = Symbol('Catalog');
