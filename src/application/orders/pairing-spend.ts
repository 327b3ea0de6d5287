import { Inject, Injectable } from '@nestjs/common';
import { marketOrderStream } from '../../domain/order/market-order.decider';
import { agentPairingStream } from '../../domain/pairing/agent-pairing.decider';
import { SpendLedger } from '../../domain/pairing/spend-ledger';
import { LivePairing } from '../pairings/acting-pairing';
import { withPairingStore } from '../pairings/pairing-unavailable';
import { CLOCK, Clock } from '../ports/clock.port';
import { EVENT_STORE, EventStore } from '../ports/event-store.port';
import { ORDERS_READ_MODEL, OrdersReadModel } from '../ports/orders-read-model.port';
import { LruMap } from '../../domain/shared/lru-map';

/** How long a registration counts without its order before the order is taken as never written. */
export const UNWRITTEN_ORDER_GRACE_MS = 2 * 60 * 1000;
/** Order ids PairingSpend remembers as written. */
const KNOWN_WRITTEN_ORDERS = 200_000;

/**
 * §5.7 `spentToday`: which of the pairing's registered orders of the day no longer count. Order
 * creation and search ask the same question.
 */
@Injectable()
export class PairingSpend {
  constructor(
    @Inject(ORDERS_READ_MODEL) private readonly orders: OrdersReadModel,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Orders this process is creating right now: registered (or about to be), order not yet projected. */
  private readonly creating = new Set<string>();

  /**
   * Orders known to be written (created by this process, or seen in the read model), so that their
   * registrations are never looked at again: an order stream is never deleted. Bounded (oldest out); a
   * forgotten id costs one read-model query, not a wrong answer.
   */
  private readonly written = new LruMap<string, true>(KNOWN_WRITTEN_ORDERS);

  /**
   * Per spend-ledger lineage: how many of its first registrations need no look again (their order is
   * known written, or they are of an earlier day, which never counts again). A ledger's prefix never
   * changes, so each registration is passed over once, not at every creation of the day.
   */
  private readonly settled = new WeakMap<object, number>();

  /** Runs the creation of `orderId` (registration, then the order write) marked as in flight. */
  async creatingOrder<T>(orderId: string, create: () => Promise<T>): Promise<T> {
    this.creating.add(orderId);
    try {
      const created = await create();
      this.written.set(orderId, true);
      return created;
    } finally {
      this.creating.delete(orderId);
    }
  }

  /** Cancelled, failed or refunded orders (read model), and registrations whose order was never written. */
  async excludedOrderIds(acting: LivePairing, day: string): Promise<string[]> {
    return [...this.orders.spendExcludedOrderIds(acting.pairing.id, day), ...(await this.unwrittenRegistrations(acting, day))];
  }

  /**
   * The registration on the pairing stream is the commit point of the spend and the order stream its
   * second write; no store offers one atomic write across both (EventStoreDB has no multi-stream
   * transactions). A registration therefore counts while its order may still be on its way, and stops
   * counting once it is older than the grace period with its order stream still empty (the order append
   * failed, or the process stopped between the two). Only registrations neither the read model nor this
   * process (orders it wrote, creations in flight) know are looked at, so the common case reads nothing.
   */
  private async unwrittenRegistrations(acting: LivePairing, day: string): Promise<string[]> {
    const notKnown = (orderId: string) => !this.written.has(orderId) && !this.creating.has(orderId);
    const registered = this.unsettled(acting.spend, day).filter(notKnown);
    if (registered.length === 0) return [];
    for (const orderId of this.orders.orderIdsOf(acting.pairing.id, day)) this.written.set(orderId, true);
    const unknown = new Set(registered.filter(notKnown));
    if (unknown.size === 0) return [];
    const cutoff = this.clock.now().getTime() - UNWRITTEN_ORDER_GRACE_MS;
    const pairingEvents = await withPairingStore(() => this.store.readStream(agentPairingStream(acting.pairing.id, '').streamId));
    const unwritten: string[] = [];
    for (const event of pairingEvents) {
      if (event.type !== 'agent_pairing.order_registered') continue;
      const orderId = String(event.data.orderId);
      if (!unknown.has(orderId) || Date.parse(event.metadata.occurredAt) > cutoff) continue;
      const written = await this.store.readStream(marketOrderStream(orderId, '').streamId);
      if (written.length === 0) unwritten.push(orderId);
    }
    return unwritten;
  }

  /** The ledger's registrations of `day` past its settled prefix (moved on over what is settled now). */
  private unsettled(ledger: SpendLedger, day: string): string[] {
    let position = Math.min(this.settled.get(ledger.lineage) ?? 0, ledger.size);
    for (; position < ledger.size; position++) {
      const order = ledger.at(position);
      if (order.day >= day && !this.written.has(order.orderId)) break;
    }
    this.settled.set(ledger.lineage, position);
    const orderIds: string[] = [];
    for (; position < ledger.size; position++) {
      const order = ledger.at(position);
      if (order.day === day) orderIds.push(order.orderId);
    }
    return orderIds;
  }
}
