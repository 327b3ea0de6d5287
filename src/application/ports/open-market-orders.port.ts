/** Non-terminal market orders (§7.1) of a machine, oldest first. */
export type OpenOrdersOfMachine = { orderIds: string[]; count: number };

/**
 * Every non-terminal order of a pairing, oldest first (what a forced revocation cancels; the
 * revocation's 409 shows at most 100 of them), and those of them that are `executing` (§5.8.7).
 */
export type OpenOrdersOfPairing = { orderIds: string[]; count: number; executingOrderIds: string[] };

/**
 * The queries archiving a machine (§4.6.5 step 8) and revoking a pairing (§5.8.7) need: a small port
 * so that the orders feature only has to plug in its read model.
 */
export interface OpenMarketOrders {
  /** At most 100 ids (oldest first); `count` is the total. */
  openOrdersOf(machineId: string): Promise<OpenOrdersOfMachine>;
  /** Every open order id (oldest first), their `count`, and the executing ones: one read. */
  openOrdersOfPairing(pairingId: string): Promise<OpenOrdersOfPairing>;
}
export const OPEN_MARKET_ORDERS = Symbol('OpenMarketOrders');
