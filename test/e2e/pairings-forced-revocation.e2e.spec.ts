import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPEN_MARKET_ORDERS, OpenMarketOrders, OpenOrdersOfPairing } from '../../src/application/ports/open-market-orders.port';
import { ORDERS_READ_MODEL } from '../../src/application/ports/orders-read-model.port';
import { SqliteOrdersReadModel } from '../../src/infrastructure/orders/orders.read-model';
import { writeCatalogFile } from '../support/catalog-fixture';
import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import { OrderAgent, OrderApi, UnverifiedFixtures } from '../support/order-api';
import { freeExecCatalogFile } from '../support/order-catalog';
import { placeOrder, UNVERIFIED, type Json } from '../support/payment-api';
import { jsonAnswer, ScriptedProviderAdapter, scriptedProviderAdapters } from '../support/scripted-provider-adapter';
import { refusedWithoutEvents } from '../support/search-api';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Forced pairing revocation (§5.8.7, `?force=true`) over the real `market_orders` read model: one read
 * of the pairing's open orders decides whether the revocation may go ahead and lists what it cancels;
 * the orders are cancelled after the revocation is committed, so an order that closed or started
 * executing in between is left as it is and the others are still cancelled.
 */

const T0 = '2026-07-01T08:00:00.000Z';

/**
 * OPEN_MARKET_ORDERS as the app provides it (the orders read model), counting the reads, and able to
 * answer one read with an earlier answer: the revocation then acts on what it read a moment before.
 */
class RecordedOpenOrders implements OpenMarketOrders {
  readonly pairingReads: string[] = [];
  private readonly earlier = new Map<string, OpenOrdersOfPairing>();

  constructor(readonly real: OpenMarketOrders) {}

  openOrdersOf(machineId: string) {
    return this.real.openOrdersOf(machineId);
  }

  async openOrdersOfPairing(pairingId: string): Promise<OpenOrdersOfPairing> {
    this.pairingReads.push(pairingId);
    const earlier = this.earlier.get(pairingId);
    this.earlier.delete(pairingId);
    return earlier ?? this.real.openOrdersOfPairing(pairingId);
  }

  /** The next read for `pairingId` answers `answer`. */
  answerNextWith(pairingId: string, answer: OpenOrdersOfPairing): void {
    this.earlier.set(pairingId, answer);
  }
}

describe('forced pairing revocation and the open orders of the pairing (§5.8.7)', () => {
  const clock = new ControllableClock(T0);
  /** Provider answers, released by the tests; until then the execution is in flight (`executing`). */
  const pending: Array<() => void> = [];
  const adapter = new ScriptedProviderAdapter(() => new Promise((resolve) => pending.push(() => resolve(jsonAnswer({ price: 1 })))));
  let openOrders: RecordedOpenOrders;
  let t: TestApp;
  let dir: string;
  let orders: OrderApi;
  let fx: UnverifiedFixtures;

  // startTestApp of ../support/test-app, not usePaymentApp: `npm run test:eventstoredb` runs this suite on the real server.
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'peaqos-forced-revocation-'));
    t = await startTestApp({
      clock,
      providers: [
        scriptedProviderAdapters(adapter),
        {
          provide: OPEN_MARKET_ORDERS,
          inject: [ORDERS_READ_MODEL],
          useFactory: (real: OpenMarketOrders) => (openOrders = new RecordedOpenOrders(real)),
        },
      ],
      env: { ...UNVERIFIED, PEAQOS_MCR_API_URL: 'http://127.0.0.1:9', PEAQOS_CATALOG_PATH: writeCatalogFile(dir, freeExecCatalogFile()) },
    });
    orders = new OrderApi(t);
    fx = new UnverifiedFixtures(t);
  });
  afterAll(async () => {
    pending.forEach((release) => release());
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const tick = () => clock.advance(1000);
  const place = async (agent: OrderAgent) => {
    tick();
    return (await placeOrder(orders, agent, 'exec.free')) as Json;
  };
  const execute = (agent: OrderAgent, orderId: string) => orders.execute(orderId, agent.token);
  const revoke = (agent: OrderAgent, query = '') =>
    t.inject({ method: 'POST', url: `/api/v1/machines/${agent.machineId}/agent-pairings/${agent.pairingId}/revoke${query}` });
  const pairingStatus = async (agent: OrderAgent) =>
    (await t.inject({ method: 'GET', url: `/api/v1/machines/${agent.machineId}/agent-pairings/${agent.pairingId}` })).body.item.status;
  const order = async (orderId: string) => (await orders.get(orderId)).body.item as Json;
  const cancelEvents = async (orderId: string) => (await orders.orderEvents(orderId)).filter((e) => e.type === 'market_order.cancelled');
  const revokedEvent = async (agent: OrderAgent) =>
    (await t.storedEvents()).find((e) => e.type === 'agent_pairing.revoked' && e.streamId.endsWith(agent.pairingId));
  const waitFor = async (condition: () => boolean) => {
    for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((r) => setTimeout(r, 5));
    if (!condition()) throw new Error('condition not reached in 1 s');
  };
  /** Starts an execution that stays in flight; returns its release and the pending response. */
  const startExecution = async (agent: OrderAgent, orderId: string) => {
    const before = pending.length;
    const response = execute(agent, orderId);
    await waitFor(() => pending.length > before);
    expect((await order(orderId)).status).toBe('executing');
    return { release: pending[pending.length - 1], response };
  };

  it('an order that started executing or closed after the read is left as it is; the others are still cancelled', async () => {
    const agent = await fx.agent();
    const executing = await place(agent);
    const closed = await place(agent);
    const open = await place(agent);
    // The revocation reads the open orders while all three are `created`…
    const read = await openOrders.real.openOrdersOfPairing(agent.pairingId);
    expect(read).toEqual({ orderIds: [executing.id, closed.id, open.id], count: 3, executingOrderIds: [] });
    // …then, before it is committed, the oldest starts executing and another is cancelled by the agent.
    const run = await startExecution(agent, executing.id);
    expect((await orders.cancel(closed.id, agent.token, { reason: 'changed my mind' })).status).toBe(200);
    openOrders.answerNextWith(agent.pairingId, read);

    const forced = await revoke(agent, '?force=true');
    expect(forced.status).toBe(200);
    expect(forced.body.item).toEqual(expect.objectContaining({ id: agent.pairingId, status: 'revoked', hasAuthToken: false }));

    // The executing order is not cancelled (no event); the closed one keeps its own cancellation.
    expect(await order(executing.id)).toEqual(expect.objectContaining({ status: 'executing', cancelReason: null }));
    expect(await cancelEvents(executing.id)).toEqual([]);
    expect(await order(closed.id)).toEqual(expect.objectContaining({ status: 'cancelled', cancelReason: 'changed my mind' }));
    expect(await cancelEvents(closed.id)).toHaveLength(1);
    // The order after them is cancelled for the revocation, caused by it.
    expect(await order(open.id)).toEqual(expect.objectContaining({ status: 'cancelled', cancelReason: 'pairing_revoked' }));
    const [cancelled] = await cancelEvents(open.id);
    expect(cancelled.metadata.causationId).toBe((await revokedEvent(agent))?.id);

    run.release();
    await run.response;
  });

  it('one read of the open orders per revocation; an executing order refuses it up front, nothing changes', async () => {
    const agent = await fx.agent();
    const executing = await place(agent);
    const open = await place(agent);
    const run = await startExecution(agent, executing.id);

    const reads = openOrders.pairingReads.length;
    const refused = await refusedWithoutEvents(t, () => revoke(agent, '?force=true'));
    expectError(refused, 409, 'OPEN_MARKET_ORDERS');
    expect(refused.body.error.details).toEqual({ reason: 'orders_executing', orderIds: [executing.id], count: 1 });
    expect(openOrders.pairingReads.length - reads).toBe(1);
    expect(await pairingStatus(agent)).toBe('active');
    expect((await order(open.id)).status).toBe('created');

    // Once the execution has delivered, the delivered order is cancelled as well (§7.1).
    run.release();
    expect((await run.response).status).toBe(200);
    expect((await order(executing.id)).status).toBe('delivered');
    const forced = await revoke(agent, '?force=true');
    expect(forced.status).toBe(200);
    expect(openOrders.pairingReads.length - reads).toBe(2);
    for (const id of [executing.id, open.id]) expect(await order(id)).toEqual(expect.objectContaining({ cancelReason: 'pairing_revoked' }));
  });

  it('past 100 open orders: the refusal lists the oldest 100 and the count; force cancels every one', async () => {
    const agent = await fx.agent();
    const placed: string[] = [];
    for (let i = 0; i < 101; i += 1) placed.push((await place(agent)).id);

    const refused = await refusedWithoutEvents(t, () => revoke(agent));
    expectError(refused, 409, 'OPEN_MARKET_ORDERS');
    expect(refused.body.error.details).toEqual({ orderIds: placed.slice(0, 100), count: 101 });

    expect((await revoke(agent, '?force=true')).status).toBe(200);
    const statuses = await Promise.all(placed.map(async (id) => (await order(id)).status));
    expect(statuses).toEqual(placed.map(() => 'cancelled'));
  });
});

describe('OPEN_MARKET_ORDERS as the app provides it', () => {
  it('is the orders read model itself (ORDERS_READ_MODEL), not a second instance', async () => {
    const t = await startTestApp({ env: { ...UNVERIFIED, PEAQOS_MCR_API_URL: 'http://127.0.0.1:9' } });
    try {
      const openOrders = t.app.get(OPEN_MARKET_ORDERS, { strict: false });
      expect(openOrders).toBe(t.app.get(ORDERS_READ_MODEL, { strict: false }));
      expect(openOrders).toBeInstanceOf(SqliteOrdersReadModel);
    } finally {
      await t.close();
    }
  });
});
