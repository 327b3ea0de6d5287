import { ControllableClock } from '../../../test/support/controllable-clock';
import { agentPairingStream } from '../../domain/pairing/agent-pairing.decider';
import { OrderSpend } from '../../domain/pairing/delegation-policy';
import { SpendLedger } from '../../domain/pairing/spend-ledger';
import { marketOrderStream } from '../../domain/order/market-order.decider';
import { SqliteEventStore } from '../../infrastructure/event-store/sqlite/sqlite-event-store';
import { LivePairing } from '../pairings/acting-pairing';
import { NewEvent } from '../ports/event-store.port';
import { OrdersReadModel } from '../ports/orders-read-model.port';
import { PairingSpend, UNWRITTEN_ORDER_GRACE_MS } from './pairing-spend';

const PAIR = 'pair_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const DAY = '2026-01-01';

/** The read model's answers, and how often the per-day order list was asked for. */
class FakeOrders implements Pick<OrdersReadModel, 'spendExcludedOrderIds' | 'orderIdsOf'> {
  excluded: string[] = [];
  projected: string[] = [];
  orderIdsOfCalls = 0;
  spendExcludedOrderIds(): string[] {
    return this.excluded;
  }
  orderIdsOf(): string[] {
    this.orderIdsOfCalls++;
    return this.projected;
  }
}

const event = (type: string, data: Record<string, unknown>, at: string): NewEvent => ({
  id: `evt_${Math.random().toString(36).slice(2)}`,
  type,
  data,
  metadata: { correlationId: 'c', causationId: null, actor: { type: 'system', id: null }, occurredAt: at, schemaVersion: 1 },
});

describe('PairingSpend (§5.7 orders that no longer count)', () => {
  let store: SqliteEventStore;
  let clock: ControllableClock;
  let orders: FakeOrders;
  let spend: PairingSpend;
  let ledger: SpendLedger;

  beforeEach(() => {
    store = new SqliteEventStore({ path: ':memory:' });
    clock = new ControllableClock(`${DAY}T10:00:00.000Z`);
    orders = new FakeOrders();
    spend = new PairingSpend(orders as unknown as OrdersReadModel, store, clock);
    ledger = SpendLedger.EMPTY;
  });
  afterEach(() => store.close());

  const acting = (): LivePairing => ({ spend: ledger, pairing: { id: PAIR } }) as unknown as LivePairing;

  /** Registers `orderId` on the pairing stream (and in the ledger), then writes its order unless told not to. */
  async function register(orderId: string, options: { write: boolean; day?: string } = { write: true }): Promise<void> {
    const registration: OrderSpend = { orderId, amount: '1', currency: 'USDT', day: options.day ?? DAY };
    await store.append(
      agentPairingStream(PAIR, '').streamId,
      [event('agent_pairing.order_registered', registration, clock.now().toISOString())],
      'any',
    );
    ledger = ledger.add(registration);
    if (options.write) {
      await spend.creatingOrder(orderId, () =>
        store.append(
          marketOrderStream(orderId, '').streamId,
          [event('market_order.created', { id: orderId }, clock.now().toISOString())],
          'no_stream',
        ),
      );
    }
  }

  it('excludes what the read model excludes, and nothing else while every registration is known written', async () => {
    orders.excluded = ['ord_cancelled'];
    for (let i = 0; i < 50; i++) await register(`ord_${i}`);
    expect(await spend.excludedOrderIds(acting(), DAY)).toEqual(['ord_cancelled']);
    expect(orders.orderIdsOfCalls).toBe(0);
  });

  it('counts a registration without its order during the grace period, then excludes it', async () => {
    await register('ord_written');
    await register('ord_lost', { write: false });
    await register('ord_after');
    expect(await spend.excludedOrderIds(acting(), DAY)).toEqual([]);
    clock.advance(UNWRITTEN_ORDER_GRACE_MS + 1);
    expect(await spend.excludedOrderIds(acting(), DAY)).toEqual(['ord_lost']);
    // Asked again (the written prefix is settled by now), the answer is the same.
    expect(await spend.excludedOrderIds(acting(), DAY)).toEqual(['ord_lost']);
  });

  it('takes an order another instance wrote (seen in the read model) as written, and never excludes it', async () => {
    await register('ord_elsewhere', { write: false });
    orders.projected = ['ord_elsewhere'];
    clock.advance(UNWRITTEN_ORDER_GRACE_MS + 1);
    expect(await spend.excludedOrderIds(acting(), DAY)).toEqual([]);
    expect(orders.orderIdsOfCalls).toBe(1);
    // Known from then on: the read model is not asked again.
    await spend.excludedOrderIds(acting(), DAY);
    expect(orders.orderIdsOfCalls).toBe(1);
  });

  it('an order still being created is never excluded, whatever its age', async () => {
    let finish!: () => void;
    const creating = spend.creatingOrder('ord_slow', () => new Promise<void>((resolve) => (finish = resolve)));
    await register('ord_slow', { write: false });
    clock.advance(UNWRITTEN_ORDER_GRACE_MS + 1);
    expect(await spend.excludedOrderIds(acting(), DAY)).toEqual([]);
    finish();
    await creating;
    expect(await spend.excludedOrderIds(acting(), DAY)).toEqual([]);
  });

  it('answers for an older ledger of the same lineage as for the ledger it was (its prefix)', async () => {
    await register('ord_1');
    await register('ord_lost', { write: false });
    const older = ledger;
    for (let i = 2; i < 10; i++) await register(`ord_${i}`);
    clock.advance(UNWRITTEN_ORDER_GRACE_MS + 1);
    expect(await spend.excludedOrderIds(acting(), DAY)).toEqual(['ord_lost']);
    ledger = older;
    expect(await spend.excludedOrderIds(acting(), DAY)).toEqual(['ord_lost']);
  });
});
