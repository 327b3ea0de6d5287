/** What readiness needs to know of the loaded catalogue and skill registry (§3.2). */
export interface CatalogStatus {
  serviceCount(): number;
  skillCount(): number;
}
export const CATALOG_STATUS = Symbol('CatalogStatus');
