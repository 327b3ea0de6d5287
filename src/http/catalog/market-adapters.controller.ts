import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { GetAdapter, ListAdapters } from '../../application/catalog/catalog-queries';
import { AdapterSetup } from '../../domain/catalog/catalog-types';
import { decodeStringCursor, encodeCursor, ListResponse, parseLimit, toPage } from '../pagination/cursor';
import { ListAdaptersQuery, ProviderKeyParam } from './catalog.dto';

/** The endpoint name cursors of the list are bound to (§0.10). */
export const ADAPTERS_LIST_ENDPOINT = 'GET /market/adapters';

@Controller('market/adapters')
export class MarketAdaptersController {
  constructor(private readonly queries: QueryBus) {}

  /** §6.3.5 */
  @Get()
  async list(@Query() query: ListAdaptersQuery): Promise<ListResponse<AdapterSetup>> {
    const limit = parseLimit(query.limit);
    const filters = { integrationStatus: query.integrationStatus, authType: query.authType };
    const after = query.cursor === undefined ? null : decodeStringCursor(query.cursor, ADAPTERS_LIST_ENDPOINT, filters, 1)[0];
    const rows = await this.queries.execute<ListAdapters, AdapterSetup[]>(new ListAdapters(filters, after, limit));
    return toPage(
      rows,
      limit,
      (adapter) => encodeCursor(ADAPTERS_LIST_ENDPOINT, filters, [adapter.providerKey]),
      (adapter) => adapter,
    );
  }

  /** §6.3.6 */
  @Get(':providerKey')
  async get(@Param() { providerKey }: ProviderKeyParam): Promise<{ item: AdapterSetup }> {
    const item = await this.queries.execute<GetAdapter, AdapterSetup>(new GetAdapter(providerKey));
    return { item };
  }
}
