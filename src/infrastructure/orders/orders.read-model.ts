import { Injectable } from '@nestjs/common';
import { OpenMarketOrders, OpenOrdersOfMachine, OpenOrdersOfPairing } from '../../application/ports/open-market-orders.port';
import { OrderListFilter, OrdersReadModel, OrderSortKey } from '../../application/ports/orders-read-model.port';
import { MarketOrderRecord, MarketPaymentRecord } from '../../domain/order/market-order-types';
import { isTerminalOrderStatus, MARKET_ORDER_STATUSES } from '../../domain/order/order-status';
import { ProjectionEngine } from '../projections/projection-engine';
import { MARKET_ORDERS, OrderRow, SPEND_EXCLUDED } from './orders.projection';

/** §7.1: the non-terminal ("open") order statuses, as an SQL list (every status but the terminal ones). */
export const OPEN_STATUSES_SQL = `(${MARKET_ORDER_STATUSES.filter((status) => !isTerminalOrderStatus(status))
  .map((status) => `'${status}'`)
  .join(', ')})`;
/** §4.6.5: at most this many ids are listed. */
const IDS_SHOWN = 100;

/**
 * Queries over the `market_orders` read model; also the OPEN_MARKET_ORDERS port of machine archiving
 * and pairing revocation.
 */
@Injectable()
export class SqliteOrdersReadModel implements OrdersReadModel, OpenMarketOrders {
  constructor(private readonly projections: ProjectionEngine) {}

  byId(orderId: string): { order: MarketOrderRecord; payment: MarketPaymentRecord | null } | undefined {
    const row = this.db().get<OrderRow>(`SELECT doc, payment FROM {market_orders} WHERE id = ?`, orderId);
    if (!row) return undefined;
    return {
      order: JSON.parse(row.doc) as MarketOrderRecord,
      payment: row.payment === null ? null : (JSON.parse(row.payment) as MarketPaymentRecord),
    };
  }

  page(filter: OrderListFilter, after: OrderSortKey | null, limit: number): MarketOrderRecord[] {
    const where = ['machine_id = ?'];
    const params: unknown[] = [filter.machineId];
    if (filter.status !== undefined) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.agentPairingId !== undefined) {
      where.push('agent_pairing_id = ?');
      params.push(filter.agentPairingId);
    }
    if (after) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(after[0], after[0], after[1]);
    }
    return this.db()
      .all<OrderRow>(
        `SELECT doc FROM {market_orders} WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
        ...params,
        limit,
      )
      .map((row) => JSON.parse(row.doc) as MarketOrderRecord);
  }

  spendExcludedOrderIds(agentPairingId: string, day: string): string[] {
    return this.db()
      .all<{ id: string }>(
        // The partial index {market_orders}_spend_excluded holds exactly these rows (same condition).
        `SELECT id FROM {market_orders} WHERE agent_pairing_id = ? AND created_at >= ? AND created_at < ? AND ${SPEND_EXCLUDED}`,
        agentPairingId,
        `${day}T`,
        `${day}U`,
      )
      .map((row) => row.id);
  }

  orderIdsOf(agentPairingId: string, day: string): string[] {
    return this.db()
      .all<{ id: string }>(
        `SELECT id FROM {market_orders} WHERE agent_pairing_id = ? AND created_at >= ? AND created_at < ?`,
        agentPairingId,
        `${day}T`,
        `${day}U`,
      )
      .map((row) => row.id);
  }

  /** Oldest first, at most 100 ids, and the total. */
  openOrdersOf(machineId: string): Promise<OpenOrdersOfMachine> {
    const db = this.db();
    const orderIds = db
      .all<{ id: string }>(
        `SELECT id FROM {market_orders} WHERE machine_id = ? AND status IN ${OPEN_STATUSES_SQL} ORDER BY created_at, id LIMIT ?`,
        machineId,
        IDS_SHOWN,
      )
      .map((row) => row.id);
    const { count } = db.get<{ count: number }>(
      `SELECT COUNT(*) AS count FROM {market_orders} WHERE machine_id = ? AND status IN ${OPEN_STATUSES_SQL}`,
      machineId,
    )!;
    return Promise.resolve({ orderIds, count });
  }

  /**
   * One query serves both what the revocation checks and what a forced one cancels: every open order
   * of the pairing, oldest first, with the executing ones among them.
   */
  openOrdersOfPairing(pairingId: string): Promise<OpenOrdersOfPairing> {
    const rows = this.db().all<{ id: string; status: string }>(
      `SELECT id, status FROM {market_orders} WHERE agent_pairing_id = ? AND status IN ${OPEN_STATUSES_SQL} ORDER BY created_at, id`,
      pairingId,
    );
    return Promise.resolve({
      orderIds: rows.map((row) => row.id),
      count: rows.length,
      executingOrderIds: rows.filter((row) => row.status === 'executing').map((row) => row.id),
    });
  }

  private db() {
    return this.projections.reader(MARKET_ORDERS);
  }
}
