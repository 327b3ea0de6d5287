import { EventStore } from '../../src/application/ports/event-store.port';
import { INTERRUPTED_RUN_ERROR } from '../../src/application/orders/interrupted-executions';
import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import { OrderAgent, OrderApi } from '../support/order-api';
import { freeExecCatalogFile } from '../support/order-catalog';
import { orderUrl, placeOrder, usePaymentAgent } from '../support/payment-api';
import { jsonAnswer, ScriptedProviderAdapter, scriptedProviderAdapters } from '../support/scripted-provider-adapter';
import { TestApp } from '../support/test-app';

/**
 * An execution that never ends (the process stopped mid-way, simulated by a provider answer or a task
 * append that never completes) leaves the order `executing`. Once it is older than any in-flight
 * execution can be (2 × PEAQOS_EXECUTE_TIMEOUT_MS + 60 s), the next execute or cancel ends it.
 */

const T0 = '2026-05-04T10:00:00.000Z';
const TIMEOUT_MS = 1000;
const STALE_MS = 2 * TIMEOUT_MS + 60_000;

let stalledTaskAppends = 0;

/** Appends to task streams never complete while `stall.on` is set. */
function stallingTaskStore(store: EventStore, stall: { on: boolean }): EventStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const original = Reflect.get(target, property, receiver);
      if (property !== 'append' || typeof original !== 'function') return original;
      return (streamId: string, ...rest: unknown[]) =>
        stall.on && streamId.startsWith('task-')
          ? new Promise(() => (stalledTaskAppends += 1))
          : (original as (...args: unknown[]) => unknown).call(target, streamId, ...rest);
    },
  });
}

describe('interrupted executions (§7.5.10 step 8: progress is recorded; nothing stays executing forever)', () => {
  const clock = new ControllableClock(T0);
  const stall = { on: false };
  /** Answers resolved by the test; until then the run is in flight. */
  const pending: Array<() => void> = [];
  const adapter = new ScriptedProviderAdapter(() => new Promise((resolve) => pending.push(() => resolve(jsonAnswer({ price: 1 })))));
  let t: TestApp;
  let agent: OrderAgent;
  let orders: OrderApi;

  // Declared before the app, so that it runs before the app closes.
  afterAll(() => pending.forEach((release) => release()));
  usePaymentAgent(
    {
      clock,
      catalog: freeExecCatalogFile,
      wrapEventStore: (store) => stallingTaskStore(store, stall),
      providers: [scriptedProviderAdapters(adapter)],
      env: () => ({ PEAQOS_EXECUTE_TIMEOUT_MS: String(TIMEOUT_MS) }),
    },
    (app) => ({ t, orders, agent } = app),
  );

  const execute = (orderId: string) => orders.execute(orderId, agent.token);
  const cancel = (orderId: string) => orders.cancel(orderId, agent.token);
  const waitFor = async (condition: () => boolean) => {
    for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((r) => setTimeout(r, 5));
    if (!condition()) throw new Error('condition not reached in 1 s');
  };

  it('a run in flight past the bound: the next execute fails run, task and order (not retried blindly) → 409 ORDER_CLOSED', async () => {
    const order = await placeOrder(orders, agent, 'exec.free');
    const first = execute(order.id);
    await waitFor(() => pending.length === 1);
    expectError(await execute(order.id), 409, 'STATE_CONFLICT');

    clock.advance(STALE_MS - 1);
    expectError(await execute(order.id), 409, 'STATE_CONFLICT');
    clock.advance(1);
    expectError(await execute(order.id), 409, 'ORDER_CLOSED');
    const ended = (await t.inject({ method: 'GET', url: orderUrl(order.id) })).body.item;
    expect(ended).toMatchObject({ status: 'failed', errorMessage: INTERRUPTED_RUN_ERROR });
    const taskEvents = (await t.storedEvents()).filter((e) => e.streamId === `task-${ended.taskId}`).map((e) => e.type);
    expect(taskEvents.slice(-3)).toEqual(['run.finished', 'outcome.recorded', 'task.status_changed']);

    // The late answer finds the run ended: it is not recorded over the failure.
    pending.shift()!();
    expect((await first).status).toBe(409);
    expect((await t.inject({ method: 'GET', url: orderUrl(order.id) })).body.item.status).toBe('failed');
  });

  it('stopped before any run was recorded: cancel past the bound returns the order to its status, then cancels it', async () => {
    const order = await placeOrder(orders, agent, 'exec.free');
    stall.on = true;
    void execute(order.id);
    await waitFor(() => stalledTaskAppends > 0);
    stall.on = false;
    expect((await t.inject({ method: 'GET', url: orderUrl(order.id) })).body.item.status).toBe('executing');
    expectError(await cancel(order.id), 409, 'STATE_CONFLICT');

    clock.advance(STALE_MS);
    const cancelled = await cancel(order.id);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.item).toMatchObject({ status: 'cancelled', errorMessage: 'interrupted before the request was sent' });
    expect(adapter.invocations.filter((i) => i.orderId === order.id)).toHaveLength(0);
  });
});
