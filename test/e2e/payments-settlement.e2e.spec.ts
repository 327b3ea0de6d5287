import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import { OrderAgent, OrderApi, UNKNOWN_ORDER_ID, UnverifiedFixtures } from '../support/order-api';
import {
  CHAIN_ID,
  expectPaymentShape,
  Json,
  PAYEE,
  PAYER,
  PaymentApi,
  paymentCatalogFile,
  placeOrder,
  randomTxHash,
  TOKEN,
  usePaymentAgent,
  usePaymentApp,
} from '../support/payment-api';
import { expectBodyIssue, refusedWithoutEvents } from '../support/search-api';
import { TestApp } from '../support/test-app';
import { closedPortUrl } from '../support/anvil';

/**
 * Escrow locks (§7.5.7), refunds (§7.5.9), release (§7.5.8) and the delivery preconditions of
 * confirm/dispute (§7.5.11–§7.5.12) over HTTP, with the payment state machine of §7.1 and the effect of
 * a refund on the pairing's daily spend (§5.7). `execute` is not part of these suites, so release can
 * only be reached up to `ORDER_NOT_DELIVERED`.
 */

const T0 = '2026-05-04T10:00:00.000Z';
const ESCROW = '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc';

let closedUrl: string;
beforeAll(async () => {
  closedUrl = await closedPortUrl();
});
const catalog = () => paymentCatalogFile({ token: TOKEN, payTo: PAYEE, chainId: CHAIN_ID, providerUrl: closedUrl, closedUrl });
const env = () => ({ PEAQOS_CHAIN_ID: String(CHAIN_ID), PEAQOS_USDT_CONTRACT: TOKEN });

describe('escrow locks, refunds and release (§7.5.7–§7.5.9)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let orders: OrderApi;
  let payments: PaymentApi;
  let agent: OrderAgent;
  usePaymentAgent({ clock, catalog, env }, (app) => ({ t, orders, payments, agent } = app));

  const now = () => clock.now().toISOString();
  const pending = (serviceId = 'pay.escrow', intent: Record<string, unknown> = {}) => payments.placeWithIntent(agent, serviceId, intent);
  const transfer = (extra: Record<string, unknown> = {}) => ({
    txHash: randomTxHash(),
    amount: '2.5',
    fromAddress: PAYER,
    toAddress: PAYEE,
    ...extra,
  });
  /** An order whose payment is held by a recorded transfer proof. */
  async function held(serviceId = 'pay.wallet'): Promise<{ order: Json; payment: Json }> {
    const { order } = await pending(serviceId);
    const response = await payments.proof(order.id, agent.token, transfer());
    if (response.status !== 200) throw new Error(`proof: ${response.status} ${response.text}`);
    return { order, payment: response.body.item };
  }
  const expectConflict = (response: Json, reason: string, status?: string) => {
    expectError(response, 409, 'STATE_CONFLICT');
    expect(response.body.error.details).toEqual(expect.objectContaining({ reason, ...(status ? { status } : {}) }));
  };

  describe('POST …/payment/escrow-lock (§7.5.7)', () => {
    it('escrow: 200, the lock as given (defaults from the record), the payment held; the order goes ready', async () => {
      const { order, payment } = await pending();
      clock.advance(1000);
      const response = await payments.escrowLock(order.id, agent.token, {});
      expect(response.status).toBe(200);
      expect(Object.keys(response.body)).toEqual(['item']);
      expectPaymentShape(response.body.item);
      expect(response.body.item).toEqual({
        ...payment,
        status: 'held',
        heldAt: now(),
        updatedAt: now(),
        escrow: { txHash: null, escrowAddress: null, chainId: CHAIN_ID, amount: null, lockedAt: now() },
      });
      expect(await payments.order(order.id)).toEqual(expect.objectContaining({ status: 'ready', updatedAt: now() }));
      expect((await payments.orderEvents(order.id)).map((e) => e.type).slice(-2)).toEqual([
        'market_payment.escrow_locked',
        'market_order.ready',
      ]);
      expect((await payments.get(order.id)).body.item).toEqual(response.body.item);
    });

    it('onchain-escrow: txHash stored lower-case, escrowAddress EIP-55, chainId and amount as given', async () => {
      const { order } = await pending('pay.escrow', { rail: 'onchain-escrow' });
      const hex = randomTxHash().slice(2);
      const response = await payments.escrowLock(order.id, agent.token, {
        txHash: `0x${hex.toUpperCase()}`,
        escrowAddress: ESCROW.toLowerCase(),
        chainId: 1,
        amount: '3',
      });
      expect(response.status).toBe(200);
      expect(response.body.item).toEqual(
        expect.objectContaining({
          type: 'onchain-escrow',
          status: 'held',
          escrow: { txHash: `0x${hex}`, escrowAddress: ESCROW, chainId: 1, amount: '3', lockedAt: now() },
        }),
      );
    });

    it('onchain-escrow without txHash and escrowAddress → 400, one error per missing member; nothing stored', async () => {
      const { order } = await pending('pay.escrow', { rail: 'onchain-escrow' });
      const none = await refusedWithoutEvents(t, () => payments.escrowLock(order.id, agent.token, {}));
      expectError(none, 400, 'VALIDATION_ERROR');
      expect(none.body.error.details.errors.map((e: Json) => e.path).sort()).toEqual(['/escrowAddress', '/txHash']);
      const half = await refusedWithoutEvents(t, () => payments.escrowLock(order.id, agent.token, { txHash: randomTxHash() }));
      expectBodyIssue(half, '/escrowAddress');
      expect(half.body.error.details.errors.map((e: Json) => e.path)).toEqual(['/escrowAddress']);
    });

    it.each([
      ['a malformed txHash', { txHash: '0xabc' }, '/txHash'],
      ['a malformed escrowAddress', { escrowAddress: '0xabc' }, '/escrowAddress'],
      ['an amount that is no decimal string', { amount: '1e1' }, '/amount'],
      ['an unknown member', { note: 'x' }, ''],
    ])('%s → 400', async (_name, body, pointer) => {
      const { order } = await pending();
      expectBodyIssue(await refusedWithoutEvents(t, () => payments.escrowLock(order.id, agent.token, body)), pointer);
    });

    it('an amount below the expected one → 400 amount_below_expected', async () => {
      const { order } = await pending();
      expectBodyIssue(
        await refusedWithoutEvents(t, () => payments.escrowLock(order.id, agent.token, { amount: '2.4' })),
        '/amount',
        'amount_below_expected',
      );
    });

    it('a wallet payment → 400 rail_mismatch', async () => {
      const { order } = await pending('pay.wallet');
      const response = await refusedWithoutEvents(t, () => payments.escrowLock(order.id, agent.token, {}));
      expectError(response, 400, 'VALIDATION_ERROR');
      expect(response.body.error.details.reason).toBe('rail_mismatch');
    });

    it('a not-required payment → 400 rail_mismatch', async () => {
      const { order } = await pending('pay.free');
      const response = await refusedWithoutEvents(t, () => payments.escrowLock(order.id, agent.token, {}));
      expectError(response, 400, 'VALIDATION_ERROR');
      expect(response.body.error.details.reason).toBe('rail_mismatch');
    });

    it('no payment record → 409 STATE_CONFLICT payment_intent_missing', async () => {
      const order = await placeOrder(orders, agent, 'pay.escrow');
      expectConflict(await refusedWithoutEvents(t, () => payments.escrowLock(order.id, agent.token, {})), 'payment_intent_missing');
    });

    it('held already → 200 unchanged, whatever the body; nothing appended', async () => {
      const { order } = await pending();
      const first = await payments.escrowLock(order.id, agent.token, { amount: '2.5' });
      expect(first.status).toBe(200);
      clock.advance(1000);
      const before = (await t.storedEvents()).length;
      const second = await payments.escrowLock(order.id, agent.token, { amount: '9', txHash: randomTxHash() });
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(await t.storedEvents()).toHaveLength(before);
    });

    it('an escrow payment held by a transfer proof → 200 unchanged', async () => {
      const { order, payment } = await held('pay.escrow');
      const response = await payments.escrowLock(order.id, agent.token, {});
      expect(response.status).toBe(200);
      expect(response.body.item).toEqual(payment);
      expect(response.body.item.escrow).toBeNull();
    });

    it('a refunded payment → 409 STATE_CONFLICT payment_not_pending', async () => {
      const { order } = await pending();
      expect((await payments.escrowLock(order.id, agent.token, {})).status).toBe(200);
      expect((await payments.refund(order.id)).status).toBe(200);
      expectConflict(
        await refusedWithoutEvents(t, () => payments.escrowLock(order.id, agent.token, {})),
        'payment_not_pending',
        'refunded',
      );
    });

    it('a cancelled order → 409 ORDER_CLOSED', async () => {
      const { order } = await pending();
      expect((await orders.cancel(order.id, agent.token, {})).status).toBe(200);
      const response = await refusedWithoutEvents(t, () => payments.escrowLock(order.id, agent.token, {}));
      expectError(response, 409, 'ORDER_CLOSED');
      expect(response.body.error.details).toEqual({ orderId: order.id, status: 'cancelled' });
    });

    it('a transaction already used as a transfer proof → 409 PAYMENT_PROOF_REUSED { orderId, txHash }', async () => {
      const { order: first } = await pending('pay.wallet');
      const body = transfer();
      expect((await payments.proof(first.id, agent.token, body)).status).toBe(200);
      const { order } = await pending('pay.escrow', { rail: 'onchain-escrow' });
      const response = await refusedWithoutEvents(t, () =>
        payments.escrowLock(order.id, agent.token, { txHash: body.txHash, escrowAddress: ESCROW }),
      );
      expectError(response, 409, 'PAYMENT_PROOF_REUSED');
      expect(response.body.error.details).toEqual({ orderId: first.id, txHash: body.txHash });
    });

    it('a lock transaction cannot back a transfer proof of another order either', async () => {
      const { order: first } = await pending();
      const txHash = randomTxHash();
      expect((await payments.escrowLock(first.id, agent.token, { txHash })).status).toBe(200);
      const { order } = await pending('pay.wallet');
      const response = await refusedWithoutEvents(t, () => payments.proof(order.id, agent.token, transfer({ txHash })));
      expectError(response, 409, 'PAYMENT_PROOF_REUSED');
      expect(response.body.error.details).toEqual({ orderId: first.id, txHash });
    });

    it('no token → 401 AGENT_AUTH_REQUIRED', async () => {
      const { order } = await pending();
      expectError(await payments.escrowLock(order.id, undefined, {}), 401, 'AGENT_AUTH_REQUIRED');
    });
  });

  describe('POST …/payment/refund (§7.5.9)', () => {
    it('held → 200 refunded with refundReason and refundedAt; the order keeps its status', async () => {
      const { order, payment } = await held();
      clock.advance(1000);
      const response = await payments.refund(order.id, { reason: 'provider unreachable' });
      expect(response.status).toBe(200);
      expectPaymentShape(response.body.item);
      expect(response.body.item).toEqual({
        ...payment,
        status: 'refunded',
        refundReason: 'provider unreachable',
        refundedAt: now(),
        updatedAt: now(),
      });
      expect((await payments.order(order.id)).status).toBe('ready');
      expect((await payments.orderEvents(order.id)).map((e) => e.type).slice(-1)).toEqual(['market_payment.refunded']);
      expect((await payments.get(order.id)).body.item).toEqual(response.body.item);
    });

    it('without a reason: refundReason null; a second refund → 200 unchanged, nothing appended', async () => {
      const { order } = await held();
      const first = await payments.refund(order.id);
      expect(first.status).toBe(200);
      expect(first.body.item.refundReason).toBeNull();
      clock.advance(1000);
      const before = (await t.storedEvents()).length;
      const second = await payments.refund(order.id, { reason: 'again' });
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(await t.storedEvents()).toHaveLength(before);
    });

    it('held by an escrow lock, on a cancelled order → 200 refunded (any order status)', async () => {
      const { order } = await pending();
      expect((await payments.escrowLock(order.id, agent.token, {})).status).toBe(200);
      expect((await orders.cancel(order.id, agent.token, { reason: 'changed my mind' })).status).toBe(200);
      const response = await payments.refund(order.id, { reason: 'cancelled' });
      expect(response.status).toBe(200);
      expect(response.body.item.status).toBe('refunded');
      expect((await payments.order(order.id)).status).toBe('cancelled');
    });

    it('intent_created on an open order → 409 payment_not_refundable; after cancel → 200 refunded', async () => {
      const { order } = await pending('pay.wallet');
      expectConflict(await refusedWithoutEvents(t, () => payments.refund(order.id)), 'payment_not_refundable', 'intent_created');
      expect((await orders.cancel(order.id, agent.token, {})).status).toBe(200);
      const response = await payments.refund(order.id, { reason: 'paid back outside peaqOS' });
      expect(response.status).toBe(200);
      expect(response.body.item).toEqual(
        expect.objectContaining({ status: 'refunded', heldAt: null, refundReason: 'paid back outside peaqOS' }),
      );
    });

    it('not_required → 409 payment_not_refundable, also once the order is cancelled', async () => {
      const { order } = await pending('pay.free');
      expectConflict(await refusedWithoutEvents(t, () => payments.refund(order.id)), 'payment_not_refundable', 'not_required');
      expect((await orders.cancel(order.id, agent.token, {})).status).toBe(200);
      expectConflict(await refusedWithoutEvents(t, () => payments.refund(order.id)), 'payment_not_refundable', 'not_required');
    });

    it('no payment record → 409 payment_intent_missing; an unknown order → 404 market-order', async () => {
      const order = await placeOrder(orders, agent, 'pay.wallet');
      expectConflict(await refusedWithoutEvents(t, () => payments.refund(order.id)), 'payment_intent_missing');
      const unknown = await payments.refund(UNKNOWN_ORDER_ID);
      expectError(unknown, 404, 'NOT_FOUND');
      expect(unknown.body.error.details).toEqual({ entityType: 'market-order', id: UNKNOWN_ORDER_ID });
    });

    it('reason: 1..1000 characters', async () => {
      const { order } = await held();
      expectBodyIssue(await refusedWithoutEvents(t, () => payments.refund(order.id, { reason: '' })), '/reason');
      expectBodyIssue(await refusedWithoutEvents(t, () => payments.refund(order.id, { reason: 'r'.repeat(1001) })), '/reason');
      expectBodyIssue(await refusedWithoutEvents(t, () => payments.refund(order.id, { amount: '1' })), '');
      const response = await payments.refund(order.id, { reason: 'r'.repeat(1000) });
      expect(response.status).toBe(200);
      expect(response.body.item.refundReason).toHaveLength(1000);
    });
  });

  describe('POST …/payment/release (§7.5.8) and the delivery preconditions', () => {
    it('a ready order with a held payment → 409 ORDER_NOT_DELIVERED { orderId, status }; the payment stays held', async () => {
      const { order } = await held();
      const response = await refusedWithoutEvents(t, () => payments.release(order.id));
      expectError(response, 409, 'ORDER_NOT_DELIVERED');
      expect(response.body.error.details).toEqual({ orderId: order.id, status: 'ready' });
      expect((await payments.get(order.id)).body.item.status).toBe('held');
    });

    it('the order status is checked first: created without payment, and cancelled → ORDER_NOT_DELIVERED', async () => {
      const created = await placeOrder(orders, agent, 'pay.wallet');
      const a = await refusedWithoutEvents(t, () => payments.release(created.id));
      expectError(a, 409, 'ORDER_NOT_DELIVERED');
      expect(a.body.error.details).toEqual({ orderId: created.id, status: 'created' });

      const { order } = await held();
      expect((await orders.cancel(order.id, agent.token, {})).status).toBe(200);
      const b = await refusedWithoutEvents(t, () => payments.release(order.id));
      expectError(b, 409, 'ORDER_NOT_DELIVERED');
      expect(b.body.error.details).toEqual({ orderId: order.id, status: 'cancelled' });
    });

    it('an unknown order → 404; a body → 400 (release takes none)', async () => {
      expectError(await payments.release(UNKNOWN_ORDER_ID), 404, 'NOT_FOUND');
      const { order } = await held();
      const response = await t.inject({
        method: 'POST',
        url: `/api/v1/market/orders/${order.id}/payment/release`,
        payload: { force: true },
      });
      expectError(response, 400, 'VALIDATION_ERROR');
    });

    it('confirm and dispute on a ready order → 409 ORDER_NOT_DELIVERED; the payment stays held', async () => {
      const { order } = await held();
      const confirm = await refusedWithoutEvents(t, () => orders.confirm(order.id, agent.token));
      expectError(confirm, 409, 'ORDER_NOT_DELIVERED');
      expect(confirm.body.error.details).toEqual({ orderId: order.id, status: 'ready' });
      const dispute = await refusedWithoutEvents(t, () => orders.dispute(order.id, agent.token, { reason: 'nothing delivered' }));
      expectError(dispute, 409, 'ORDER_NOT_DELIVERED');
      expect(dispute.body.error.details).toEqual({ orderId: order.id, status: 'ready' });
      expect((await payments.get(order.id)).body.item.status).toBe('held');
    });

    it('confirm on a payment_pending order → 409 ORDER_NOT_DELIVERED', async () => {
      const { order } = await pending('pay.wallet');
      const response = await refusedWithoutEvents(t, () => orders.confirm(order.id, agent.token));
      expectError(response, 409, 'ORDER_NOT_DELIVERED');
      expect(response.body.error.details).toEqual({ orderId: order.id, status: 'payment_pending' });
    });
  });
});

describe('a refund frees the daily spend (§5.7, §7.5.9)', () => {
  const clock = new ControllableClock(T0);
  let orders: OrderApi;
  let payments: PaymentApi;
  let fx: UnverifiedFixtures;
  usePaymentApp({ clock, catalog, env }, (app) => ({ orders, payments, fx } = app));

  it('an order blocked by dailySpendLimit is allowed once the held payment of an earlier order is refunded', async () => {
    const agent = await fx.agent({ dailySpendLimit: 3, currency: 'USDT' });
    const first = await placeOrder(orders, agent, 'pay.wallet');
    await payments.intended(first.id, agent.token);
    const proof = await payments.proof(first.id, agent.token, {
      txHash: randomTxHash(),
      amount: '2.5',
      fromAddress: PAYER,
      toAddress: PAYEE,
    });
    expect(proof.status).toBe(200);

    // A held payment still counts: 2.5 + 1 > 3.
    const blocked = await orders.create({ machineId: agent.machineId, serviceId: 'pay.cheap', input: { symbol: 'ETH/USD' } }, agent.token);
    expectError(blocked, 403, 'AGENT_DAILY_LIMIT_EXCEEDED');
    expect(blocked.body.error.details).toEqual({ amount: '1', spentToday: '2.5', limit: '3', currency: 'USDT', day: T0.slice(0, 10) });

    expect((await payments.refund(first.id, { reason: 'returned' })).status).toBe(200);
    // The refunded order is still ready, but it no longer counts.
    expect((await payments.order(first.id)).status).toBe('ready');

    const allowed = await orders.create({ machineId: agent.machineId, serviceId: 'pay.cheap', input: { symbol: 'ETH/USD' } }, agent.token);
    expect(allowed.status).toBe(201);
    // 1 is spent now: another 2.5 would exceed the limit again.
    const again = await orders.create({ machineId: agent.machineId, serviceId: 'pay.wallet', input: { symbol: 'ETH/USD' } }, agent.token);
    expectError(again, 403, 'AGENT_DAILY_LIMIT_EXCEEDED');
    expect(again.body.error.details).toEqual(expect.objectContaining({ spentToday: '1', amount: '2.5' }));
  });

  it('an intent_created payment refunded after cancellation: the cancellation already freed the spend', async () => {
    const agent = await fx.agent({ dailySpendLimit: 2.5, currency: 'USDT' });
    const first = await placeOrder(orders, agent, 'pay.wallet');
    await payments.intended(first.id, agent.token);
    expectError(
      await orders.create({ machineId: agent.machineId, serviceId: 'pay.cheap', input: { symbol: 'ETH/USD' } }, agent.token),
      403,
      'AGENT_DAILY_LIMIT_EXCEEDED',
    );
    expect((await orders.cancel(first.id, agent.token, {})).status).toBe(200);
    expect((await payments.refund(first.id)).status).toBe(200);
    expect(
      (await orders.create({ machineId: agent.machineId, serviceId: 'pay.wallet', input: { symbol: 'ETH/USD' } }, agent.token)).status,
    ).toBe(201);
  });
});
