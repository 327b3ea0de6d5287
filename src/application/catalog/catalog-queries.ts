import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import {
  AdapterSetup,
  AuthType,
  CatalogService,
  CatalogServiceWithContracts,
  ExecutionMode,
  IntegrationStatus,
  MarketServiceDetail,
  ServiceType,
  SkillSummary,
} from '../../domain/catalog/catalog-types';
import { notFound } from '../../domain/shared/domain-error';
import { MachineGates } from '../machines/machine-gates';
import { CATALOG, Catalog } from '../ports/catalog.port';
import { MACHINE_POLICY_DENIALS, MachinePolicyDenials } from '../ports/machine-policy-denials.port';

/*
 * The read side of the catalogue (§6.3). Lists answer up to `limit + 1` entries after the cursor's key
 * (the extra one tells that a next page exists, §0.10); the catalogue keeps every list sorted by its key.
 */

/** §6.3.1 */
export type SkillFilters = { serviceType?: ServiceType; providerKey?: string };

export class ListSkills {
  constructor(
    readonly filters: SkillFilters,
    readonly after: string | null,
    readonly limit: number,
  ) {}
}

@QueryHandler(ListSkills)
export class ListSkillsHandler implements IQueryHandler<ListSkills, SkillSummary[]> {
  constructor(@Inject(CATALOG) private readonly catalog: Catalog) {}

  execute({ filters, after, limit }: ListSkills): Promise<SkillSummary[]> {
    // §0.5: provider keys are lower-case; one given in a request is lower-cased before use.
    const providerKey = filters.providerKey?.toLowerCase();
    const matching = this.catalog
      .skills()
      .filter(
        (skill) =>
          (filters.serviceType === undefined || skill.serviceTypes.includes(filters.serviceType)) &&
          (providerKey === undefined || skill.providerKey === providerKey),
      );
    return Promise.resolve(pageAfter(matching, (skill) => skill.key, after, limit));
  }
}

/** §6.3.2 */
export class GetSkill {
  constructor(readonly skillKey: string) {}
}

@QueryHandler(GetSkill)
export class GetSkillHandler implements IQueryHandler<GetSkill, SkillSummary> {
  constructor(@Inject(CATALOG) private readonly catalog: Catalog) {}

  execute({ skillKey }: GetSkill): Promise<SkillSummary> {
    const skill = this.catalog.skill(skillKey);
    if (!skill) throw notFound('skill', skillKey);
    return Promise.resolve(skill);
  }
}

/** §6.3.3: combined with AND. */
export type ServiceFilters = {
  serviceType?: ServiceType;
  skillKey?: string;
  providerKey?: string;
  executionMode?: ExecutionMode;
  region?: string;
  q?: string;
};

export class ListServices {
  constructor(
    readonly filters: ServiceFilters,
    readonly after: string | null,
    readonly limit: number,
  ) {}
}

@QueryHandler(ListServices)
export class ListServicesHandler implements IQueryHandler<ListServices, CatalogService[]> {
  constructor(@Inject(CATALOG) private readonly catalog: Catalog) {}

  execute({ filters, after, limit }: ListServices): Promise<CatalogService[]> {
    const matches = serviceMatcher(filters);
    const page = pageAfter(this.catalog.services().filter(matches), (service) => service.id, after, limit);
    return Promise.resolve(page.map(withoutContracts));
  }
}

/**
 * §6.3.3: exact matches, except `providerKey` (lower-cased, §0.5), `region` (case-insensitive; `global`
 * services match only `region=global`) and `q` (case-insensitive substring of id, name, description,
 * companyName or providerKey). `docs-only` services are listed like any other.
 */
export function serviceMatcher(filters: ServiceFilters): (service: CatalogService) => boolean {
  const providerKey = filters.providerKey?.toLowerCase();
  const region = filters.region?.toLowerCase();
  const q = filters.q?.toLowerCase();
  return (service) =>
    (filters.serviceType === undefined || service.serviceType === filters.serviceType) &&
    (filters.skillKey === undefined || service.skillKey === filters.skillKey) &&
    (providerKey === undefined || service.providerKey === providerKey) &&
    (filters.executionMode === undefined || service.executionMode === filters.executionMode) &&
    (region === undefined || service.region === region) &&
    (q === undefined ||
      [service.id, service.name, service.description, service.companyName, service.providerKey].some((text) =>
        text.toLowerCase().includes(q),
      ));
}

/** §6.3.4 */
export class GetService {
  constructor(
    readonly serviceId: string,
    readonly machineId?: string,
  ) {}
}

@QueryHandler(GetService)
export class GetServiceHandler implements IQueryHandler<GetService, MarketServiceDetail> {
  constructor(
    @Inject(CATALOG) private readonly catalog: Catalog,
    private readonly gates: MachineGates,
    @Inject(MACHINE_POLICY_DENIALS) private readonly policies: MachinePolicyDenials,
  ) {}

  async execute({ serviceId, machineId }: GetService): Promise<MarketServiceDetail> {
    const service = this.catalog.service(serviceId);
    if (!service) throw notFound('service', serviceId);
    if (machineId === undefined) return service;
    // Existence gate only: no identity or activity checks (search makes those).
    const machine = this.gates.existence(machineId);
    const policyDenials = await this.policies.denialsFor(machine.policyIds, service);
    // Runtime endpoints (§8.2) are not registered yet, so no machine has one for the provider key.
    return { ...service, machineContext: { machineId: machine.id, runtimeEndpoint: null, policyDenials } };
  }
}

/** §6.3.5 */
export type AdapterFilters = { integrationStatus?: IntegrationStatus; authType?: AuthType };

export class ListAdapters {
  constructor(
    readonly filters: AdapterFilters,
    readonly after: string | null,
    readonly limit: number,
  ) {}
}

@QueryHandler(ListAdapters)
export class ListAdaptersHandler implements IQueryHandler<ListAdapters, AdapterSetup[]> {
  constructor(@Inject(CATALOG) private readonly catalog: Catalog) {}

  execute({ filters, after, limit }: ListAdapters): Promise<AdapterSetup[]> {
    const matching = this.catalog
      .adapters()
      .filter(
        (adapter) =>
          (filters.integrationStatus === undefined || adapter.integrationStatus === filters.integrationStatus) &&
          (filters.authType === undefined || adapter.authType === filters.authType),
      );
    return Promise.resolve(pageAfter(matching, (adapter) => adapter.providerKey, after, limit));
  }
}

/** §6.3.6 */
export class GetAdapter {
  constructor(readonly providerKey: string) {}
}

@QueryHandler(GetAdapter)
export class GetAdapterHandler implements IQueryHandler<GetAdapter, AdapterSetup> {
  constructor(@Inject(CATALOG) private readonly catalog: Catalog) {}

  execute({ providerKey }: GetAdapter): Promise<AdapterSetup> {
    // §6.3.6: the path key is lower-cased before lookup.
    const adapter = this.catalog.adapter(providerKey.toLowerCase());
    if (!adapter) throw notFound('adapter', providerKey);
    return Promise.resolve(adapter);
  }
}

/** §6.3.3: list items are `CatalogService`, without `operationContracts`. */
export function withoutContracts(service: CatalogServiceWithContracts): CatalogService {
  const { operationContracts: _contracts, ...rest } = service;
  return rest;
}

/** Up to `limit + 1` of `sorted` whose key comes after `after` (UTF-16 code-unit order). */
function pageAfter<T>(sorted: readonly T[], keyOf: (item: T) => string, after: string | null, limit: number): T[] {
  const start = after === null ? 0 : sorted.findIndex((item) => keyOf(item) > after);
  return start === -1 ? [] : sorted.slice(start, start + limit + 1);
}
