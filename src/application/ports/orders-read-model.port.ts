import { MarketOrderRecord, MarketOrderStatus, MarketPaymentRecord } from '../../domain/order/market-order-types';

/** A position in the order list order (`createdAt` descending, then id descending). */
export type OrderSortKey = [createdAt: string, id: string];

export type OrderListFilter = { machineId: string; status?: MarketOrderStatus; agentPairingId?: string };

/** The `market_orders` read model: orders with their payment records (ARCHITECTURE §4). */
export interface OrdersReadModel {
  byId(orderId: string): { order: MarketOrderRecord; payment: MarketPaymentRecord | null } | undefined;
  /** Up to `limit` orders strictly after `after`. */
  page(filter: OrderListFilter, after: OrderSortKey | null, limit: number): MarketOrderRecord[];
  /**
   * §5.7 `spentToday`: the pairing's orders created on `day` that no longer count (status `cancelled`
   * or `failed`, or payment `refunded`).
   */
  spendExcludedOrderIds(agentPairingId: string, day: string): string[];
  /** The ids of the pairing's orders created on `day` that the read model holds. */
  orderIdsOf(agentPairingId: string, day: string): string[];
}
export const ORDERS_READ_MODEL = Symbol('OrdersReadModel');

export function orderSortKey(order: MarketOrderRecord): OrderSortKey {
  return [order.createdAt, order.id];
}

/** Which search a quote belongs to (the quote itself lives in the search's stream). */
export interface QuoteIndex {
  searchOf(quoteId: string): string | undefined;
}
export const QUOTE_INDEX = Symbol('QuoteIndex');
