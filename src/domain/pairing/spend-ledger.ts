import { addDecimals, subtractDecimals } from '../shared/decimal';
import type { OrderSpend, SpendWindow } from './delegation-policy';

/** The log ledgers of one lineage share: append-only, so every ledger's prefix of it never changes. */
type Log = { readonly entries: OrderSpend[]; readonly index: Map<string, number> };

/** Running sums of the ledger day's known amounts, per upper-case currency (`null`: unknown currency). */
type Totals = ReadonlyMap<string | null, string>;

/**
 * The orders counted against a pairing's spend (§5.7, `agent_pairing.order_registered`) on the latest
 * UTC day one was registered, in registration order, with what §7.3 asks of them in constant time:
 * whether an order is already counted, and the day's spend (running totals, less the excluded orders).
 * A pairing that registers thousands of orders a day pays per order what one registering a few does;
 * summing the list and copying it at every registration made each one linear in the day's orders.
 *
 * Immutable to its users: `add` returns a new ledger and leaves this one as it was. Ledgers made from
 * one another share one append-only log and each is a prefix of it (`size` entries). Adding to the
 * ledger that ends the log appends in place; adding to an older one (a decision that was never written,
 * then made again on the previous state) copies its prefix into a new log first. `lineage` names the
 * log: ledgers of one lineage agree on every position both have.
 */
export class SpendLedger implements Iterable<OrderSpend> {
  static readonly EMPTY = new SpendLedger(null, { entries: [], index: new Map() }, 0, new Map());

  private constructor(
    /** The latest day an order was registered on; `null` when none was. */
    readonly day: string | null,
    private readonly log: Log,
    /** Orders in this ledger (the first `size` of its log). */
    readonly size: number,
    private readonly totals: Totals,
  ) {}

  /** An opaque identity shared by the ledgers of one log (see the class comment). */
  get lineage(): object {
    return this.log;
  }

  /** The ledger with `order` counted. A later day starts a new ledger: only the latest day can count again. */
  add(order: OrderSpend): SpendLedger {
    if (this.day === null || order.day > this.day) {
      return new SpendLedger(order.day, { entries: [order], index: new Map([[order.orderId, 0]]) }, 1, addTo(new Map(), order));
    }
    const log = this.log.entries.length === this.size ? this.log : copyPrefix(this.log, this.size);
    log.entries.push(order);
    // A repeated id keeps its first position (the decider never counts an order twice).
    if (!log.index.has(order.orderId)) log.index.set(order.orderId, this.size);
    // An order of an earlier day (a skewed clock) is kept for `has`, and counts on no day this ledger sums.
    const totals = order.day === this.day ? addTo(new Map(this.totals), order) : this.totals;
    return new SpendLedger(this.day, log, this.size + 1, totals);
  }

  has(orderId: string): boolean {
    return this.positionOf(orderId) !== undefined;
  }

  /** The order at `position` (0 ≤ position < size), in registration order. */
  at(position: number): OrderSpend {
    if (!Number.isInteger(position) || position < 0 || position >= this.size) throw new RangeError(`No spend entry at ${position}`);
    return this.log.entries[position];
  }

  *[Symbol.iterator](): Iterator<OrderSpend> {
    for (let i = 0; i < this.size; i++) yield this.log.entries[i];
  }

  /**
   * §5.7 `spentToday`: the sum of the amounts of the orders registered on `window.day`, except excluded
   * ones; orders with an unknown amount, or (when `window.currency` is set) a different known currency,
   * count as 0. For the ledger's own day: its running totals less the excluded orders it holds.
   */
  spentOn(window: SpendWindow): string {
    if (this.day === null || window.day > this.day) return '0';
    if (window.day !== this.day) return sumCounted(this, window, new Set(window.excludedOrderIds ?? []));
    let spent = '0';
    for (const [currency, total] of this.totals) {
      if (counts(window.currency, currency)) spent = addDecimals(spent, total);
    }
    for (const orderId of new Set(window.excludedOrderIds ?? [])) {
      const position = this.positionOf(orderId);
      if (position === undefined) continue;
      const order = this.log.entries[position];
      if (order.day === window.day && order.amount !== null && counts(window.currency, order.currency)) {
        spent = subtractDecimals(spent, order.amount);
      }
    }
    return spent;
  }

  private positionOf(orderId: string): number | undefined {
    const position = this.log.index.get(orderId);
    return position !== undefined && position < this.size ? position : undefined;
  }
}

/** When the policy has a currency, orders of another known currency count as 0. */
function counts(windowCurrency: string | null, orderCurrency: string | null): boolean {
  return windowCurrency === null || orderCurrency === null || orderCurrency === windowCurrency;
}

function addTo(totals: Map<string | null, string>, order: OrderSpend): Map<string | null, string> {
  if (order.amount !== null) totals.set(order.currency, addDecimals(totals.get(order.currency) ?? '0', order.amount));
  return totals;
}

function copyPrefix(log: Log, size: number): { entries: OrderSpend[]; index: Map<string, number> } {
  const entries = log.entries.slice(0, size);
  const index = new Map<string, number>();
  entries.forEach((order, position) => {
    if (!index.has(order.orderId)) index.set(order.orderId, position);
  });
  return { entries, index };
}

/** A day other than the ledger's (only earlier days can differ): summed entry by entry. */
function sumCounted(ledger: SpendLedger, window: SpendWindow, excluded: Set<string>): string {
  let spent = '0';
  for (const order of ledger) {
    if (order.day !== window.day || excluded.has(order.orderId) || order.amount === null) continue;
    if (counts(window.currency, order.currency)) spent = addDecimals(spent, order.amount);
  }
  return spent;
}
