import { createHash } from 'node:crypto';
import type { Hash } from 'viem';
import type { HDAccount } from 'viem/accounts';
import { deployErc20, startAnvil, TEST_TOKEN_ABI, type Anvil, type TestErc20 } from '../support/anvil';
import { fileService, fixedPrice } from '../support/catalog-fixture';
import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import { ORDER_ID, OrderAgent, OrderApi, UnverifiedFixtures } from '../support/order-api';
import { acmeCatalogFile, FREE_PAYMENT } from '../support/order-catalog';
import { TOKEN_HEADER } from '../support/pairing-api';
import {
  expectPaymentShape,
  Json,
  onChainPayment,
  orderUrl,
  PAYMENT_ID,
  PaymentApi,
  usePaymentApp,
  X402Provider,
} from '../support/payment-api';
import { QUOTE_ID, SEARCH_ID, SearchApi } from '../support/search-api';
import { TestApp, withApiKey } from '../support/test-app';

/**
 * Whole paid orders over HTTP against a real EVM node (issue #7): anvil on 127.0.0.1 with a real
 * 6-decimal ERC-20, a transfer signed by a viem wallet, `payment-proof` verified in `rpc` mode (§7.6),
 * `execute` of a native service whose provider endpoint is a real HTTP server on 127.0.0.1 (§7.5.10,
 * §8.5), then confirm and the operator's release (§7.5.8, §7.5.11), or dispute and the operator's
 * refund (§7.5.9, §7.5.12); the not-required rail (§7.4); and concurrent confirm/dispute on one
 * delivered order (§0.15). API-key auth is on (§1.1): every request carries the deployment key, and
 * release and refund carry nothing else.
 */

const T0 = '2026-05-04T10:00:00.000Z';
const API_KEY = 'paid-walk-operator-key-0123456789';
/** §1.1: the audit actor of a request authenticated by API_KEY alone. */
const OPERATOR = { type: 'api-key', id: `sha256:${createHash('sha256').update(API_KEY, 'utf8').digest('hex').slice(0, 16)}` };
/** 2.5 USDT in raw units (6 decimals): the price of walk.paid. */
const PRICE_RAW = 2_500_000n;
const INPUT = { symbol: 'ETH/USD' };

const TASK_ID = /^task_[0-9A-HJKMNP-TV-Z]{26}$/;
const ROUTE_ID = /^route_[0-9A-HJKMNP-TV-Z]{26}$/;
const RUN_ID = /^run_[0-9A-HJKMNP-TV-Z]{26}$/;
const OUTCOME_ID = /^out_[0-9A-HJKMNP-TV-Z]{26}$/;

let anvil: Anvil;
let usdt: TestErc20;
let payer: HDAccount;
let payee: HDAccount;
const provider = new X402Provider();

beforeAll(async () => {
  anvil = await startAnvil();
  [, payer, payee] = anvil.accounts;
  usdt = await deployErc20(anvil, { decimals: 6, symbol: 'USDT' });
  await usdt.mint(payer.address, 1_000_000_000n);
  await provider.start();
  for (const path of ['/paid', '/free']) {
    provider.replies.set(path, (request) => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ price: 3120.5, echo: JSON.parse(request.body) }),
    }));
  }
}, 60_000);
afterAll(async () => {
  await provider.stop();
  await anvil?.stop();
});

const endpoint = (path: string) => [{ url: `${provider.url}${path}`, method: 'POST', protocols: ['https'], networks: [] }];

/**
 * Two native `acme` price feeds whose provider endpoint is the 127.0.0.1 server: `walk.paid` (2.5 USDT,
 * required wallet rail on the anvil chain, the deployed token, paid to `payee`) and `walk.free`
 * (not-required rail).
 */
const catalog = (): Json =>
  acmeCatalogFile([
    fileService('walk.paid', {
      pricing: fixedPrice(2.5, 'USDT'),
      payment: onChainPayment(['wallet'], { payTo: payee.address, chainId: anvil.chainId, token: usdt.address }),
      endpoints: endpoint('/paid'),
    }),
    fileService('walk.free', { pricing: fixedPrice(0.1, 'USDT'), payment: FREE_PAYMENT, endpoints: endpoint('/free') }),
  ]);

const env = (): Record<string, string> => ({
  PEAQOS_REQUIRE_API_AUTH: 'true',
  PEAQOS_API_KEY: API_KEY,
  PEAQOS_CHAIN_ID: String(anvil.chainId),
  PEAQOS_USDT_CONTRACT: usdt.address,
  PEAQOS_USDT_DECIMALS: '6',
  PEAQOS_PAYMENT_RPC_URL: anvil.rpcUrl,
  PEAQOS_PAYMENT_MIN_CONFIRMATIONS: '1',
  PEAQOS_REQUIRE_PAYMENT_BEFORE_EXECUTE: 'true',
  PEAQOS_EXECUTE_TIMEOUT_MS: '5000',
});

/** A real ERC-20 `transfer(payee, raw)` signed by the payer's viem wallet, mined; its hash and block. */
async function transferOnChain(raw: bigint = PRICE_RAW): Promise<{ hash: Hash; block: bigint }> {
  const hash = await anvil.walletClient(payer).writeContract({
    address: usdt.address,
    abi: TEST_TOKEN_ABI,
    functionName: 'transfer',
    args: [payee.address, raw],
  });
  const receipt = await anvil.receipt(hash);
  expect(receipt.status).toBe('success');
  return { hash, block: receipt.blockNumber };
}

/** The payment-proof body of a transfer of 2.5 from the payer to the payee, verified by the node. */
const rpcProof = (hash: Hash) => ({
  verificationMode: 'rpc',
  txHash: hash,
  amount: '2.5',
  fromAddress: payer.address,
  toAddress: payee.address,
});

describe('a paid order on anvil with a real ERC-20 (issue #7)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let orders: OrderApi;
  let payments: PaymentApi;
  let search: SearchApi;
  let agent: OrderAgent;
  usePaymentApp({ clock, catalog, env }, (app) => {
    t = withApiKey(app.t, API_KEY);
    orders = new OrderApi(t);
    payments = new PaymentApi(t);
    search = new SearchApi(t);
  });
  beforeAll(async () => {
    agent = await new UnverifiedFixtures(t).agent();
  });

  const now = () => clock.now().toISOString();
  const tick = () => clock.advance(1000);

  const execute = (orderId: string) => orders.execute(orderId, agent.token);
  const dispute = (orderId: string) => orders.dispute(orderId, agent.token, { reason: 'the price is stale', evidence: { seenAt: now() } });
  const orderStatus = async (orderId: string) => (await payments.order(orderId)).status;
  const paymentStatus = async (orderId: string) => (await payments.get(orderId)).body.item.status;
  const streamOf = async (streamId: string) => (await t.storedEvents()).filter((e) => e.streamId === streamId);
  const typesOf = async (orderId: string) => (await payments.orderEvents(orderId)).map((e) => e.type);

  /** Search over the price feeds as the agent; the quote of `serviceId`. */
  async function quoteFor(serviceId: string): Promise<{ result: Json; quote: Json }> {
    const response = await search.search(
      { machineId: agent.machineId, skillKey: 'oracle.price-feed', operation: 'get-price', maxResults: 10 },
      agent.token,
    );
    expect(response.status).toBe(201);
    const result = response.body.item;
    const quote = result.quotes.find((q: Json) => q.serviceId === serviceId);
    if (!quote) throw new Error(`no quote for ${serviceId}: ${JSON.stringify(result)}`);
    return { result, quote };
  }

  /**
   * search → order from the quote → payment-intent → on-chain transfer → rpc proof → execute: a
   * delivered `walk.paid` order with a held payment, each step checked for its status and state.
   */
  async function deliveredWithHeldPayment(): Promise<Json> {
    const { result, quote } = await quoteFor('walk.paid');
    const created = await orders.create(
      { machineId: agent.machineId, searchId: result.searchId, quoteId: quote.id, input: INPUT },
      agent.token,
    );
    expect(created.status).toBe(201);
    const orderId = created.body.item.id;
    expect(created.body.item.status).toBe('created');

    const intent = await payments.intent(orderId, agent.token);
    expect(intent.status).toBe(201);
    expect(intent.body.item.status).toBe('intent_created');
    expect(await orderStatus(orderId)).toBe('payment_pending');

    const { hash } = await transferOnChain();
    const proof = await payments.proof(orderId, agent.token, rpcProof(hash));
    expect(proof.status).toBe(200);
    expect(proof.body.item).toEqual(expect.objectContaining({ status: 'held', type: 'wdk-usdt-transfer' }));
    expect(proof.body.item.proof.verificationMode).toBe('rpc');
    expect(await orderStatus(orderId)).toBe('ready');

    const executed = await execute(orderId);
    expect(executed.status).toBe(200);
    expect(executed.body.item.order.status).toBe('delivered');
    expect(executed.body.item.outcome.status).toBe('delivered');
    expect(await paymentStatus(orderId)).toBe('held');
    return executed.body.item.order;
  }

  it('search → order from the quote → intent → ERC-20 transfer → rpc proof → execute → confirm → operator release: every step in state, and the order and task streams record exactly that', async () => {
    // Search: the paid feed is quoted with its price and payment recommendation (§6.4.2).
    const { result, quote } = await quoteFor('walk.paid');
    expect(result.searchId).toMatch(SEARCH_ID);
    expect(quote).toEqual(
      expect.objectContaining({
        id: expect.stringMatching(QUOTE_ID),
        searchId: result.searchId,
        machineId: agent.machineId,
        serviceId: 'walk.paid',
        operation: 'get-price',
        executionMode: 'native',
        pricing: expect.objectContaining({ mode: 'fixed', amount: 2.5, currency: 'USDT' }),
        payment: expect.objectContaining({ defaultRail: 'wallet', required: true, amount: '2.5', currency: 'USDT' }),
      }),
    );

    // Order from the quote (§7.5.2): created, the effective amount from the quote, nothing paid yet.
    tick();
    const created = await orders.create(
      { machineId: agent.machineId, searchId: result.searchId, quoteId: quote.id, input: INPUT },
      agent.token,
    );
    expect(created.status).toBe(201);
    const order = created.body.item;
    expect(order).toEqual(
      expect.objectContaining({
        id: expect.stringMatching(ORDER_ID),
        status: 'created',
        searchId: result.searchId,
        quoteId: quote.id,
        serviceId: 'walk.paid',
        operation: 'get-price',
        input: INPUT,
        paymentId: null,
        taskId: null,
        createdAt: now(),
      }),
    );
    expect(order.payment).toEqual(expect.objectContaining({ defaultRail: 'wallet', required: true, amount: '2.5', currency: 'USDT' }));

    // Payment intent (§7.5.4): wallet rail on the anvil chain with the token of the service; order payment_pending.
    tick();
    const intent = await payments.intent(order.id, agent.token, { payerAddress: payer.address });
    expect(intent.status).toBe(201);
    const intended = intent.body.item;
    expectPaymentShape(intended);
    expect(intended).toEqual({
      id: expect.stringMatching(PAYMENT_ID),
      orderId: order.id,
      machineId: agent.machineId,
      type: 'wallet',
      status: 'intent_created',
      required: true,
      amount: '2.5',
      currency: 'USDT',
      network: 'evm',
      chainId: anvil.chainId,
      tokenAddress: usdt.address,
      tokenDecimals: 6,
      payerAddress: payer.address,
      payTo: payee.address,
      challenge: null,
      proof: null,
      escrow: null,
      refundReason: null,
      heldAt: null,
      releasePendingAt: null,
      releasedAt: null,
      frozenAt: null,
      refundedAt: null,
      createdAt: now(),
      updatedAt: now(),
    });
    expect(await payments.order(order.id)).toEqual(
      expect.objectContaining({ status: 'payment_pending', paymentId: intended.id, updatedAt: now() }),
    );

    // A real ERC-20 transfer from the payer's viem wallet, buried under two more blocks.
    const payeeBefore = await usdt.balanceOf(payee.address);
    const { hash, block } = await transferOnChain();
    await anvil.mine(2);
    const head = await anvil.blockNumber();
    expect(await usdt.balanceOf(payee.address)).toBe(payeeBefore + PRICE_RAW);

    // Payment proof in rpc mode (§7.5.5, §7.6): held, verified facts recorded, wallet → wdk-usdt-transfer; order ready.
    tick();
    const proved = await payments.proof(order.id, agent.token, rpcProof(hash));
    expect(proved.status).toBe(200);
    const held = proved.body.item;
    expectPaymentShape(held);
    expect(held).toEqual({
      ...intended,
      type: 'wdk-usdt-transfer',
      status: 'held',
      heldAt: now(),
      updatedAt: now(),
      proof: {
        verificationMode: 'rpc',
        network: 'evm',
        txHash: hash.toLowerCase(),
        chainId: anvil.chainId,
        tokenAddress: usdt.address,
        tokenDecimals: 6,
        amount: '2.5',
        fromAddress: payer.address,
        toAddress: payee.address,
        blockNumber: Number(block),
        confirmations: Number(head - block + 1n),
        paymentHeadersFingerprint: null,
        settlement: null,
        recordedAt: now(),
      },
    });
    expect(held.proof.confirmations).toBe(3);
    const ready = await payments.order(order.id);
    expect(ready).toEqual(expect.objectContaining({ status: 'ready', updatedAt: now() }));

    // Execute (§7.5.10): the provider on 127.0.0.1 gets the input; task, route, run and outcome are returned.
    tick();
    const requestsBefore = provider.requestsTo('/paid').length;
    const executed = await execute(order.id);
    expect(executed.status).toBe(200);
    const { order: delivered, task, route, run, outcome } = executed.body.item;
    expect(Object.keys(executed.body.item).sort()).toEqual(['order', 'outcome', 'route', 'run', 'task']);
    expect(task).toEqual({
      id: expect.stringMatching(TASK_ID),
      machineId: agent.machineId,
      orderId: order.id,
      skillKey: 'oracle.price-feed',
      operation: 'get-price',
      status: 'succeeded',
      input: INPUT,
      createdAt: now(),
      updatedAt: now(),
    });
    expect(route).toEqual({
      id: expect.stringMatching(ROUTE_ID),
      taskId: task.id,
      providerKey: 'acme',
      target: 'provider',
      runtimeEndpointId: null,
      url: `${provider.url}/paid`,
      reason: `provider endpoint ${provider.url}/paid`,
      createdAt: now(),
    });
    expect(run).toEqual({
      id: expect.stringMatching(RUN_ID),
      taskId: task.id,
      routeId: route.id,
      attempt: 1,
      status: 'succeeded',
      startedAt: now(),
      finishedAt: now(),
      durationMs: 0,
      error: null,
    });
    expect(outcome).toEqual({
      id: expect.stringMatching(OUTCOME_ID),
      taskId: task.id,
      runId: run.id,
      status: 'delivered',
      output: { price: 3120.5, echo: INPUT },
      handoff: null,
      createdAt: now(),
    });
    expect(delivered).toEqual({
      ...ready,
      status: 'delivered',
      taskId: task.id,
      routeId: route.id,
      runId: run.id,
      outcomeId: outcome.id,
      errorMessage: null,
      deliveredAt: now(),
      updatedAt: now(),
    });
    const calls = provider.requestsTo('/paid').slice(requestsBefore);
    expect(calls).toHaveLength(1);
    expect(calls[0].method).toBe('POST');
    expect(JSON.parse(calls[0].body)).toEqual(INPUT);
    expect(calls[0].headers['content-type']).toMatch(/^application\/json/);
    // §8.5.4 lists every header sent to a provider: neither the deployment key nor the pairing token is one.
    expect(calls[0].headers).not.toHaveProperty('x-api-key');
    expect(calls[0].headers).not.toHaveProperty(TOKEN_HEADER);
    expect(await payments.order(order.id)).toEqual(delivered);
    expect((await payments.get(order.id)).body.item).toEqual(held);

    // Confirm (§7.5.11): order confirmed, payment held → release_pending.
    tick();
    const confirmed = await orders.confirm(order.id, agent.token);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.item).toEqual({ ...delivered, status: 'confirmed', confirmedAt: now(), updatedAt: now() });
    const releasePending = (await payments.get(order.id)).body.item;
    expect(releasePending).toEqual({ ...held, status: 'release_pending', releasePendingAt: now(), updatedAt: now() });

    // Release (§7.5.8): an operator action, the API key alone; without it the request never gets in (§1.1).
    tick();
    expectError(
      await t.inject({ method: 'POST', url: `${orderUrl(order.id)}/payment/release`, headers: { 'x-api-key': '' } }),
      401,
      'AUTH_REQUIRED',
    );
    const released = await payments.release(order.id);
    expect(released.status).toBe(200);
    expect(released.body.item).toEqual({ ...releasePending, status: 'released', releasedAt: now(), updatedAt: now() });
    expect(await payments.order(order.id)).toEqual(confirmed.body.item);
    expect((await payments.get(order.id)).body.item).toEqual(released.body.item);

    // The order stream (§8.7.2), exactly and in order; the agent acted up to confirm, the operator released.
    const events = await payments.orderEvents(order.id);
    expect(events.map((e) => e.type)).toEqual([
      'market_order.created',
      'market_payment.intent_created',
      'market_order.payment_pending',
      'market_payment.proof_recorded',
      'market_order.ready',
      'market_order.execution_started',
      'market_order.delivered',
      'market_order.confirmed',
      'market_payment.release_pending',
      'market_payment.released',
    ]);
    expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
    expect(events.slice(0, -1).map((e) => e.metadata.actor)).toEqual(
      events.slice(0, -1).map(() => ({ type: 'agent-pairing', id: agent.pairingId })),
    );
    expect(events[events.length - 1].metadata.actor).toEqual(OPERATOR);

    // The task stream: created, routing, route, run, running, run finished, outcome, succeeded.
    const taskEvents = await streamOf(`task-${task.id}`);
    expect(taskEvents.map((e) => e.type)).toEqual([
      'task.created',
      'task.status_changed',
      'route.selected',
      'run.started',
      'task.status_changed',
      'run.finished',
      'outcome.recorded',
      'task.status_changed',
    ]);
    expect(taskEvents.filter((e) => e.type === 'task.status_changed').map((e) => [e.data.from, e.data.to])).toEqual([
      ['pending', 'routing'],
      ['routing', 'running'],
      ['running', 'succeeded'],
    ]);
    expect(taskEvents.find((e) => e.type === 'route.selected')!.data).toEqual(route);
    expect(taskEvents.find((e) => e.type === 'outcome.recorded')!.data).toEqual(outcome);
  });

  it('dispute path: … → execute → dispute freezes the held payment → operator refund → refunded; the order stays disputed', async () => {
    const delivered = await deliveredWithHeldPayment();
    const held = (await payments.get(delivered.id)).body.item;

    // Dispute (§7.5.12): order disputed with the dispute recorded; payment held → frozen.
    tick();
    const disputed = await orders.dispute(delivered.id, agent.token, { reason: 'the price is stale', evidence: { seenAt: T0 } });
    expect(disputed.status).toBe(200);
    expect(disputed.body.item).toEqual({
      ...delivered,
      status: 'disputed',
      disputedAt: now(),
      dispute: { reason: 'the price is stale', evidence: { seenAt: T0 }, openedAt: now() },
      updatedAt: now(),
    });
    const frozen = (await payments.get(delivered.id)).body.item;
    expect(frozen).toEqual({ ...held, status: 'frozen', frozenAt: now(), updatedAt: now() });
    // A disputed order is closed: it cannot be confirmed any more, and a frozen payment is not released.
    expectError(await orders.confirm(delivered.id, agent.token), 409, 'ORDER_CLOSED');
    expectError(await payments.release(delivered.id), 409, 'ORDER_NOT_DELIVERED');

    // Refund (§7.5.9): the operator, API key only; payment frozen → refunded; order unchanged.
    tick();
    const refunded = await payments.refund(delivered.id, { reason: 'dispute upheld' });
    expect(refunded.status).toBe(200);
    expect(refunded.body.item).toEqual({
      ...frozen,
      status: 'refunded',
      refundReason: 'dispute upheld',
      refundedAt: now(),
      updatedAt: now(),
    });
    expect(await payments.order(delivered.id)).toEqual(disputed.body.item);

    const events = await payments.orderEvents(delivered.id);
    expect(events.map((e) => e.type)).toEqual([
      'market_order.created',
      'market_payment.intent_created',
      'market_order.payment_pending',
      'market_payment.proof_recorded',
      'market_order.ready',
      'market_order.execution_started',
      'market_order.delivered',
      'market_order.disputed',
      'market_payment.frozen',
      'market_payment.refunded',
    ]);
    expect(events[events.length - 1].metadata.actor).toEqual(OPERATOR);
  });

  it('not-required rail: intent {rail: not-required} makes the order ready with a not_required payment; execute → confirm leaves it not_required and there is nothing to release', async () => {
    const { result, quote } = await quoteFor('walk.free');
    expect(quote.payment).toEqual(expect.objectContaining({ defaultRail: 'not-required', required: false }));
    tick();
    const created = await orders.create(
      { machineId: agent.machineId, searchId: result.searchId, quoteId: quote.id, input: INPUT },
      agent.token,
    );
    expect(created.status).toBe(201);
    const order = created.body.item;
    expect(order).toEqual(expect.objectContaining({ status: 'created', serviceId: 'walk.free', paymentId: null }));

    // Intent (§7.5.4 step 8): every network parameter null; the order goes straight to ready.
    tick();
    const intent = await payments.intent(order.id, agent.token, { rail: 'not-required' });
    expect(intent.status).toBe(201);
    const notRequired = intent.body.item;
    expectPaymentShape(notRequired);
    expect(notRequired).toEqual(
      expect.objectContaining({
        type: 'not-required',
        status: 'not_required',
        required: false,
        network: null,
        chainId: null,
        tokenAddress: null,
        tokenDecimals: null,
        payerAddress: null,
        payTo: null,
        proof: null,
        heldAt: null,
        createdAt: now(),
      }),
    );
    expect(await payments.order(order.id)).toEqual(expect.objectContaining({ status: 'ready', paymentId: notRequired.id }));

    // Execute: delivered through the provider; the payment is untouched.
    tick();
    const requestsBefore = provider.requestsTo('/free').length;
    const executed = await execute(order.id);
    expect(executed.status).toBe(200);
    expect(executed.body.item.order).toEqual(expect.objectContaining({ status: 'delivered', deliveredAt: now() }));
    expect(executed.body.item.task).toEqual(expect.objectContaining({ orderId: order.id, status: 'succeeded', input: INPUT }));
    expect(executed.body.item.route).toEqual(expect.objectContaining({ target: 'provider', url: `${provider.url}/free` }));
    expect(executed.body.item.run).toEqual(expect.objectContaining({ attempt: 1, status: 'succeeded' }));
    expect(executed.body.item.outcome).toEqual(expect.objectContaining({ status: 'delivered', output: { price: 3120.5, echo: INPUT } }));
    expect(
      provider
        .requestsTo('/free')
        .slice(requestsBefore)
        .map((r) => JSON.parse(r.body)),
    ).toEqual([INPUT]);
    expect((await payments.get(order.id)).body.item).toEqual(notRequired);

    // Confirm: the order is confirmed; a not_required payment stays as it is (§7.5.11); release has nothing to do.
    tick();
    const confirmed = await orders.confirm(order.id, agent.token);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.item).toEqual(expect.objectContaining({ status: 'confirmed', confirmedAt: now() }));
    expect((await payments.get(order.id)).body.item).toEqual(notRequired);
    const release = await payments.release(order.id);
    expectError(release, 409, 'STATE_CONFLICT');
    expect(release.body.error.details).toEqual(expect.objectContaining({ reason: 'payment_not_release_pending' }));
    expect((await payments.get(order.id)).body.item).toEqual(notRequired);

    expect(await typesOf(order.id)).toEqual([
      'market_order.created',
      'market_payment.intent_created',
      'market_order.ready',
      'market_order.execution_started',
      'market_order.delivered',
      'market_order.confirmed',
    ]);
  });

  it('concurrent confirm and dispute on a delivered order with a held payment (5 orders): exactly one wins, the other is 409 ORDER_CLOSED or ORDER_NOT_DELIVERED, and the final state is the winner’s', async () => {
    for (let round = 0; round < 5; round++) {
      const delivered = await deliveredWithHeldPayment();
      const before = await typesOf(delivered.id);
      tick();

      // Both requests are in flight together. Sent in the same turn, confirm (no body to validate) tends to
      // win; in odd rounds dispute gets a one-timer-tick head start so that it can win too. The assertions
      // hold whichever wins.
      const sendConfirm = () => orders.confirm(delivered.id, agent.token);
      const [confirm, disputed] = await Promise.all([
        round % 2 === 0 ? sendConfirm() : new Promise<void>((resolve) => setTimeout(resolve, 1)).then(sendConfirm),
        dispute(delivered.id),
      ]);

      expect([confirm.status, disputed.status].sort()).toEqual([200, 409]);
      const confirmWon = confirm.status === 200;
      const [won, lost] = confirmWon ? [confirm, disputed] : [disputed, confirm];
      const status = confirmWon ? 'confirmed' : 'disputed';
      expect(lost.status).toBe(409);
      expect(['ORDER_CLOSED', 'ORDER_NOT_DELIVERED']).toContain(lost.body.error.code);
      expect(lost.body.error.details).toEqual({ orderId: delivered.id, status });
      expect(won.body.item.status).toBe(status);

      expect(await payments.order(delivered.id)).toEqual(won.body.item);
      expect(await paymentStatus(delivered.id)).toBe(confirmWon ? 'release_pending' : 'frozen');
      // Only the winner wrote: its order event and its payment move, nothing of the loser.
      expect(await typesOf(delivered.id)).toEqual([
        ...before,
        ...(confirmWon ? ['market_order.confirmed', 'market_payment.release_pending'] : ['market_order.disputed', 'market_payment.frozen']),
      ]);
    }
  }, 60_000);
});
