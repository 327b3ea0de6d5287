import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileService, fixedPrice } from '../support/catalog-fixture';
import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import { dataFilesText } from '../support/machine-api';
import { expectNotFound, expectPolicyDenied, OrderAgent, OrderApi, UNKNOWN_ORDER_ID, UnverifiedFixtures } from '../support/order-api';
import { acmeCatalogFile, FREE_PAYMENT, VAULT_ADAPTER, VAULT_SERVICE, X402_PAYMENT } from '../support/order-catalog';
import { expectAuthInvalid, expectInactive } from '../support/pairing-api';
import {
  CHAIN_ENV,
  headersFingerprint,
  jsonChallenge,
  Json,
  onChainPayment,
  PAYEE,
  PAYER,
  PaymentApi,
  placeOrder,
  randomTxHash,
  requirements,
  usePaymentAgent,
  usePaymentApp,
  X402Provider,
} from '../support/payment-api';
import { expectBodyIssue, refusedWithoutEvents } from '../support/search-api';
import { TestApp, TestResponse } from '../support/test-app';
import { until } from '../support/until';

/**
 * Every refusal and failure branch of `POST /market/orders/:orderId/execute` (§7.5.10) over HTTP, in the
 * order of its checks: access (step 1, §1.2, §1.3, §1.4), order status (2), input (3), policies (4),
 * payment (5, with the x402 rail of §7.4 and `PEAQOS_REQUIRE_PAYMENT_BEFORE_EXECUTE`), credentials (6),
 * route (7) and the result classes of step 9 (§8.5.3), plus the redaction of the secrets an execute
 * carries (§9). Every provider listens on 127.0.0.1.
 */

const T0 = '2026-05-04T10:00:00.000Z';
/** The lowest `PEAQOS_EXECUTE_TIMEOUT_MS` allowed (§2.2). */
const TIMEOUT_MS = 1000;
const SETTLEMENT_TX = '0x8f3c1d2b4a5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8';
const ONE_MIB = 1024 * 1024;

/** A provider whose answer to `/slow` comes `delayMs` after the request: an execute stays in flight meanwhile. */
class SlowProvider {
  readonly requests: IncomingMessage[] = [];
  url = '';
  private server: Server | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly delayMs: number) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.requests.push(req);
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ price: 42 }));
        }, this.delayMs);
        this.timers.add(timer);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const provider = new X402Provider();
const slow = new SlowProvider(300);

/** A `payment-response` header: base64 JSON with `transaction` and `network` (§8.5.4). */
const paymentResponse = Buffer.from(JSON.stringify({ success: true, transaction: SETTLEMENT_TX, network: 'base' })).toString('base64');
const initialChallenge = requirements('execute-initial');
const renewedChallenge = requirements('execute-renewed');

beforeAll(async () => {
  await provider.start();
  await slow.start();
  const json = (body: unknown, headers: Record<string, string> = {}) => ({
    status: 200,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  provider.replies.set('/ok', (r) => json({ price: 3120.5, echo: JSON.parse(r.body) }));
  provider.replies.set('/busy', () => ({ status: 503, body: 'try later' }));
  provider.replies.set('/broken', () => ({ status: 500, body: 'boom' }));
  provider.replies.set('/hang', () => 'hang');
  provider.replies.set('/huge', () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(ONE_MIB + 1) }));
  provider.replies.set('/vault', () => json({ price: 7 }));
  // x402 (§7.4): the challenge without a payment header, the resource (and its settlement) with one.
  provider.replies.set('/x402', (r) =>
    r.headers['x-payment'] === undefined ? jsonChallenge(initialChallenge) : json({ price: 1.5 }, { 'payment-response': paymentResponse }),
  );
  // A provider that rejects every payment with a new challenge.
  provider.replies.set('/x402-reject', (r) =>
    r.headers['x-payment'] === undefined ? jsonChallenge(initialChallenge) : jsonChallenge(renewedChallenge),
  );
});
afterAll(async () => {
  await provider.stop();
  await slow.stop();
});

const endpoint = (url: string, method = 'POST') => ({ url, method, protocols: [], networks: [] });
const at = (path: string, payment: Json = FREE_PAYMENT, extra: Json = {}) =>
  ({ pricing: fixedPrice(0.1, 'USDT'), payment, endpoints: [endpoint(`${provider.url}${path}`)], ...extra }) as Json;
const HANDOFF = { label: 'Acme console', url: 'https://console.acme.example/run', notes: ['Sign in first.'] };

/**
 * `acme` services (no credentials) and `vault` services (adapter `api-key` with a required secret
 * `apiKey`), all `oracle.price-feed` / `get-price` with a required string `symbol`.
 */
const catalog = (): Json =>
  acmeCatalogFile(
    [
      fileService('exec.ok', at('/ok')),
      fileService('exec.busy', at('/busy')),
      fileService('exec.broken', at('/broken')),
      fileService('exec.hang', at('/hang')),
      fileService('exec.huge', at('/huge')),
      fileService('exec.slow', { ...at('/ok'), endpoints: [endpoint(`${slow.url}/slow`)] }),
      fileService('exec.wallet', { ...at('/broken', onChainPayment(['wallet'])), pricing: fixedPrice(2.5, 'USDT') }),
      fileService('exec.x402', { ...at('/x402', X402_PAYMENT), pricing: fixedPrice(0.01, 'USDC') }),
      fileService('exec.x402-reject', { ...at('/x402-reject', X402_PAYMENT), pricing: fixedPrice(0.01, 'USDC') }),
      fileService('exec.handoff', {
        ...at('/ok'),
        endpoints: [],
        executionMode: 'external-handoff',
        integrationStatus: 'setup-required',
        handoff: HANDOFF,
      }),
      fileService('exec.handoff-nowhere', {
        ...at('/ok'),
        endpoints: [{ ...endpoint(''), url: null }],
        executionMode: 'external-handoff',
        integrationStatus: 'setup-required',
      }),
      fileService('vault.feed', { ...at('/vault'), ...VAULT_SERVICE }),
      fileService('vault.x402', { ...at('/x402', X402_PAYMENT), pricing: fixedPrice(0.01, 'USDC'), ...VAULT_SERVICE }),
    ],
    [VAULT_ADAPTER],
  );

/** A recorded transfer proof of the whole `exec.wallet` amount (§7.5.5). */
const transfer = () => ({ txHash: randomTxHash(), amount: '2.5', fromAddress: PAYER.toLowerCase(), toAddress: PAYEE.toLowerCase() });

/** The `task.status_changed` events of the task's stream, in order. */
async function taskTransitions(t: TestApp, taskId: string): Promise<Array<{ from: string; to: string }>> {
  return (await t.storedEvents())
    .filter((e) => e.streamId === `task-${taskId}` && e.type === 'task.status_changed')
    .map((e) => {
      const data = e.data as { from: string; to: string };
      return { from: data.from, to: data.to };
    });
}

describe('execute refusals and failures (§7.5.10)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let orders: OrderApi;
  let payments: PaymentApi;
  let fx: UnverifiedFixtures;
  let agent: OrderAgent;
  usePaymentAgent(
    { clock, catalog, env: () => ({ ...CHAIN_ENV, PEAQOS_EXECUTE_TIMEOUT_MS: String(TIMEOUT_MS) }) },
    (app) => ({ t, orders, payments, fx, agent } = app),
  );

  const now = () => clock.now().toISOString();
  /** `POST …/execute` with the token (none when `null`). */
  const execute = (orderId: string, body: Json = {}, token: string | null = agent.token) =>
    orders.execute(orderId, token ?? undefined, body);
  /** Refused, and no (non-internal) event appended. */
  const refused = (orderId: string, body: Json = {}, token: string | null = agent.token) =>
    refusedWithoutEvents(t, () => execute(orderId, body, token));
  const paymentOf = async (orderId: string) => (await payments.get(orderId)).body.item;
  /** An x402 order of `serviceId` with its payment intent (and the stored challenge). */
  const x402Order = (serviceId = 'exec.x402', who = agent) => payments.placeWithIntent(who, serviceId);
  const xPayment = () => ({ xPayment: `x-payment-${randomUUID()}` });

  describe('step 1: access', () => {
    it('no token → 401 AGENT_AUTH_REQUIRED', async () => {
      const order = await placeOrder(orders, agent, 'exec.ok');
      const calls = provider.requestsTo('/ok').length;
      const response = await refused(order.id, {}, null);
      expectError(response, 401, 'AGENT_AUTH_REQUIRED');
      expect(response.body.error.details).toBeUndefined();
      expect(provider.requestsTo('/ok')).toHaveLength(calls);
      expect((await payments.order(order.id)).status).toBe('created');
    });

    it("another pairing's token on the same machine → 401 AGENT_AUTH_INVALID pairing_mismatch; another machine's → machine_mismatch", async () => {
      const owner = await fx.agent();
      const order = await placeOrder(orders, owner, 'exec.ok');
      const sibling = await fx.pair(owner.machineId);
      expectAuthInvalid(await refused(order.id, {}, sibling.token), 'pairing_mismatch');
      expectAuthInvalid(await refused(order.id, {}, agent.token), 'machine_mismatch');
    });

    it("the order's paused pairing → 403 AGENT_PAIRING_INACTIVE { pairingId, status: 'paused' }; resumed, it executes", async () => {
      const owner = await fx.agent();
      const order = await placeOrder(orders, owner, 'exec.ok');
      await fx.setPairingStatus(owner, 'paused');
      expectInactive(await refused(order.id, {}, owner.token), owner.pairingId, 'paused');
      await fx.setPairingStatus(owner, 'active');
      expect((await execute(order.id, {}, owner.token)).status).toBe(200);
    });

    it("unknown order → 404 NOT_FOUND { entityType: 'market-order', id }", async () => {
      expectNotFound(await refused(UNKNOWN_ORDER_ID), 'market-order', UNKNOWN_ORDER_ID);
    });

    it("a blocked machine → 409 MACHINE_NOT_ACTIVE { machineId, status: 'blocked' } (active gate)", async () => {
      const owner = await fx.agent();
      const order = await placeOrder(orders, owner, 'exec.ok');
      await fx.patchMachine(owner.machineId, { status: 'blocked' });
      const response = await refused(order.id, {}, owner.token);
      await fx.patchMachine(owner.machineId, { status: 'active' });
      expectError(response, 409, 'MACHINE_NOT_ACTIVE');
      expect(response.body.error.details).toEqual({ machineId: owner.machineId, status: 'blocked' });
      expect((await payments.order(order.id)).status).toBe('created');
    });
  });

  describe('step 2: order status', () => {
    it('a cancelled order → 409 ORDER_CLOSED { orderId, status }', async () => {
      const order = await placeOrder(orders, agent, 'exec.ok');
      expect((await orders.cancel(order.id, agent.token)).status).toBe(200);
      const response = await refused(order.id);
      expectError(response, 409, 'ORDER_CLOSED');
      expect(response.body.error.details).toEqual({ orderId: order.id, status: 'cancelled' });
    });

    it('a failed order → 409 ORDER_CLOSED { orderId, status: "failed" }; the provider is not called again', async () => {
      const order = await placeOrder(orders, agent, 'exec.broken');
      expectError(await execute(order.id), 502, 'EXECUTION_FAILED');
      const calls = provider.requestsTo('/broken').length;
      const response = await refused(order.id);
      expectError(response, 409, 'ORDER_CLOSED');
      expect(response.body.error.details).toEqual({ orderId: order.id, status: 'failed' });
      expect(provider.requestsTo('/broken')).toHaveLength(calls);
    });

    it('a second execute while one is in flight → 409 STATE_CONFLICT execution_in_progress; the first then delivers', async () => {
      const order = await placeOrder(orders, agent, 'exec.slow');
      const before = slow.requests.length;
      const first = execute(order.id);
      await until(() => slow.requests.length > before, { what: 'the slow provider received the first execute' });
      const second = await execute(order.id);
      expectError(second, 409, 'STATE_CONFLICT');
      expect(second.body.error.details).toEqual({
        entityType: 'market-order',
        id: order.id,
        status: 'executing',
        reason: 'execution_in_progress',
      });
      const done = await first;
      expect(done.status).toBe(200);
      expect(done.body.item.order.status).toBe('delivered');
      expect(done.body.item.run.attempt).toBe(1);
      expect(slow.requests.length).toBe(before + 1);
    });

    it('delivered → 200 with the recorded result again; the provider is called once and nothing is written', async () => {
      const order = await placeOrder(orders, agent, 'exec.ok');
      const calls = provider.requestsTo('/ok').length;
      const first = await execute(order.id);
      expect(first.status).toBe(200);
      const events = (await t.storedEvents({ includeInternal: true })).length;
      const again = await execute(order.id, { input: { symbol: 'BTC/USD' } });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(provider.requestsTo('/ok')).toHaveLength(calls + 1);
      expect((await t.storedEvents({ includeInternal: true })).length).toBe(events);
    });

    it('handoff → 202 with the recorded result again', async () => {
      const order = await placeOrder(orders, agent, 'exec.handoff');
      const first = await execute(order.id);
      expect(first.status).toBe(202);
      expect(first.body.item.order).toMatchObject({ status: 'handoff', handoff: HANDOFF });
      const again = await execute(order.id);
      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);
    });
  });

  describe('step 3: input', () => {
    it("an input without the contract's required symbol → 400 VALIDATION_ERROR input_invalid at /input/symbol; nothing written", async () => {
      const order = await placeOrder(orders, agent, 'exec.ok');
      const calls = provider.requestsTo('/ok').length;
      const missing = await refused(order.id, { input: { asset: 'ETH' } });
      expectError(missing, 400, 'VALIDATION_ERROR');
      expect(missing.body.error.details).toEqual({
        reason: 'input_invalid',
        errors: [{ location: 'body', path: '/input/symbol', message: expect.any(String) }],
      });
      const mistyped = await refused(order.id, { input: { symbol: 42 } });
      expect(mistyped.body.error.details).toEqual({
        reason: 'input_invalid',
        errors: [{ location: 'body', path: '/input/symbol', message: expect.any(String) }],
      });
      expect(provider.requestsTo('/ok')).toHaveLength(calls);
      expect((await payments.order(order.id)).status).toBe('created');
    });

    it("the body's input replaces the order's: the provider receives it, task.input and order.input show it", async () => {
      const order = await placeOrder(orders, agent, 'exec.ok');
      const input = { symbol: 'BTC/USD', depth: 3 };
      const response = await execute(order.id, { input });
      expect(response.status).toBe(200);
      expect(JSON.parse(provider.requestsTo('/ok').at(-1)!.body)).toEqual(input);
      expect(response.body.item.task.input).toEqual(input);
      expect(response.body.item.order.input).toEqual(input);
      expect(response.body.item.outcome.output).toEqual({ price: 3120.5, echo: input });
      expect((await payments.order(order.id)).input).toEqual(input);
    });

    it('a malformed body (input not an object, providerCredentials with a number) → 400 VALIDATION_ERROR; nothing written', async () => {
      const order = await placeOrder(orders, agent, 'exec.ok');
      expectBodyIssue(await refused(order.id, { input: 'ETH/USD' }), '/input');
      expectBodyIssue(await refused(order.id, { providerCredentials: { acme: { apiKey: 42 } } }), '/providerCredentials');
      expectBodyIssue(await refused(order.id, { providerCredentials: { acme: 'key' } }), '/providerCredentials');
      expectBodyIssue(await refused(order.id, { paymentHeaders: { xPayment: '' } }), '/paymentHeaders');
      expect((await payments.order(order.id)).status).toBe('created');
    });
  });

  describe('step 4: policies re-evaluated', () => {
    it("the pairing's delegation policy now denies the service → 403 AGENT_POLICY_DENIED (delegationPolicy, service_denied)", async () => {
      const owner = await fx.agent();
      const order = await placeOrder(orders, owner, 'exec.ok');
      const patched = await t.inject({
        method: 'PATCH',
        url: `/api/v1/machines/${owner.machineId}/agent-pairings/${owner.pairingId}`,
        payload: { delegationPolicy: { deniedServiceIds: ['exec.ok'] } },
      });
      expect(patched.status).toBe(200);
      // The policy changed: the old token is stale (§1.2 step 8); the agent rotates its session.
      expectAuthInvalid(await refused(order.id, {}, owner.token), 'policy_changed');
      const rotated = await t.inject({
        method: 'POST',
        url: `/api/v1/machines/${owner.machineId}/agent-pairings/${owner.pairingId}/sessions`,
        payload: {},
      });
      expect(rotated.status).toBe(201);
      const calls = provider.requestsTo('/ok').length;
      expectPolicyDenied(await refused(order.id, {}, rotated.body.item.pairingToken), {
        source: 'delegationPolicy',
        reason: 'service_denied',
        pairingId: owner.pairingId,
        skillKey: 'oracle.price-feed',
        serviceId: 'exec.ok',
      });
      expect(provider.requestsTo('/ok')).toHaveLength(calls);
      expect((await payments.order(order.id)).status).toBe('created');
    });

    it('a machine policy attached after creation denies the provider → 403 AGENT_POLICY_DENIED (machinePolicy, policyId)', async () => {
      const owner = await fx.agent();
      const order = await placeOrder(orders, owner, 'exec.ok');
      const policyId = await fx.policy({ deniedProviderKeys: ['acme'] });
      await fx.patchMachine(owner.machineId, { policyIds: [policyId] });
      expectPolicyDenied(await refused(order.id, {}, owner.token), { source: 'machinePolicy', policyId, reason: 'provider_denied' });
      await fx.patchMachine(owner.machineId, { policyIds: [] });
      expect((await execute(order.id, {}, owner.token)).status).toBe(200);
    });
  });

  describe('step 5: x402 payment', () => {
    it('no payment record on a required x402 order → 402 PAYMENT_REQUIRED payment_intent_missing, paymentStatus null', async () => {
      const order = await placeOrder(orders, agent, 'exec.x402');
      const response = await refused(order.id, { paymentHeaders: xPayment() });
      expectError(response, 402, 'PAYMENT_REQUIRED');
      expect(response.body.error.details).toEqual({ reason: 'payment_intent_missing', paymentStatus: null });
    });

    it('an intent but no xPayment / paymentSignature → 402 payment_header_required with the stored challenge', async () => {
      const { order, payment } = await x402Order();
      expect(payment.challenge).toMatchObject({ protocol: 'x402', httpStatus: 402, paymentRequired: initialChallenge });
      const calls = provider.requestsTo('/x402').length;
      for (const body of [{}, { paymentHeaders: { authorization: 'Bearer t', signInWithX: 'siwx' } }]) {
        const response = await refused(order.id, body);
        expectError(response, 402, 'PAYMENT_REQUIRED');
        expect(response.body.error.details).toEqual({
          reason: 'payment_header_required',
          paymentStatus: 'intent_created',
          challenge: payment.challenge,
        });
      }
      expect(provider.requestsTo('/x402')).toHaveLength(calls);
    });

    it('a proof recorded with header fingerprint, other headers on execute → 400 payment_header_mismatch; the same headers execute', async () => {
      const { order } = await x402Order();
      const headers = xPayment();
      expect((await payments.proof(order.id, agent.token, { paymentHeaders: headers })).status).toBe(200);
      const calls = provider.requestsTo('/x402').length;
      for (const other of [xPayment(), { ...headers, authorization: 'Bearer extra' }]) {
        const response = await refused(order.id, { paymentHeaders: other });
        expectError(response, 400, 'VALIDATION_ERROR');
        expect(response.body.error.details).toEqual({
          reason: 'payment_header_mismatch',
          errors: [{ location: 'body', path: '/paymentHeaders', message: expect.any(String) }],
        });
      }
      expect(provider.requestsTo('/x402')).toHaveLength(calls);
      const response = await execute(order.id, { paymentHeaders: headers });
      expect(response.status).toBe(200);
      expect(response.body.item.order.status).toBe('confirmed');
      expect(await paymentOf(order.id)).toMatchObject({
        status: 'released',
        proof: { paymentHeadersFingerprint: headersFingerprint(headers) },
      });
    });

    it('the header that paid order A, on order B (intent, no proof) → 409 PAYMENT_PROOF_REUSED { orderId: A }', async () => {
      const a = await x402Order();
      const b = await x402Order();
      const headers = xPayment();
      expect((await execute(a.order.id, { paymentHeaders: headers })).status).toBe(200);
      const calls = provider.requestsTo('/x402').length;
      const response = await refused(b.order.id, { paymentHeaders: headers });
      expectError(response, 409, 'PAYMENT_PROOF_REUSED');
      expect(response.body.error.details).toEqual({ orderId: a.order.id });
      expect(provider.requestsTo('/x402')).toHaveLength(calls);
      expect(await paymentOf(b.order.id)).toMatchObject({ status: 'intent_created', proof: null });
    });

    it('a header sent with a refused execute does not back that order: another order can still pay with it', async () => {
      const refusedOrder = await x402Order('vault.x402');
      const headers = xPayment();
      const response = await refused(refusedOrder.order.id, { paymentHeaders: headers });
      expect(response.body.error.details.reason).toBe('provider_credentials_required');
      const other = await x402Order();
      expect((await execute(other.order.id, { paymentHeaders: headers })).status).toBe(200);
      expect(await paymentOf(refusedOrder.order.id)).toMatchObject({ status: 'intent_created', proof: null });
    });

    it('the provider answers 402 → 402 PAYMENT_REQUIRED payment_rejected, retryable, its new challenge replaces the stored one', async () => {
      const { order } = await x402Order('exec.x402-reject');
      clock.advance(1000);
      const response = await execute(order.id, { paymentHeaders: xPayment() });
      expectError(response, 402, 'PAYMENT_REQUIRED');
      const challenge = { protocol: 'x402', httpStatus: 402, paymentRequired: renewedChallenge, headers: {}, fetchedAt: now() };
      expect(response.body.error.details).toEqual({
        reason: 'payment_rejected',
        paymentStatus: 'intent_created',
        retryable: true,
        challenge,
      });
      expect(await paymentOf(order.id)).toMatchObject({ status: 'intent_created', challenge, proof: null });
      const after = await payments.order(order.id);
      expect(after).toMatchObject({
        status: 'payment_pending',
        errorMessage: `HTTP 402: ${JSON.stringify(renewedChallenge).slice(0, 200)}`,
        outcomeId: null,
      });
      expect(await taskTransitions(t, after.taskId)).toEqual([
        { from: 'pending', to: 'routing' },
        { from: 'routing', to: 'running' },
        { from: 'running', to: 'pending' },
      ]);
    });

    it('the provider answers 200 with a payment-response: order confirmed, payment released with the settlement; confirm → ORDER_CLOSED', async () => {
      const { order } = await x402Order();
      clock.advance(1000);
      const headers = xPayment();
      const response = await execute(order.id, { paymentHeaders: headers });
      expect(response.status).toBe(200);
      expect(response.body.item.order).toMatchObject({
        status: 'confirmed',
        deliveredAt: now(),
        confirmedAt: now(),
        errorMessage: null,
      });
      expect(response.body.item.outcome).toMatchObject({ status: 'delivered', output: { price: 1.5 } });
      expect(provider.requestsTo('/x402').at(-1)!.headers['x-payment']).toBe(headers.xPayment);

      const payment = await paymentOf(order.id);
      expect(payment).toMatchObject({ status: 'released', heldAt: now(), releasePendingAt: now(), releasedAt: now() });
      expect(payment.proof).toMatchObject({
        verificationMode: 'recorded',
        paymentHeadersFingerprint: headersFingerprint(headers),
        settlement: { txHash: SETTLEMENT_TX, network: 'base' },
        recordedAt: now(),
      });

      const confirm = await refusedWithoutEvents(t, () => orders.confirm(order.id, agent.token));
      expectError(confirm, 409, 'ORDER_CLOSED');
      expect(confirm.body.error.details).toEqual({ orderId: order.id, status: 'confirmed' });
    });
  });

  describe('step 6: provider credentials', () => {
    it('a required credential field missing or empty → 400 provider_credentials_required at /providerCredentials/vault/apiKey', async () => {
      const order = await placeOrder(orders, agent, 'vault.feed');
      const expected = {
        reason: 'provider_credentials_required',
        errors: [{ location: 'body', path: '/providerCredentials/vault/apiKey', message: expect.any(String) }],
      };
      for (const body of [
        {},
        { providerCredentials: { acme: { apiKey: 'k' } } },
        { providerCredentials: { vault: { apiKey: '' } } },
        { providerCredentials: { vault: { region: 'eu' } } },
      ]) {
        const response = await refused(order.id, body);
        expectError(response, 400, 'VALIDATION_ERROR');
        expect(response.body.error.details).toEqual(expected);
      }
      expect(provider.requestsTo('/vault')).toHaveLength(0);
    });

    it('with the credential → 200; the provider got it as x-api-key (authType api-key), provider key matched case-insensitively', async () => {
      const order = await placeOrder(orders, agent, 'vault.feed');
      const apiKey = `vault-key-${randomUUID()}`;
      const response = await execute(order.id, { providerCredentials: { VAULT: { apiKey } } });
      expect(response.status).toBe(200);
      expect(response.body.item.order.status).toBe('delivered');
      const request = provider.requestsTo('/vault').at(-1)!;
      expect(request.headers['x-api-key']).toBe(apiKey);
      expect(request.headers.authorization).toBeUndefined();
    });
  });

  describe('step 7: route', () => {
    it('an external-handoff service with neither handoff nor endpoint URL → 409 ROUTE_REQUIRED no_handoff_target; nothing written', async () => {
      const order = await placeOrder(orders, agent, 'exec.handoff-nowhere');
      const before = (await t.storedEvents({ includeInternal: true })).length;
      const response = await execute(order.id);
      expectError(response, 409, 'ROUTE_REQUIRED');
      expect(response.body.error.details).toEqual({ providerKey: 'acme', reason: 'no_handoff_target' });
      expect((await t.storedEvents({ includeInternal: true })).length).toBe(before);
      expect(await payments.order(order.id)).toMatchObject({ status: 'created', taskId: null });
    });
  });

  describe('step 9: failures', () => {
    it('provider 500 → 502 EXECUTION_FAILED non-retryable with orderId, taskId, runId, outcomeId and providerStatus', async () => {
      const order = await placeOrder(orders, agent, 'exec.broken');
      const response = await execute(order.id);
      expectError(response, 502, 'EXECUTION_FAILED');
      const after = await payments.order(order.id);
      expect(after).toMatchObject({ status: 'failed', errorMessage: 'HTTP 500: boom' });
      expect(response.body.error.details).toEqual({
        orderId: order.id,
        retryable: false,
        orderStatus: 'failed',
        taskId: after.taskId,
        runId: after.runId,
        outcomeId: after.outcomeId,
        providerStatus: 500,
      });
      expect(after.outcomeId).toEqual(expect.stringMatching(/^out_/));
      expect((await taskTransitions(t, after.taskId)).at(-1)).toEqual({ from: 'running', to: 'failed' });
    });

    it('provider 503 → 502 EXECUTION_FAILED retryable with orderId, orderStatus, taskId, runId; no outcome', async () => {
      const order = await placeOrder(orders, agent, 'exec.busy');
      const response = await execute(order.id);
      expectError(response, 502, 'EXECUTION_FAILED');
      const after = await payments.order(order.id);
      expect(after).toMatchObject({ status: 'created', errorMessage: 'HTTP 503: try later', outcomeId: null });
      expect(response.body.error.details).toEqual({
        orderId: order.id,
        retryable: true,
        orderStatus: 'created',
        taskId: after.taskId,
        runId: after.runId,
      });
    });

    it(`a provider that does not answer within PEAQOS_EXECUTE_TIMEOUT_MS=${TIMEOUT_MS} → non-retryable, errorMessage "timeout after ${TIMEOUT_MS} ms"`, async () => {
      const order = await placeOrder(orders, agent, 'exec.hang');
      const started = Date.now();
      const response = await execute(order.id);
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expectError(response, 502, 'EXECUTION_FAILED');
      const after = await payments.order(order.id);
      expect(after).toMatchObject({ status: 'failed', errorMessage: `timeout after ${TIMEOUT_MS} ms` });
      expect(response.body.error.details).toEqual({
        orderId: order.id,
        retryable: false,
        orderStatus: 'failed',
        taskId: after.taskId,
        runId: after.runId,
        outcomeId: after.outcomeId,
      });
    });

    it('a 200 answer over 1 MiB → non-retryable, errorMessage "response too large"', async () => {
      const order = await placeOrder(orders, agent, 'exec.huge');
      const response = await execute(order.id);
      expectError(response, 502, 'EXECUTION_FAILED');
      const after = await payments.order(order.id);
      expect(after).toMatchObject({ status: 'failed', errorMessage: 'response too large' });
      expect(response.body.error.details).toEqual({
        orderId: order.id,
        retryable: false,
        orderStatus: 'failed',
        taskId: after.taskId,
        runId: after.runId,
        outcomeId: after.outcomeId,
        providerStatus: 200,
      });
    });

    it('after a non-retryable failure, a held (recorded) wallet payment can be refunded', async () => {
      const order = await placeOrder(orders, agent, 'exec.wallet');
      await payments.intended(order.id, agent.token);
      const proof = await payments.proof(order.id, agent.token, transfer());
      expect(proof.status).toBe(200);
      expect(proof.body.item.status).toBe('held');
      const response = await execute(order.id);
      expectError(response, 502, 'EXECUTION_FAILED');
      expect(response.body.error.details).toMatchObject({ retryable: false, orderStatus: 'failed' });
      const refund = await payments.refund(order.id, { reason: 'provider failed' });
      expect(refund.status).toBe(200);
      expect(refund.body.item).toMatchObject({ status: 'refunded', refundReason: 'provider failed', refundedAt: now() });
      expect((await payments.order(order.id)).status).toBe('failed');
    });

    it('cancel after a retryable failure → 200 cancelled, and the pending task becomes failed', async () => {
      const order = await placeOrder(orders, agent, 'exec.busy');
      expectError(await execute(order.id), 502, 'EXECUTION_FAILED');
      const { taskId } = await payments.order(order.id);
      expect((await taskTransitions(t, taskId)).at(-1)).toEqual({ from: 'running', to: 'pending' });
      const cancel = await orders.cancel(order.id, agent.token, { reason: 'gave up' });
      expect(cancel.status).toBe(200);
      expect(cancel.body.item).toMatchObject({ status: 'cancelled', cancelReason: 'gave up', taskId });
      expect((await taskTransitions(t, taskId)).at(-1)).toEqual({ from: 'pending', to: 'failed' });
    });
  });

  describe('order of the checks', () => {
    it('closed (2) before input (3); input before policies (4); policies before payment (5); payment before credentials (6)', async () => {
      const owner = await fx.agent();
      const cancelled = await placeOrder(orders, owner, 'exec.ok');
      expect((await orders.cancel(cancelled.id, owner.token)).status).toBe(200);
      expectError(await refused(cancelled.id, { input: {} }, owner.token), 409, 'ORDER_CLOSED');

      // vault.x402: x402 rail and a required credential; a machine policy now denies its provider.
      const { order } = await x402Order('vault.x402', owner);
      const policyId = await fx.policy({ deniedProviderKeys: ['vault'] });
      await fx.patchMachine(owner.machineId, { policyIds: [policyId] });
      expect((await refused(order.id, { input: {} }, owner.token)).body.error.details.reason).toBe('input_invalid');
      expectPolicyDenied(await refused(order.id, {}, owner.token), { source: 'machinePolicy', policyId, reason: 'provider_denied' });
      await fx.patchMachine(owner.machineId, { policyIds: [] });
      const payment = await refused(order.id, {}, owner.token);
      expectError(payment, 402, 'PAYMENT_REQUIRED');
      expect(payment.body.error.details.reason).toBe('payment_header_required');
      const credentials = await refused(order.id, { paymentHeaders: xPayment() }, owner.token);
      expectError(credentials, 400, 'VALIDATION_ERROR');
      expect(credentials.body.error.details.reason).toBe('provider_credentials_required');
      expect((await payments.order(order.id)).status).toBe('payment_pending');
    });
  });

  describe('secrets (§9)', () => {
    it('payment headers, provider credentials and secret-named input members reach the provider and are stored nowhere', async () => {
      const marker = randomUUID().replace(/-/g, '');
      const secrets = {
        xPayment: `secret-x-payment-${marker}`,
        vaultKey: `secret-api-key-vault-${marker}`,
        acmeKey: `secret-api-key-acme-${marker}`,
        password: `secret-input-password-${marker}`,
      };
      const { order } = await x402Order('vault.x402');
      const headers = { xPayment: secrets.xPayment };
      const response = await execute(order.id, {
        input: { symbol: 'ETH/USD', password: secrets.password },
        paymentHeaders: headers,
        providerCredentials: { vault: { apiKey: secrets.vaultKey }, acme: { apiKey: secrets.acmeKey } },
      });
      expect(response.status).toBe(200);
      const request = provider.requestsTo('/x402').at(-1)!;
      expect(request.headers['x-payment']).toBe(secrets.xPayment);
      expect(request.headers['x-api-key']).toBe(secrets.vaultKey);
      expect(JSON.parse(request.body)).toEqual({ symbol: 'ETH/USD', password: secrets.password });
      expect(response.body.item.task.input).toEqual({ symbol: 'ETH/USD', password: '[REDACTED]' });
      expect(response.body.item.order.input).toEqual({ symbol: 'ETH/USD', password: '[REDACTED]' });

      const events = JSON.stringify(await t.storedEvents({ includeInternal: true }));
      const files = dataFilesText(t);
      const reads = response.text + (await payments.get(order.id)).text + (await orders.get(order.id)).text;
      for (const secret of Object.values(secrets)) {
        expect(events).not.toContain(secret);
        expect(files).not.toContain(secret);
        expect(reads).not.toContain(secret);
      }
      expect(events).not.toContain(marker);
      expect(events).toContain(headersFingerprint(headers));
    });
  });
});

describe('execute with PEAQOS_REQUIRE_PAYMENT_BEFORE_EXECUTE=true (§7.5.10 step 5)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let orders: OrderApi;
  let payments: PaymentApi;
  let agent: OrderAgent;
  usePaymentAgent(
    {
      clock,
      catalog,
      env: () => ({ ...CHAIN_ENV, PEAQOS_EXECUTE_TIMEOUT_MS: String(TIMEOUT_MS), PEAQOS_REQUIRE_PAYMENT_BEFORE_EXECUTE: 'true' }),
    },
    (app) => ({ t, orders, payments, agent } = app),
  );

  const execute = (orderId: string, body: Json = {}) => orders.execute(orderId, agent.token, body);
  const refused = (orderId: string, body: Json = {}) => refusedWithoutEvents(t, () => execute(orderId, body));

  function expectNotHeld(response: TestResponse, paymentStatus: string | null): void {
    expectError(response, 402, 'PAYMENT_REQUIRED');
    expect(response.body.error.details).toEqual({ reason: 'payment_not_held', paymentStatus });
  }

  it('a required wallet order without a payment record → 402 payment_not_held, paymentStatus null; nothing written', async () => {
    const order = await placeOrder(orders, agent, 'exec.wallet');
    expectNotHeld(await refused(order.id), null);
    expect((await payments.order(order.id)).status).toBe('created');
  });

  it("a wallet payment still intent_created → 402 payment_not_held, paymentStatus 'intent_created'", async () => {
    const order = await placeOrder(orders, agent, 'exec.wallet');
    await payments.intended(order.id, agent.token);
    expectNotHeld(await refused(order.id), 'intent_created');
    expect((await payments.order(order.id)).status).toBe('payment_pending');
  });

  it('an x402 order without an intent → payment_not_held (the flag is checked before payment_intent_missing)', async () => {
    const order = await placeOrder(orders, agent, 'exec.x402');
    expectNotHeld(await refused(order.id, { paymentHeaders: { xPayment: `x-${randomUUID()}` } }), null);
  });

  it('a not-required order executes, without a payment record and with a not_required one', async () => {
    const bare = await placeOrder(orders, agent, 'exec.ok');
    expect((await execute(bare.id)).status).toBe(200);
    const recorded = await placeOrder(orders, agent, 'exec.ok');
    expect((await payments.intended(recorded.id, agent.token)).status).toBe('not_required');
    const response = await execute(recorded.id);
    expect(response.status).toBe(200);
    expect(response.body.item.order.status).toBe('delivered');
  });

  it('a held wallet payment passes the check (the provider is then called)', async () => {
    const order = await placeOrder(orders, agent, 'exec.wallet');
    await payments.intended(order.id, agent.token);
    expect((await payments.proof(order.id, agent.token, transfer())).status).toBe(200);
    const calls = provider.requestsTo('/broken').length;
    // exec.wallet's provider answers 500: the check passed and the request was dispatched.
    expectError(await execute(order.id), 502, 'EXECUTION_FAILED');
    expect(provider.requestsTo('/broken')).toHaveLength(calls + 1);
  });
});

describe('execute without a pairing token (PEAQOS_REQUIRE_AGENT_PAIRING_AUTH=false, §1.3)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let orders: OrderApi;
  let fx: UnverifiedFixtures;
  usePaymentApp(
    {
      clock,
      catalog,
      env: () => ({ ...CHAIN_ENV, PEAQOS_EXECUTE_TIMEOUT_MS: String(TIMEOUT_MS), PEAQOS_REQUIRE_AGENT_PAIRING_AUTH: 'false' }),
    },
    (app) => ({ t, orders, fx } = app),
  );

  it("acts for the order's pairing: paused → 403 AGENT_PAIRING_INACTIVE; active → 200", async () => {
    const agent = await fx.agent();
    const order = await placeOrder(orders, agent, 'exec.ok');
    await fx.setPairingStatus(agent, 'paused');
    expectInactive(await refusedWithoutEvents(t, () => orders.execute(order.id)), agent.pairingId, 'paused');
    await fx.setPairingStatus(agent, 'active');
    const response = await orders.execute(order.id);
    expect(response.status).toBe(200);
    expect(response.body.item.order.status).toBe('delivered');
  });

  it('a token that is sent is still verified: another pairing → 401 pairing_mismatch', async () => {
    const agent = await fx.agent();
    const order = await placeOrder(orders, agent, 'exec.ok');
    const sibling = await fx.pair(agent.machineId);
    expectAuthInvalid(await refusedWithoutEvents(t, () => orders.execute(order.id, sibling.token)), 'pairing_mismatch');
  });
});
