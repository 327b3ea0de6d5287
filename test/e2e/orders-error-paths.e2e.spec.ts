import { ProviderInvocation } from '../../src/application/ports/provider-adapter.port';
import { fileService, fixedPrice } from '../support/catalog-fixture';
import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import { expectNotFound, ORDERS_URL, OrderAgent, OrderApi, UNKNOWN_ORDER_ID, UnverifiedFixtures } from '../support/order-api';
import { acmeCatalogFile, FREE_PAYMENT } from '../support/order-catalog';
import { decodeJwt, pairingOutageStore, pairingUrl } from '../support/pairing-api';
import {
  CHAIN_ENV,
  Json,
  onChainPayment,
  orderUrl,
  PAYEE,
  PAYER,
  PaymentApi,
  placeOrder,
  randomTxHash,
  usePaymentApp,
} from '../support/payment-api';
import { jsonAnswer, ScriptedProviderAdapter, scriptedProviderAdapters } from '../support/scripted-provider-adapter';
import { refusedWithoutEvents } from '../support/search-api';
import { TestApp, TestResponse, withApiKey } from '../support/test-app';
import { until } from '../support/until';

/**
 * §7 error paths that no other suite provokes over HTTP on a §7 endpoint: a wrong API key on operator
 * routes (§1.1), an expired pairing token (§1.2 step 4), an unavailable pairing store (§0.9, §1.2 step 5),
 * cancel of a delivered order (§7.5.13), release without a payment record (§7.5.8), unknown orders on
 * payment routes (§7.5), the active gate of the payment routes (§1.4, §1.5) and a forced pairing
 * revocation blocked by an execution really in flight (§5.8.7).
 *
 * One app with API-key auth on (every request below carries the key unless a test says otherwise),
 * identity and pairing proofs `disabled`, the pairing streams behind an outage switch, and `execute`
 * answered in process by the scripted provider adapter (`exec.slow` waits until the test lets it go).
 */

const T0 = '2026-08-03T09:00:00.000Z';
const API_KEY = 'orders-error-paths-key-0123456789';
/** §5.8.7 / §7.5.13: the statuses `cancel` accepts. */
const CANCELLABLE = ['created', 'payment_pending', 'ready', 'handoff'];

const endpoint = (path: string) => [{ url: `http://127.0.0.1:9${path}`, method: 'POST', protocols: [], networks: [] }];

/** `exec.free` and `exec.slow` (free, native; the adapter answers them), `pay.escrow` (a required escrow payment). */
const catalog = (): Json =>
  acmeCatalogFile([
    fileService('exec.free', { pricing: fixedPrice(0.1, 'USDT'), payment: FREE_PAYMENT, endpoints: endpoint('/free') }),
    fileService('exec.slow', { pricing: fixedPrice(0.1, 'USDT'), payment: FREE_PAYMENT, endpoints: endpoint('/slow') }),
    fileService('pay.escrow', { pricing: fixedPrice(2.5, 'USDT'), payment: onChainPayment(['escrow']), endpoints: endpoint('/escrow') }),
  ]);

/** The answer of `exec.slow` waits for `release()`; a new `hold()` arms it again. */
class Gate {
  private opened: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;

  hold(): void {
    this.opened = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open();
  }

  wait(): Promise<void> {
    return this.opened;
  }
}

describe('§7 error paths over HTTP (API key on, proofs disabled, scripted provider)', () => {
  const clock = new ControllableClock(T0);
  const outage = { down: false };
  const gate = new Gate();
  const adapter = new ScriptedProviderAdapter(async (invocation: ProviderInvocation) => {
    if (invocation.service.id === 'exec.slow') await gate.wait();
    return jsonAnswer({ price: 3120.5, symbol: invocation.input.symbol });
  });
  /** The app as started: requests without an API key. */
  let raw: TestApp;
  /** The same app, every request with the right `x-api-key` (unless the request sets its own). */
  let t: TestApp;
  let orders: OrderApi;
  let payments: PaymentApi;
  let fx: UnverifiedFixtures;

  // Declared before the app, so that it runs before the app closes.
  afterAll(() => {
    outage.down = false;
    gate.release();
  });
  usePaymentApp(
    {
      clock,
      catalog,
      providers: [scriptedProviderAdapters(adapter)],
      wrapEventStore: (store) => pairingOutageStore(store, outage),
      env: () => ({ ...CHAIN_ENV, PEAQOS_REQUIRE_API_AUTH: 'true', PEAQOS_API_KEY: API_KEY }),
    },
    (app) => {
      raw = app.t;
      t = withApiKey(raw, API_KEY);
      orders = new OrderApi(t);
      payments = new PaymentApi(t);
      fx = new UnverifiedFixtures(t);
    },
  );

  /** `request` must be refused and append no event at all. */
  const refused = (request: () => Promise<TestResponse>) => refusedWithoutEvents(t, request);
  const execute = (orderId: string, token: string) => orders.execute(orderId, token);
  /** An `exec.free` order of the agent, executed: `delivered`. */
  async function delivered(agent: OrderAgent): Promise<Json> {
    const order = await placeOrder(orders, agent, 'exec.free');
    const response = await execute(order.id, agent.token);
    if (response.status !== 200) throw new Error(`execute ${order.id}: ${response.status} ${response.text}`);
    expect(response.body.item.order.status).toBe('delivered');
    return response.body.item.order;
  }
  const statusOf = async (orderId: string) => (await payments.order(orderId)).status;
  /** A recorded transfer proof of the whole `pay.escrow` amount (§7.5.5). */
  const transfer = () => ({ txHash: randomTxHash(), amount: '2.5', fromAddress: PAYER, toAddress: PAYEE });

  describe('§1.1: a wrong x-api-key on §7 routes', () => {
    it('401 AUTH_INVALID without details on POST …/payment/refund and GET /market/orders; the right key reaches the endpoint', async () => {
      const agent = await fx.agent();
      const order = await placeOrder(orders, agent, 'exec.free');
      const listUrl = `${ORDERS_URL}?machineId=${agent.machineId}`;
      for (const key of ['wrong', `${API_KEY}x`, API_KEY.slice(0, -1), API_KEY.toUpperCase()]) {
        const headers = { 'x-api-key': key };
        const refund = await refused(() =>
          raw.inject({ method: 'POST', url: `${orderUrl(order.id)}/payment/refund`, headers, payload: { reason: 'returned' } }),
        );
        expectError(refund, 401, 'AUTH_INVALID');
        expect(refund.body.error.details).toBeUndefined();
        const list = await raw.inject({ method: 'GET', url: listUrl, headers });
        expectError(list, 401, 'AUTH_INVALID');
        expect(list.body.error.details).toBeUndefined();
      }

      // With the configured key the same requests get past §0.14 step 2.
      const refund = await payments.refund(order.id, { reason: 'returned' });
      expectError(refund, 409, 'STATE_CONFLICT');
      expect(refund.body.error.details.reason).toBe('payment_intent_missing');
      const list = await t.inject({ method: 'GET', url: listUrl });
      expect(list.status).toBe(200);
      expect(list.body.items.map((o: Json) => o.id)).toEqual([order.id]);
    });
  });

  describe('§1.2 step 4: an expired pairing token', () => {
    it('401 AGENT_AUTH_EXPIRED { expiredAt } on POST /market/orders and POST …/execute once now >= exp; nothing changes', async () => {
      const agent = await fx.agent();
      const { exp } = decodeJwt(agent.token).claims;
      const expiredAt = new Date(exp * 1000).toISOString();
      const body = { machineId: agent.machineId, serviceId: 'exec.free', input: { symbol: 'ETH/USD' } };

      // One second before exp the token still works.
      clock.set(new Date((exp - 1) * 1000));
      const order = await placeOrder(orders, agent, 'exec.free');

      clock.set(expiredAt);
      const create = await refused(() => orders.create(body, agent.token));
      expectError(create, 401, 'AGENT_AUTH_EXPIRED');
      expect(create.body.error.details).toEqual({ expiredAt });

      clock.advance(60_000);
      const run = await refused(() => execute(order.id, agent.token));
      expectError(run, 401, 'AGENT_AUTH_EXPIRED');
      expect(run.body.error.details).toEqual({ expiredAt });
      expect(adapter.invocations.filter((i) => i.orderId === order.id)).toHaveLength(0);
      expect(await statusOf(order.id)).toBe('created');
    });
  });

  describe('§0.9 / §1.2 step 5: the pairing store is unavailable', () => {
    afterEach(() => {
      outage.down = false;
    });

    const expectUnavailable = (response: TestResponse) => {
      expectError(response, 503, 'AGENT_PAIRING_UNAVAILABLE');
      expect(response.body.error.details).toBeUndefined();
      expect(response.headers['retry-after']).toBe('5');
    };

    it('503 AGENT_PAIRING_UNAVAILABLE with Retry-After: 5 on POST /market/orders and POST …/confirm; both work once it is back', async () => {
      const agent = await fx.agent();
      const order = await delivered(agent);
      const body = { machineId: agent.machineId, serviceId: 'exec.free', input: { symbol: 'ETH/USD' } };

      outage.down = true;
      expectUnavailable(await refused(() => orders.create(body, agent.token)));
      expectUnavailable(await refused(() => orders.confirm(order.id, agent.token)));
      outage.down = false;

      expect(await statusOf(order.id)).toBe('delivered');
      const confirm = await orders.confirm(order.id, agent.token);
      expect(confirm.status).toBe(200);
      expect(confirm.body.item.status).toBe('confirmed');
      expect((await orders.create(body, agent.token)).status).toBe(201);
    });
  });

  describe('§7.5.13: cancel of a delivered order', () => {
    it("409 STATE_CONFLICT { entityType: 'market-order', id, status: 'delivered', reason: 'order_not_cancellable', allowed }", async () => {
      const agent = await fx.agent();
      const order = await delivered(agent);
      const response = await refused(() => orders.cancel(order.id, agent.token, { reason: 'too late' }));
      expectError(response, 409, 'STATE_CONFLICT');
      expect(response.body.error.details).toEqual({
        entityType: 'market-order',
        id: order.id,
        status: 'delivered',
        reason: 'order_not_cancellable',
        allowed: CANCELLABLE,
      });
      expect(await statusOf(order.id)).toBe('delivered');
    });
  });

  describe('§7.5.8: release of a confirmed order without a payment record', () => {
    it("409 STATE_CONFLICT { entityType: 'market-order', id, status: 'confirmed', reason: 'payment_intent_missing' }", async () => {
      const agent = await fx.agent();
      const order = await delivered(agent);
      const confirm = await orders.confirm(order.id, agent.token);
      expect(confirm.status).toBe(200);
      expect(confirm.body.item).toMatchObject({ status: 'confirmed', paymentId: null });
      expectNotFound(await payments.get(order.id), 'market-payment', expect.any(String));

      const response = await refused(() => payments.release(order.id));
      expectError(response, 409, 'STATE_CONFLICT');
      expect(response.body.error.details).toEqual({
        entityType: 'market-order',
        id: order.id,
        status: 'confirmed',
        reason: 'payment_intent_missing',
      });
      expect(await payments.order(order.id)).toMatchObject({ status: 'confirmed', paymentId: null });
    });
  });

  describe('§7.5: an unknown order on the payment routes', () => {
    it("404 NOT_FOUND { entityType: 'market-order', id } on POST …/payment-proof and POST …/payment/escrow-lock", async () => {
      const agent = await fx.agent();
      const proof = await refused(() => payments.proof(UNKNOWN_ORDER_ID, agent.token, transfer()));
      expectNotFound(proof, 'market-order', UNKNOWN_ORDER_ID);
      const lock = await refused(() => payments.escrowLock(UNKNOWN_ORDER_ID, agent.token, {}));
      expectNotFound(lock, 'market-order', UNKNOWN_ORDER_ID);
    });
  });

  describe('§1.4 active gate of the payment routes (§1.5)', () => {
    it("409 MACHINE_NOT_ACTIVE { machineId, status: 'blocked' } on payment-intent, payment-proof, escrow-lock and GET …/payment", async () => {
      const agent = await fx.agent();
      const bare = await placeOrder(orders, agent, 'pay.escrow');
      const withIntent = await placeOrder(orders, agent, 'pay.escrow');
      const intent = await payments.intended(withIntent.id, agent.token);
      expect(intent.status).toBe('intent_created');

      await fx.patchMachine(agent.machineId, { status: 'blocked' });
      const blocked = { machineId: agent.machineId, status: 'blocked' };
      for (const request of [
        () => payments.intent(bare.id, agent.token),
        () => payments.intent(withIntent.id, agent.token),
        () => payments.proof(withIntent.id, agent.token, transfer()),
        () => payments.escrowLock(withIntent.id, agent.token, {}),
        () => payments.get(withIntent.id),
      ]) {
        const response = await refused(request);
        expectError(response, 409, 'MACHINE_NOT_ACTIVE');
        expect(response.body.error.details).toEqual(blocked);
      }

      // Active again, the same requests pass the gate.
      await fx.patchMachine(agent.machineId, { status: 'active' });
      expect((await payments.intent(bare.id, agent.token)).status).toBe(201);
      expect((await payments.get(withIntent.id)).body.item).toEqual(intent);
      const lock = await payments.escrowLock(withIntent.id, agent.token, {});
      expect(lock.status).toBe(200);
      expect(lock.body.item.status).toBe('held');
    });
  });

  describe('§5.8.7: forced revocation while an execute is in flight', () => {
    it("409 OPEN_MARKET_ORDERS { reason: 'orders_executing', orderIds, count } with only the executing order; revocable once it finished", async () => {
      const agent = await fx.agent();
      const waiting = await placeOrder(orders, agent, 'exec.free');
      const slow = await placeOrder(orders, agent, 'exec.slow');
      const revoke = () => t.inject({ method: 'POST', url: `${pairingUrl(agent.machineId, agent.pairingId)}/revoke?force=true` });

      gate.hold();
      const running = execute(slow.id, agent.token);
      let finished: TestResponse;
      try {
        await until(() => adapter.invocations.some((i) => i.orderId === slow.id), {
          timeoutMs: 10_000,
          what: 'the provider is invoked for the slow order',
        });
        await until(async () => (await statusOf(slow.id)) === 'executing', { timeoutMs: 10_000, what: 'the slow order is executing' });

        const response = await refused(revoke);
        expectError(response, 409, 'OPEN_MARKET_ORDERS');
        expect(response.body.error.details).toEqual({ reason: 'orders_executing', orderIds: [slow.id], count: 1 });
        const pairing = await t.inject({ method: 'GET', url: pairingUrl(agent.machineId, agent.pairingId) });
        expect(pairing.body.item.status).toBe('active');
        expect(await statusOf(waiting.id)).toBe('created');
      } finally {
        gate.release();
        finished = await running;
      }

      expect(finished.status).toBe(200);
      expect(finished.body.item.order.status).toBe('delivered');
      const revoked = await revoke();
      expect(revoked.status).toBe(200);
      expect(revoked.body.item.status).toBe('revoked');
      for (const id of [waiting.id, slow.id]) {
        expect(await payments.order(id)).toMatchObject({ status: 'cancelled', cancelReason: 'pairing_revoked' });
      }
    });
  });
});
