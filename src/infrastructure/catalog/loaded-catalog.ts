import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Catalog } from '../../application/ports/catalog.port';
import { CatalogStatus } from '../../application/ports/catalog-status.port';
import { AdapterSetup, CatalogServiceWithContracts, SkillSummary } from '../../domain/catalog/catalog-types';
import { StartupError } from '../core/startup-error';
import { CatalogFileContents, CatalogFileService, CatalogViolation, parseCatalogFile } from './catalog-file';
import { deepFreeze } from '../../domain/shared/deep-freeze';

const VARIABLE = 'PEAQOS_CATALOG_PATH';
/** Violations named in the one-line start-up error (§2.1); the rest are counted. */
const VIOLATIONS_SHOWN = 20;

/**
 * The catalogue of §2.5 and §6, read once at start and held in memory, read-only: skills, services
 * (with `consumption` and `endpoint` computed, §6.2) and adapters, each sorted by its key in UTF-16
 * code-unit order. Also the `catalog` and `skills` facts readiness reports (§3.2).
 */
export class LoadedCatalog implements Catalog, CatalogStatus {
  private readonly skillList: readonly SkillSummary[];
  private readonly serviceList: readonly CatalogServiceWithContracts[];
  private readonly adapterList: readonly AdapterSetup[];
  private readonly skillByKey: ReadonlyMap<string, SkillSummary>;
  private readonly serviceById: ReadonlyMap<string, CatalogServiceWithContracts>;
  private readonly adapterByKey: ReadonlyMap<string, AdapterSetup>;

  constructor(contents: CatalogFileContents) {
    this.skillList = deepFreeze(sortBy([...contents.skills], (s) => s.key));
    this.serviceList = deepFreeze(sortBy(contents.services.map(toCatalogService), (s) => s.id));
    this.adapterList = deepFreeze(sortBy([...contents.adapters], (a) => a.providerKey));
    this.skillByKey = new Map(this.skillList.map((s) => [s.key, s]));
    this.serviceById = new Map(this.serviceList.map((s) => [s.id, s]));
    this.adapterByKey = new Map(this.adapterList.map((a) => [a.providerKey, a]));
  }

  skills(): readonly SkillSummary[] {
    return this.skillList;
  }
  skill(key: string): SkillSummary | undefined {
    return this.skillByKey.get(key);
  }
  services(): readonly CatalogServiceWithContracts[] {
    return this.serviceList;
  }
  service(id: string): CatalogServiceWithContracts | undefined {
    return this.serviceById.get(id);
  }
  adapters(): readonly AdapterSetup[] {
    return this.adapterList;
  }
  adapter(providerKey: string): AdapterSetup | undefined {
    return this.adapterByKey.get(providerKey);
  }

  serviceCount(): number {
    return this.serviceList.length;
  }
  skillCount(): number {
    return this.skillList.length;
  }
}

/**
 * Reads and validates the catalogue file at `path` (§2.5). Anything wrong with it stops the start with
 * one `Invalid configuration: PEAQOS_CATALOG_PATH: …` line (§2.1, §2.4).
 */
export function readCatalog(path: string): LoadedCatalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new StartupError(VARIABLE, `cannot read the catalogue file ${path}: ${(error as Error).message}`);
  }
  const result = parseCatalogFile(text);
  if (!result.ok) throw new StartupError(VARIABLE, `${path} is not a valid catalogue file: ${describeViolations(result.violations)}`);
  return new LoadedCatalog(result.contents);
}

/** `PEAQOS_CATALOG_PATH`, or the shipped catalogue when it is unset (§2.2). */
export function catalogPathOf(config: { catalogPath: string | null }): string {
  return config.catalogPath ?? shippedCatalogPath();
}

/**
 * The shipped `catalog/catalog.json` at the root of the package: the nearest ancestor of this file's
 * directory that holds both `package.json` and `catalog/catalog.json`. The same walk works from
 * `src/infrastructure/catalog` (ts-node, ts-jest) and from `dist/infrastructure/catalog` (npm run build).
 */
export function shippedCatalogPath(start: string = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'catalog', 'catalog.json');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) {
      throw new StartupError(VARIABLE, `is not set and the shipped catalogue (catalog/catalog.json) was not found above ${start}`);
    }
  }
}

export function describeViolations(violations: readonly CatalogViolation[]): string {
  const shown = violations.slice(0, VIOLATIONS_SHOWN).map((v) => `${v.path} ${v.message}`);
  const more = violations.length - shown.length;
  const count = `${violations.length} violation${violations.length === 1 ? '' : 's'}`;
  return `${count}: ${shown.join('; ')}${more > 0 ? `; … and ${more} more` : ''}`;
}

/** §6.2: the service as the API returns it, members in the published order, computed members filled. */
function toCatalogService(s: CatalogFileService): CatalogServiceWithContracts {
  const position = new Map(s.operations.map((operation, i) => [operation, i]));
  return {
    id: s.id,
    skillKey: s.skillKey,
    providerKey: s.providerKey,
    companyName: s.companyName,
    serviceType: s.serviceType,
    name: s.name,
    description: s.description,
    operations: s.operations,
    pricing: s.pricing,
    payment: s.payment,
    endpoints: s.endpoints,
    endpoint: s.endpoints[0] ?? null,
    consumption: {
      adapterSetupPath: `/api/v1/market/adapters/${s.providerKey}`,
      serviceDetailPath: `/api/v1/market/services/${s.id}`,
      marketSearchPath: '/api/v1/market/search',
      orderCreatePath: '/api/v1/market/orders',
    },
    executionMode: s.executionMode,
    integrationStatus: s.integrationStatus,
    region: s.region,
    capabilities: s.capabilities,
    handoff: s.handoff,
    metadata: s.metadata,
    providerId: s.providerId,
    providerLabel: s.providerLabel,
    authType: s.authType,
    accessMode: s.accessMode,
    distribution: s.distribution,
    maturity: s.maturity,
    kind: s.kind,
    freshnessSeconds: s.freshnessSeconds,
    requiresHumanEnablement: s.requiresHumanEnablement,
    ...(s.referenceUrl !== undefined ? { referenceUrl: s.referenceUrl } : {}),
    ...(s.artifactUrl !== undefined ? { artifactUrl: s.artifactUrl } : {}),
    // One contract per operation (validated), in the order of `operations`.
    operationContracts: [...s.operationContracts].sort((a, b) => position.get(a.operation)! - position.get(b.operation)!),
  };
}

/** UTF-16 code-unit order, as every catalogue list and cursor compares keys (§0.10). */
function sortBy<T>(items: T[], keyOf: (item: T) => string): T[] {
  return items.sort((a, b) => {
    const x = keyOf(a);
    const y = keyOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
