import { CatalogStatus } from '../../application/ports/catalog-status.port';

/**
 * The catalogue before one is loaded: no skills, no services. Readiness reports the `catalog` and
 * `skills` checks as `warn` for it (§3.2). The catalogue loader (§2.5) replaces this provider.
 */
export class EmptyCatalog implements CatalogStatus {
  serviceCount(): number {
    return 0;
  }
  skillCount(): number {
    return 0;
  }
}
