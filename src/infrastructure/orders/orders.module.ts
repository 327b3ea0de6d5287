import { Module } from '@nestjs/common';
import { CloseOrderHandler } from '../../application/orders/close-order';
import { CreateOrderHandler } from '../../application/orders/create-order';
import { OrderAgentAccess } from '../../application/orders/order-access';
import { GetOrderHandler, ListOrdersHandler } from '../../application/orders/order-queries';
import { ORDERS_READ_MODEL, QUOTE_INDEX } from '../../application/ports/orders-read-model.port';
import { OrdersController } from '../../http/orders/orders.controller';
import { MachinesModule } from '../machines/machines.module';
import { PairingsModule } from '../pairings/pairings.module';
import { PoliciesModule } from '../policies/policies.module';
import { SqliteOrdersReadModel } from './orders.read-model';
import { SqliteQuoteIndex } from './quote-index';

export { ordersProjection } from './orders.projection';
export { quotesProjection } from './quotes.projection';

/**
 * Market orders (§7): creation with spend limits serialised on the pairing stream, reads, and the
 * agent's closing operations. The `market_orders` read model also answers OPEN_MARKET_ORDERS.
 */
@Module({
  imports: [MachinesModule, PairingsModule, PoliciesModule],
  controllers: [OrdersController],
  providers: [
    { provide: ORDERS_READ_MODEL, useClass: SqliteOrdersReadModel },
    { provide: QUOTE_INDEX, useClass: SqliteQuoteIndex },
    OrderAgentAccess,
    CreateOrderHandler,
    ListOrdersHandler,
    GetOrderHandler,
    CloseOrderHandler,
  ],
  exports: [ORDERS_READ_MODEL],
})
export class OrdersModule {}
