import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { GetService, ListServices } from '../../application/catalog/catalog-queries';
import { CatalogService, MarketServiceDetail } from '../../domain/catalog/catalog-types';
import { decodeStringCursor, encodeCursor, ListResponse, parseLimit, toPage } from '../pagination/cursor';
import { GetServiceQuery, ListServicesQuery, ServiceIdParam } from './catalog.dto';

/** The endpoint name cursors of the list are bound to (§0.10). */
export const SERVICES_LIST_ENDPOINT = 'GET /market/services';

@Controller('market/services')
export class MarketServicesController {
  constructor(private readonly queries: QueryBus) {}

  /** §6.3.3 */
  @Get()
  async list(@Query() query: ListServicesQuery): Promise<ListResponse<CatalogService>> {
    const limit = parseLimit(query.limit);
    const filters = {
      serviceType: query.serviceType,
      skillKey: query.skillKey,
      providerKey: query.providerKey,
      executionMode: query.executionMode,
      region: query.region,
      q: query.q,
    };
    const after = query.cursor === undefined ? null : decodeStringCursor(query.cursor, SERVICES_LIST_ENDPOINT, filters, 1)[0];
    const rows = await this.queries.execute<ListServices, CatalogService[]>(new ListServices(filters, after, limit));
    return toPage(
      rows,
      limit,
      (service) => encodeCursor(SERVICES_LIST_ENDPOINT, filters, [service.id]),
      (service) => service,
    );
  }

  /** §6.3.4 */
  @Get(':serviceId')
  async get(@Param() { serviceId }: ServiceIdParam, @Query() { machineId }: GetServiceQuery): Promise<{ item: MarketServiceDetail }> {
    const item = await this.queries.execute<GetService, MarketServiceDetail>(new GetService(serviceId, machineId));
    return { item };
  }
}
