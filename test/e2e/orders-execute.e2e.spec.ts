import { closedPortUrl } from '../support/anvil';
import { fileService, fixedPrice } from '../support/catalog-fixture';
import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import { OrderAgent, OrderApi } from '../support/order-api';
import { acmeCatalogFile, FREE_PAYMENT } from '../support/order-catalog';
import { orderUrl, PaymentApi, placeOrder, usePaymentAgent, X402Provider, type Json } from '../support/payment-api';
import { TestApp } from '../support/test-app';

/**
 * `POST /market/orders/:orderId/execute` (§7.5.10) over HTTP against providers on 127.0.0.1: the task,
 * route, run and outcome it records (§8.5), handoff, native delivery through the generic provider
 * protocol (§8.5.4), retryable and non-retryable failures, and the recorded result returned again.
 */

const T0 = '2026-05-04T10:00:00.000Z';
const provider = new X402Provider();
let closedUrl: string;

const native = (id: string, path: string, extra: Json = {}) =>
  fileService(id, {
    pricing: fixedPrice(0.1, 'USDT'),
    payment: FREE_PAYMENT,
    endpoints: [{ url: `${provider.url}${path}`, method: 'POST', protocols: ['https'], networks: [] }],
    ...extra,
  });

const catalog = (): Json =>
  acmeCatalogFile([
    native('exec.ok', '/ok'),
    native('exec.busy', '/busy'),
    native('exec.broken', '/broken'),
    native('exec.closed', '/x', { endpoints: [{ url: `${closedUrl}/x`, method: 'POST', protocols: [], networks: [] }] }),
    native('exec.none', '/x', { endpoints: [] }),
    fileService('exec.handoff', {
      pricing: fixedPrice(0.1, 'USDT'),
      payment: FREE_PAYMENT,
      executionMode: 'external-handoff',
      integrationStatus: 'setup-required',
      handoff: { label: 'Acme console', url: 'https://console.acme.example/run', notes: ['Sign in first.'] },
    }),
  ]);

beforeAll(async () => {
  await provider.start();
  closedUrl = await closedPortUrl();
  provider.replies.set('/ok', (r) => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ price: 3120.5, echo: JSON.parse(r.body) }),
  }));
  provider.replies.set('/busy', () => ({ status: 503, body: 'try later' }));
  provider.replies.set('/broken', () => ({ status: 500, body: 'boom' }));
});
afterAll(async () => {
  await provider.stop();
});

describe('execute (§7.5.10)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let orders: OrderApi;
  let payments: PaymentApi;
  let agent: OrderAgent;
  usePaymentAgent({ clock, catalog, env: () => ({ PEAQOS_EXECUTE_TIMEOUT_MS: '2000' }) }, (app) => ({ t, orders, payments, agent } = app));

  const execute = (orderId: string, body: Json = {}, token = agent.token) => orders.execute(orderId, token, body);

  it('native: 200 with the order delivered and the task, route, run and outcome; the provider got the input', async () => {
    const order = await placeOrder(orders, agent, 'exec.ok');
    const response = await execute(order.id);
    expect(response.status).toBe(200);
    const { order: delivered, task, route, run, outcome } = response.body.item;
    expect(delivered).toMatchObject({ status: 'delivered', taskId: task.id, routeId: route.id, runId: run.id, outcomeId: outcome.id });
    expect(task).toMatchObject({ orderId: order.id, status: 'succeeded', input: { symbol: 'ETH/USD' } });
    expect(route).toMatchObject({
      taskId: task.id,
      target: 'provider',
      url: `${provider.url}/ok`,
      reason: `provider endpoint ${provider.url}/ok`,
    });
    expect(run).toMatchObject({ attempt: 1, status: 'succeeded', error: null });
    expect(outcome).toMatchObject({ status: 'delivered', output: { price: 3120.5, echo: { symbol: 'ETH/USD' } }, handoff: null });
    expect(JSON.parse(provider.requestsTo('/ok')[0].body)).toEqual({ symbol: 'ETH/USD' });

    const again = await execute(order.id);
    expect(again.status).toBe(200);
    expect(again.body.item).toEqual(response.body.item);
    expect(provider.requestsTo('/ok')).toHaveLength(1);

    const confirmed = await t.inject({
      method: 'POST',
      url: `${orderUrl(order.id)}/confirm`,
      headers: { 'x-agent-pairing-token': agent.token },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.item.status).toBe('confirmed');
  });

  it('handoff: 202, outcome handoff, order handoff with the service handoff', async () => {
    const order = await placeOrder(orders, agent, 'exec.handoff');
    const response = await execute(order.id);
    expect(response.status).toBe(202);
    const handoff = { label: 'Acme console', url: 'https://console.acme.example/run', notes: ['Sign in first.'] };
    expect(response.body.item.order).toMatchObject({ status: 'handoff', handoff });
    expect(response.body.item.task.status).toBe('handed_off');
    expect(response.body.item.outcome).toMatchObject({ status: 'handoff', handoff, output: null });
    expect(response.body.item.route).toMatchObject({ target: 'handoff', url: handoff.url });
    expect((await execute(order.id)).status).toBe(202);
  });

  it('retryable (provider 503): 502 EXECUTION_FAILED retryable, order back to its status, task pending; a second execute is attempt 2', async () => {
    const order = await placeOrder(orders, agent, 'exec.busy');
    const response = await execute(order.id);
    expectError(response, 502, 'EXECUTION_FAILED');
    expect(response.body.error.details).toMatchObject({ retryable: true, orderStatus: 'created' });
    const after = await payments.order(order.id);
    expect(after).toMatchObject({ status: 'created', errorMessage: 'HTTP 503: try later' });
    const second = await execute(order.id);
    expectError(second, 502, 'EXECUTION_FAILED');
    expect(provider.requestsTo('/busy')).toHaveLength(2);

    // Cancelled while its task is pending: the task fails (§7.5.13), caused by the cancellation.
    const cancelled = await t.inject({
      method: 'POST',
      url: `${orderUrl(order.id)}/cancel`,
      headers: { 'x-agent-pairing-token': agent.token },
      payload: {},
    });
    expect(cancelled.status).toBe(200);
    const events = await t.storedEvents();
    const cancel = events.find((e) => e.streamId === `market-order-${order.id}` && e.type === 'market_order.cancelled')!;
    const taskEvents = events.filter((e) => e.streamId === `task-${second.body.error.details.taskId}`);
    const runs = taskEvents.filter((e) => e.type === 'run.started').map((e) => (e.data as Json).attempt);
    expect(runs).toEqual([1, 2]);
    const last = taskEvents[taskEvents.length - 1];
    expect(last).toMatchObject({
      type: 'task.status_changed',
      data: { from: 'pending', to: 'failed' },
      metadata: { causationId: cancel.id },
    });
  });

  it('connection refused: retryable; non-retryable 500: order failed with the outcome', async () => {
    const closed = await placeOrder(orders, agent, 'exec.closed');
    const refused = await execute(closed.id);
    expectError(refused, 502, 'EXECUTION_FAILED');
    expect(refused.body.error.details.retryable).toBe(true);

    const broken = await placeOrder(orders, agent, 'exec.broken');
    const failed = await execute(broken.id);
    expectError(failed, 502, 'EXECUTION_FAILED');
    expect(failed.body.error.details).toMatchObject({ retryable: false, orderStatus: 'failed', providerStatus: 500 });
    expect(await payments.order(broken.id)).toMatchObject({ status: 'failed', errorMessage: 'HTTP 500: boom' });
    expectError(await execute(broken.id), 409, 'ORDER_CLOSED');
  });

  it('no provider endpoint: 409 ROUTE_REQUIRED and nothing is written', async () => {
    const order = await placeOrder(orders, agent, 'exec.none');
    const before = (await t.storedEvents({ includeInternal: true })).length;
    const response = await execute(order.id);
    expectError(response, 409, 'ROUTE_REQUIRED');
    expect(response.body.error.details).toEqual({ providerKey: 'acme', reason: 'no_provider_endpoint' });
    expect((await t.storedEvents({ includeInternal: true })).length).toBe(before);
  });
});
