/** Non-terminal market orders (§7.1) of a machine, oldest first. */
export type OpenOrdersOfMachine = { orderIds: string[]; count: number };

/** Non-terminal orders of a pairing, oldest first, and those of them that are `executing` (§5.8.7). */
export type OpenOrdersOfPairing = { orderIds: string[]; count: number; executingOrderIds: string[] };

/**
 * The queries archiving a machine (§4.6.5 step 8) and revoking a pairing (§5.8.7) need: a small port
 * so that the orders feature only has to plug in its read model.
 */
export interface OpenMarketOrders {
  /** At most 100 ids (oldest first); `count` is the total. */
  openOrdersOf(machineId: string): Promise<OpenOrdersOfMachine>;
  /** At most 100 ids (oldest first); `count` is the total; `executingOrderIds` all executing ones. */
  openOrdersOfPairing(pairingId: string): Promise<OpenOrdersOfPairing>;
  /** Every non-terminal order of the pairing, oldest first (what a forced revocation cancels). */
  allOpenOrderIdsOfPairing(pairingId: string): Promise<string[]>;
}
export const OPEN_MARKET_ORDERS = Symbol('OpenMarketOrders');
