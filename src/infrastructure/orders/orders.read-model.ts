import { Injectable } from '@nestjs/common';
import { OpenMarketOrders, OpenOrdersOfMachine, OpenOrdersOfPairing } from '../../application/ports/open-market-orders.port';
import { OrderListFilter, OrdersReadModel, OrderSortKey } from '../../application/ports/orders-read-model.port';
import { MarketOrderRecord, MarketPaymentRecord } from '../../domain/order/market-order-types';
import { ProjectionEngine } from '../projections/projection-engine';
import { MARKET_ORDERS, OrderRow } from './orders.projection';

/** §7.1: the non-terminal ("open") order statuses. */
const OPEN = `('created', 'payment_pending', 'ready', 'executing', 'delivered', 'handoff')`;
/** §5.8.7, §4.6.5: at most this many ids are listed. */
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
        // The partial index {market_orders}_spend_excluded holds exactly these rows (same expression).
        `SELECT id FROM {market_orders} WHERE agent_pairing_id = ? AND created_at >= ? AND created_at < ?
           AND (status IN ('cancelled', 'failed') OR payment_status = 'refunded')`,
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

  openOrdersOf(machineId: string): Promise<OpenOrdersOfMachine> {
    return Promise.resolve(this.open('machine_id', machineId));
  }

  openOrdersOfPairing(pairingId: string): Promise<OpenOrdersOfPairing> {
    const open = this.open('agent_pairing_id', pairingId);
    const executingOrderIds = this.db()
      .all<{ id: string }>(
        `SELECT id FROM {market_orders} WHERE agent_pairing_id = ? AND status = 'executing' ORDER BY created_at, id`,
        pairingId,
      )
      .map((row) => row.id);
    return Promise.resolve({ ...open, executingOrderIds });
  }

  allOpenOrderIdsOfPairing(pairingId: string): Promise<string[]> {
    const rows = this.db().all<{ id: string }>(
      `SELECT id FROM {market_orders} WHERE agent_pairing_id = ? AND status IN ${OPEN} ORDER BY created_at, id`,
      pairingId,
    );
    return Promise.resolve(rows.map((row) => row.id));
  }

  /** Oldest first, at most 100 ids, and the total. */
  private open(column: 'machine_id' | 'agent_pairing_id', value: string): OpenOrdersOfMachine {
    const db = this.db();
    const orderIds = db
      .all<{ id: string }>(
        `SELECT id FROM {market_orders} WHERE ${column} = ? AND status IN ${OPEN} ORDER BY created_at, id LIMIT ?`,
        value,
        IDS_SHOWN,
      )
      .map((row) => row.id);
    const { count } = db.get<{ count: number }>(
      `SELECT COUNT(*) AS count FROM {market_orders} WHERE ${column} = ? AND status IN ${OPEN}`,
      value,
    )!;
    return { orderIds, count };
  }

  private db() {
    return this.projections.reader(MARKET_ORDERS);
  }
}
