import { randomBytes } from 'node:crypto';
import { applyMarketOrderEvent, MarketOrderEvent } from '../../domain/order/market-order.decider';
import { MarketOrderRecord, OrderRecords } from '../../domain/order/market-order-types';
import { ParsedJsonCache } from '../projections/parsed-json-cache';
import { defineProjection, ProjectionDb } from '../projections/projection';

export const MARKET_ORDERS = 'market_orders';

export type OrderRow = { doc: string; payment: string | null };

/**
 * §5.7: the orders that no longer count towards `spentToday`. The WHERE of the partial index
 * `{market_orders}_spend_excluded` and of the query it serves (SqliteOrdersReadModel.spendExcludedOrderIds):
 * SQLite only uses a partial index for a query whose WHERE contains the index's condition as written.
 * Changing it needs a new projection version (an existing index keeps its condition).
 */
export const SPEND_EXCLUDED = `(status IN ('cancelled', 'failed') OR payment_status = 'refunded')`;

/** Every event type of the `market-order-{id}` streams (§8.7.2). */
const ORDER_EVENT_TYPES = [
  'market_order.created',
  'market_order.payment_pending',
  'market_order.ready',
  'market_order.execution_started',
  'market_order.execution_reverted',
  'market_order.delivered',
  'market_order.handed_off',
  'market_order.failed',
  'market_order.confirmed',
  'market_order.disputed',
  'market_order.cancelled',
  'market_payment.intent_created',
  'market_payment.challenge_refreshed',
  'market_payment.proof_recorded',
  'market_payment.escrow_locked',
  'market_payment.release_pending',
  'market_payment.released',
  'market_payment.frozen',
  'market_payment.refunded',
];

/**
 * The `market_orders` read model: one row per order with the order record and its payment record as
 * the API returns them (folded with the decider's own `applyMarketOrderEvent`), plus the columns the
 * list, the open-order checks and the daily spend filter on.
 */
export const ordersProjection = defineProjection({
  name: MARKET_ORDERS,
  version: 2,
  handles: ORDER_EVENT_TYPES,
  tables: [MARKET_ORDERS],
  setup(db) {
    db.run(`CREATE TABLE IF NOT EXISTS {market_orders} (
      id TEXT PRIMARY KEY,
      machine_id TEXT NOT NULL,
      agent_pairing_id TEXT NOT NULL,
      status TEXT NOT NULL,
      payment_status TEXT,
      created_at TEXT NOT NULL,
      doc TEXT NOT NULL,
      payment TEXT
    )`);
    const table = db.table(MARKET_ORDERS);
    db.run(`CREATE INDEX IF NOT EXISTS "${table}_machine" ON {market_orders} (machine_id, created_at, id)`);
    db.run(`CREATE INDEX IF NOT EXISTS "${table}_pairing" ON {market_orders} (agent_pairing_id, created_at, id)`);
    // spendExcludedOrderIds (every order creation): only the few orders that no longer count, not the day's all.
    db.run(
      `CREATE INDEX IF NOT EXISTS "${table}_spend_excluded" ON {market_orders} (agent_pairing_id, created_at) WHERE ${SPEND_EXCLUDED}`,
    );
  },
  apply(stored, db) {
    ordersProjection.applyBatch!([stored], db);
  },
  /** The events of one order in a batch (a step appends two or more) are folded into one write. */
  applyBatch(events, db) {
    const changed = new Map<string, { records: OrderRecords; created: boolean }>();
    for (const stored of events) {
      const event = { type: stored.type, data: stored.data } as MarketOrderEvent;
      if (event.type === 'market_order.created') {
        changed.set(event.data.id, { records: { order: event.data, payment: null }, created: true });
        continue;
      }
      const orderId = stored.streamId.slice('market-order-'.length);
      const entry = changed.get(orderId) ?? loadRow(db, orderId);
      if (!entry) continue;
      entry.records = applyMarketOrderEvent(entry.records, event);
      changed.set(orderId, entry);
    }
    for (const { records, created } of changed.values()) write(db, records, created);
  },
});

/**
 * `JSON.stringify(order)`, byte for byte, without serialising its service snapshot again at every step:
 * an order's snapshot is one shared, frozen object (serviceSnapshotOf), serialised once here and spliced
 * in where a per-process random placeholder (which no stored value can contain) was written.
 */
const SNAPSHOT_PLACEHOLDER = `\u0000snapshot-${randomBytes(16).toString('hex')}`;
const SNAPSHOT_PLACEHOLDER_JSON = JSON.stringify(SNAPSHOT_PLACEHOLDER);
const snapshotJson = new WeakMap<object, string>();

export function orderJson(order: MarketOrderRecord): string {
  const snapshot = order.serviceSnapshot;
  if (snapshot === null || typeof snapshot !== 'object') return JSON.stringify(order);
  let json = snapshotJson.get(snapshot);
  if (json === undefined) {
    json = JSON.stringify(snapshot);
    snapshotJson.set(snapshot, json);
  }
  const serialised = json;
  return JSON.stringify({ ...order, serviceSnapshot: SNAPSHOT_PLACEHOLDER }).replace(SNAPSHOT_PLACEHOLDER_JSON, () => serialised);
}

/**
 * Each lifecycle step of an order changes its row again: the documents it was last written with are
 * not parsed again (checked against the row's text, so a rebuilt or rolled-back row is parsed afresh).
 * Keys carry the table, so generations never share entries.
 */
const orderDocs = new ParsedJsonCache<MarketOrderRecord>();
const paymentDocs = new ParsedJsonCache<NonNullable<OrderRecords['payment']>>();

function loadRow(db: ProjectionDb, orderId: string): { records: OrderRecords; created: boolean } | undefined {
  const row = db.get<OrderRow>(`SELECT doc, payment FROM {market_orders} WHERE id = ?`, orderId);
  if (!row) return undefined;
  const key = `${db.table(MARKET_ORDERS)}\u0000${orderId}`;
  const records: OrderRecords = {
    order: orderDocs.parse(key, row.doc),
    payment: row.payment === null ? null : paymentDocs.parse(key, row.payment),
  };
  return { records, created: false };
}

/** A new row is inserted; an existing one has only its changing columns updated (its indexes stay as they are). */
function write(db: ProjectionDb, { order, payment }: OrderRecords, created: boolean): void {
  const doc = orderJson(order);
  const paymentDoc = payment === null ? null : JSON.stringify(payment);
  const key = `${db.table(MARKET_ORDERS)}\u0000${order.id}`;
  orderDocs.remember(key, doc, order);
  if (payment !== null) paymentDocs.remember(key, paymentDoc!, payment);
  if (!created) {
    db.run(
      `UPDATE {market_orders} SET status = ?, payment_status = ?, doc = ?, payment = ? WHERE id = ?`,
      order.status,
      payment?.status ?? null,
      doc,
      paymentDoc,
      order.id,
    );
    return;
  }
  db.run(
    `INSERT OR REPLACE INTO {market_orders} (id, machine_id, agent_pairing_id, status, payment_status, created_at, doc, payment)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    order.id,
    order.machineId,
    order.agentPairingId,
    order.status,
    payment?.status ?? null,
    order.createdAt,
    doc,
    paymentDoc,
  );
}
