import { OpenMarketOrders, OpenOrdersOfMachine, OpenOrdersOfPairing } from '../../application/ports/open-market-orders.port';

/**
 * Open orders before the orders feature exists: there are none, so nothing blocks archiving. The
 * orders read model replaces this provider (AppModule's query ports).
 */
export class NoOpenOrders implements OpenMarketOrders {
  openOrdersOf(): Promise<OpenOrdersOfMachine> {
    return Promise.resolve({ orderIds: [], count: 0 });
  }
  openOrdersOfPairing(): Promise<OpenOrdersOfPairing> {
    return Promise.resolve({ orderIds: [], count: 0, executingOrderIds: [] });
  }
}
