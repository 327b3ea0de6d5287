import { Module } from '@nestjs/common';
import { SearchMarketHandler } from '../../application/search/search-market';
import { SearchController } from '../../http/search/search.controller';
import { MachinesModule } from '../machines/machines.module';
import { OrdersModule } from '../orders/orders.module';
import { PairingsModule } from '../pairings/pairings.module';

/** Machine-aware market search (§6.4): ranked quotes stored as `market-search-{id}` streams. */
@Module({
  imports: [MachinesModule, PairingsModule, OrdersModule],
  controllers: [SearchController],
  providers: [SearchMarketHandler],
})
export class SearchModule {}
