/** Non-terminal market orders (§7.1) of a machine, oldest first. */
export type OpenOrdersOfMachine = { orderIds: string[]; count: number };

/**
 * The query archiving needs (§4.6.5 step 8): a small port so that the orders feature only has to plug
 * in its read model.
 */
export interface OpenMarketOrders {
  /** At most 100 ids (oldest first); `count` is the total. */
  openOrdersOf(machineId: string): Promise<OpenOrdersOfMachine>;
}
export const OPEN_MARKET_ORDERS = Symbol('OpenMarketOrders');
