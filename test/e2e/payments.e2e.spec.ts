import { closedPortUrl } from '../support/anvil';
import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import { OrderAgent, OrderApi, UNKNOWN_ORDER_ID, UnverifiedFixtures } from '../support/order-api';
import {
  CHAIN_ID,
  expectPaymentShape,
  jsonChallenge,
  PAYEE,
  PAYER,
  PAYMENT_ID,
  PaymentApi,
  paymentCatalogFile,
  placeOrder,
  requirements,
  SOLANA_MINT,
  SOLANA_PAY_TO,
  TOKEN,
  usePaymentAgent,
  X402Provider,
  type ProviderReply,
} from '../support/payment-api';
import { expectBodyIssue, refusedWithoutEvents } from '../support/search-api';
import { TestApp } from '../support/test-app';

/**
 * `POST /market/orders/:orderId/payment-intent` (§7.5.4, §7.4) and `GET …/payment` (§7.5.6) over HTTP:
 * every rail, the network parameters and their defaults (§2.2), the x402 challenge fetched from a
 * provider on 127.0.0.1, idempotency and the state rules. Proofs, escrow locks and settlement are in
 * payments-proof, payments-rpc and payments-settlement.
 */

const T0 = '2026-05-04T10:00:00.000Z';
/** PEAQOS_USDT_CONTRACT: the default token on PEAQOS_CHAIN_ID for services that carry none. */
const CONFIG_TOKEN = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
/** Not the default (6), so that `tokenDecimals` shows the variable's effect (§2.2). */
const CONFIG_DECIMALS = 8;
/** The minimum of §2.2: a provider that does not answer within 1 s is a timeout. */
const EXECUTE_TIMEOUT_MS = 1000;

function env(extra: Record<string, string> = {}): () => Record<string, string> {
  return () => ({
    PEAQOS_CHAIN_ID: String(CHAIN_ID),
    PEAQOS_USDT_CONTRACT: CONFIG_TOKEN,
    PEAQOS_USDT_DECIMALS: String(CONFIG_DECIMALS),
    PEAQOS_EXECUTE_TIMEOUT_MS: String(EXECUTE_TIMEOUT_MS),
    ...extra,
  });
}

const provider = new X402Provider();
let closedUrl: string;
const catalog = () => paymentCatalogFile({ token: TOKEN, payTo: PAYEE, chainId: CHAIN_ID, providerUrl: provider.url, closedUrl });

beforeAll(async () => {
  await provider.start();
  closedUrl = await closedPortUrl();
});
afterAll(async () => {
  await provider.stop();
});

describe('payment intents (§7.5.4)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let orders: OrderApi;
  let payments: PaymentApi;
  let fx: UnverifiedFixtures;
  let agent: OrderAgent;
  usePaymentAgent({ clock, catalog, env: env() }, (app) => ({ t, orders, payments, fx, agent } = app));

  const now = () => clock.now().toISOString();
  const place = (serviceId: string) => placeOrder(orders, agent, serviceId);

  describe('rails other than x402 (§7.4)', () => {
    it('wallet (the default rail): 201, the record with the catalogued payee, network and token; the order goes payment_pending', async () => {
      const order = await place('pay.wallet');
      clock.advance(1000);

      const response = await payments.intent(order.id, agent.token, {});

      expect(response.status).toBe(201);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(Object.keys(response.body)).toEqual(['item']);
      const item = response.body.item;
      expectPaymentShape(item);
      expect(item).toEqual({
        id: expect.stringMatching(PAYMENT_ID),
        orderId: order.id,
        machineId: agent.machineId,
        type: 'wallet',
        status: 'intent_created',
        required: true,
        amount: '2.5',
        currency: 'USDT',
        network: 'evm',
        // `eip155:<n>` → n (§7.5.4 step 6).
        chainId: CHAIN_ID,
        tokenAddress: TOKEN,
        // A token resolved, so PEAQOS_USDT_DECIMALS applies.
        tokenDecimals: CONFIG_DECIMALS,
        payerAddress: null,
        payTo: PAYEE,
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
      const after = await payments.order(order.id);
      expect(after).toEqual(expect.objectContaining({ status: 'payment_pending', paymentId: item.id, updatedAt: now() }));
      expect((await payments.orderEvents(order.id)).map((e) => e.type)).toEqual([
        'market_order.created',
        'market_payment.intent_created',
        'market_order.payment_pending',
      ]);
    });

    it.each(['wdk-usdt-transfer', 'escrow', 'onchain-escrow', 'offchain-record', 'external', 'vault-stripe', 'xvv42'])(
      'rail %s: 201, a record of that type in intent_created; the order goes payment_pending',
      async (rail) => {
        const order = await place('pay.wallet');
        const response = await payments.intent(order.id, agent.token, { rail });
        expect(response.status).toBe(201);
        expectPaymentShape(response.body.item);
        expect(response.body.item).toEqual(
          expect.objectContaining({ type: rail, status: 'intent_created', network: 'evm', chainId: CHAIN_ID, amount: '2.5', payTo: PAYEE }),
        );
        expect(await payments.order(order.id)).toEqual(
          expect.objectContaining({ status: 'payment_pending', paymentId: response.body.item.id }),
        );
      },
    );

    it('not-required on a service that does not require payment: 201, not_required with null network parameters; the order goes ready', async () => {
      const order = await place('pay.free');
      const response = await payments.intent(order.id, agent.token);
      expect(response.status).toBe(201);
      expectPaymentShape(response.body.item);
      expect(response.body.item).toEqual(
        expect.objectContaining({
          type: 'not-required',
          status: 'not_required',
          required: false,
          amount: '0.1',
          currency: 'USDT',
          network: null,
          chainId: null,
          tokenAddress: null,
          tokenDecimals: null,
          payerAddress: null,
          payTo: null,
          challenge: null,
        }),
      );
      expect(await payments.order(order.id)).toEqual(expect.objectContaining({ status: 'ready', paymentId: response.body.item.id }));
      expect((await payments.orderEvents(order.id)).map((e) => e.type)).toEqual([
        'market_order.created',
        'market_payment.intent_created',
        'market_order.ready',
      ]);
    });

    it('not-required while the order requires payment → 400 rail_not_allowed, nothing stored', async () => {
      const order = await place('pay.wallet');
      const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token, { rail: 'not-required' }));
      expectBodyIssue(response, '/rail', 'rail_not_allowed');
      expect(await payments.order(order.id)).toEqual(expect.objectContaining({ status: 'created', paymentId: null }));
    });

    it('without PEAQOS_ENFORCE_SERVICE_PAYMENT_RAILS a rail outside supportedRails is accepted', async () => {
      const order = await place('pay.cheap');
      const response = await payments.intent(order.id, agent.token, { rail: 'offchain-record' });
      expect(response.status).toBe(201);
      expect(response.body.item.type).toBe('offchain-record');
    });
  });

  describe('network parameters (§7.5.4 steps 5–6)', () => {
    it('a service without network: chainId PEAQOS_CHAIN_ID, tokenAddress PEAQOS_USDT_CONTRACT, tokenDecimals PEAQOS_USDT_DECIMALS', async () => {
      const order = await place('pay.plain');
      const item = (await payments.intent(order.id, agent.token)).body.item;
      expect(item).toEqual(
        expect.objectContaining({
          network: 'evm',
          chainId: CHAIN_ID,
          tokenAddress: CONFIG_TOKEN,
          tokenDecimals: CONFIG_DECIMALS,
          payTo: PAYEE,
        }),
      );
    });

    it('network "base": chainId 8453; PEAQOS_USDT_CONTRACT does not apply on another chain, so token and decimals stay null', async () => {
      const order = await place('pay.base');
      const item = (await payments.intent(order.id, agent.token)).body.item;
      expect(item).toEqual(
        expect.objectContaining({ network: 'evm', chainId: 8453, tokenAddress: null, tokenDecimals: null, payTo: null }),
      );
    });

    it('request values win: chainId, tokenAddress, tokenDecimals; payerAddress in lower case is stored EIP-55', async () => {
      const order = await place('pay.wallet');
      const item = (
        await payments.intent(order.id, agent.token, {
          chainId: 1,
          tokenAddress: CONFIG_TOKEN,
          tokenDecimals: 18,
          payerAddress: PAYER.toLowerCase(),
        })
      ).body.item;
      expect(item).toEqual(
        expect.objectContaining({ chainId: 1, tokenAddress: CONFIG_TOKEN, tokenDecimals: 18, payerAddress: PAYER, payTo: PAYEE }),
      );
    });

    it('an explicit chainId equal to PEAQOS_CHAIN_ID on a service without token: PEAQOS_USDT_CONTRACT applies', async () => {
      const order = await place('pay.base');
      const item = (await payments.intent(order.id, agent.token, { chainId: CHAIN_ID })).body.item;
      expect(item).toEqual(expect.objectContaining({ chainId: CHAIN_ID, tokenAddress: CONFIG_TOKEN, tokenDecimals: CONFIG_DECIMALS }));
    });

    it('Solana: network solana, chainId null, the catalogued mint; a base58 payer is kept as given', async () => {
      const order = await place('pay.solana');
      const payer = 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy';
      const item = (await payments.intent(order.id, agent.token, { payerAddress: payer })).body.item;
      expect(item).toEqual(
        expect.objectContaining({
          network: 'solana',
          chainId: null,
          tokenAddress: SOLANA_MINT,
          // A token resolved: PEAQOS_USDT_DECIMALS (§7.5.4 step 6).
          tokenDecimals: CONFIG_DECIMALS,
          payerAddress: payer,
          payTo: SOLANA_PAY_TO,
        }),
      );
    });

    it.each([
      ['an EVM payer that is not an address', 'pay.wallet', { payerAddress: '0x1234' }, '/payerAddress'],
      ['an EVM payer with a broken checksum', 'pay.wallet', { payerAddress: PAYER.replace('C8', 'c8') }, '/payerAddress'],
      ['a Solana address on an EVM payment', 'pay.wallet', { payerAddress: SOLANA_PAY_TO }, '/payerAddress'],
      ['an EVM address on a Solana payment', 'pay.solana', { payerAddress: PAYER }, '/payerAddress'],
      ['a token that is not an EVM address', 'pay.wallet', { tokenAddress: 'usdt' }, '/tokenAddress'],
    ])('%s → 400 invalid_address, nothing stored', async (_name, serviceId, body, pointer) => {
      const order = await place(serviceId);
      const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token, body));
      expectBodyIssue(response, pointer, 'invalid_address');
    });

    it('a chainId on a Solana payment → 400 invalid_chain_id, nothing stored', async () => {
      const order = await place('pay.solana');
      const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token, { chainId: 1 }));
      expectBodyIssue(response, '/chainId', 'invalid_chain_id');
    });

    it.each([
      ['an unknown rail', { rail: 'bitcoin' }],
      ['tokenDecimals above 36', { tokenDecimals: 37 }],
      ['a chainId that is not an integer', { chainId: 1.5 }],
      ['an unknown member', { amount: '1' }],
      ['an unknown paymentHeaders member', { paymentHeaders: { cookie: 'x' } }],
    ])('%s → 400 VALIDATION_ERROR', async (_name, body) => {
      const order = await place('pay.wallet');
      const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token, body));
      expectError(response, 400, 'VALIDATION_ERROR');
    });
  });

  describe('idempotency and state (§7.5.4 steps 1–3)', () => {
    it('a second call answers 200 with the same record, unchanged, whatever its body; nothing is appended', async () => {
      const order = await place('pay.wallet');
      const first = await payments.intent(order.id, agent.token, { rail: 'escrow' });
      expect(first.status).toBe(201);
      clock.advance(1000);
      const before = (await t.storedEvents()).length;

      const second = await payments.intent(order.id, agent.token, { rail: 'offchain-record', payerAddress: PAYER, chainId: 1 });

      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(await t.storedEvents()).toHaveLength(before);
      const read = await payments.get(order.id);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(first.body);
    });

    it('two concurrent calls: one 201, one 200, the same record; one intent_created event', async () => {
      const order = await place('pay.wallet');
      const [a, b] = await Promise.all([
        payments.intent(order.id, agent.token, { rail: 'wallet' }),
        payments.intent(order.id, agent.token, { rail: 'escrow' }),
      ]);
      expect(a.body.item.id).toBe(b.body.item.id);
      expect(a.body).toEqual(b.body);
      const created = (await payments.orderEvents(order.id)).filter((e) => e.type === 'market_payment.intent_created');
      expect(created).toHaveLength(1);
      expect((await payments.order(order.id)).paymentId).toBe(a.body.item.id);
      // Only one request created the record (§7.5.4 response: 201 created, 200 existing returned).
      expect([a.status, b.status].sort()).toEqual([200, 201]);
    });

    it('refreshChallenge=true on a record that is not x402 → 409 STATE_CONFLICT challenge_not_refreshable', async () => {
      const order = await place('pay.wallet');
      const created = await payments.intended(order.id, agent.token);
      const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token, {}, '?refreshChallenge=true'));
      expectError(response, 409, 'STATE_CONFLICT');
      expect(response.body.error.details).toEqual(
        expect.objectContaining({ reason: 'challenge_not_refreshable', status: 'intent_created' }),
      );
      expect(response.body.error.details.id).toBe(created.id);
    });

    it('refreshChallenge=false answers like no parameter; a value other than true/false → 400', async () => {
      const order = await place('pay.wallet');
      const created = await payments.intended(order.id, agent.token);
      const plain = await payments.intent(order.id, agent.token, {}, '?refreshChallenge=false');
      expect(plain.status).toBe(200);
      expect(plain.body.item).toEqual(created);
      const bad = await payments.intent(order.id, agent.token, {}, '?refreshChallenge=yes');
      expectError(bad, 400, 'VALIDATION_ERROR');
    });

    it('a cancelled order → 409 ORDER_CLOSED, without a record and with one (step 2 comes before step 3)', async () => {
      const bare = await place('pay.wallet');
      expect((await orders.cancel(bare.id, agent.token, {})).status).toBe(200);
      const response = await refusedWithoutEvents(t, () => payments.intent(bare.id, agent.token));
      expectError(response, 409, 'ORDER_CLOSED');
      expect(response.body.error.details).toEqual({ orderId: bare.id, status: 'cancelled' });

      const withRecord = await place('pay.wallet');
      await payments.intended(withRecord.id, agent.token);
      expect((await orders.cancel(withRecord.id, agent.token, {})).status).toBe(200);
      const again = await refusedWithoutEvents(t, () => payments.intent(withRecord.id, agent.token));
      expectError(again, 409, 'ORDER_CLOSED');
      expect(again.body.error.details).toEqual({ orderId: withRecord.id, status: 'cancelled' });
    });

    it('an unknown order → 404 market-order; no token → 401; a token of another machine → 401 machine_mismatch', async () => {
      const unknown = await payments.intent(UNKNOWN_ORDER_ID, agent.token);
      expectError(unknown, 404, 'NOT_FOUND');
      expect(unknown.body.error.details).toEqual({ entityType: 'market-order', id: UNKNOWN_ORDER_ID });

      const order = await place('pay.wallet');
      expectError(await payments.intent(order.id, undefined), 401, 'AGENT_AUTH_REQUIRED');
      const stranger = await fx.agent();
      const foreign = await refusedWithoutEvents(t, () => payments.intent(order.id, stranger.token));
      expectError(foreign, 401, 'AGENT_AUTH_INVALID');
      expect(foreign.body.error.details).toEqual(expect.objectContaining({ reason: 'machine_mismatch' }));
    });
  });

  describe('GET /market/orders/:orderId/payment (§7.5.6)', () => {
    it('404 market-payment before the intent; the record after it', async () => {
      const order = await place('pay.wallet');
      const before = await payments.get(order.id);
      expectError(before, 404, 'NOT_FOUND');
      expect(before.body.error.details).toEqual({ entityType: 'market-payment', id: expect.any(String) });

      const created = await payments.intended(order.id, agent.token, { payerAddress: PAYER });
      const after = await payments.get(order.id);
      expect(after.status).toBe(200);
      expect(Object.keys(after.body)).toEqual(['item']);
      expect(after.body.item).toEqual(created);
    });

    it('an unknown order → 404 market-order', async () => {
      const response = await payments.get(UNKNOWN_ORDER_ID);
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ entityType: 'market-order', id: UNKNOWN_ORDER_ID });
    });
  });

  describe('x402: the provider challenge (§7.5.4 step 7)', () => {
    let nonce = 'n-1';
    let failReply: ProviderReply = { status: 500, body: 'internal error' };
    beforeAll(() => {
      provider.replies.set('/json', () => jsonChallenge(requirements(nonce), { 'www-authenticate': 'x402 realm="acme"' }));
      provider.replies.set('/header', () => ({
        status: 402,
        headers: {
          'content-type': 'text/plain',
          'payment-required': Buffer.from(JSON.stringify(requirements('from-header'))).toString('base64'),
        },
        body: 'Payment Required',
      }));
      provider.replies.set('/fail', () => failReply);
      provider.replies.set('/slow', () => 'hang');
    });

    it('a 402 with a JSON body: 201, the body verbatim as paymentRequired, the two headers verbatim; the order goes payment_pending', async () => {
      nonce = 'json-1';
      const order = await place('x402.json');
      const response = await payments.intent(order.id, agent.token, {});
      expect(response.status).toBe(201);
      const item = response.body.item;
      expectPaymentShape(item);
      expect(item).toEqual(
        expect.objectContaining({
          type: 'x402',
          status: 'intent_created',
          amount: '0.01',
          currency: 'USDC',
          network: 'evm',
          chainId: 8453,
          proof: null,
          challenge: {
            protocol: 'x402',
            httpStatus: 402,
            paymentRequired: requirements('json-1'),
            headers: { 'www-authenticate': 'x402 realm="acme"' },
            fetchedAt: now(),
          },
        }),
      );
      expect(await payments.order(order.id)).toEqual(expect.objectContaining({ status: 'payment_pending', paymentId: item.id }));
    });

    it('the challenge request is the one execution sends: method, input as JSON body, Accept, correlation id; only Authorization and SIGN-IN-WITH-X are forwarded', async () => {
      const order = await place('x402.json');
      const seen = provider.requests.length;
      const response = await payments.intent(
        order.id,
        agent.token,
        {
          paymentHeaders: {
            xPayment: 'x-payment-never-forwarded',
            paymentSignature: 'sig-never-forwarded',
            authorization: 'Bearer abc',
            signInWithX: 'siwx-1',
          },
        },
        '',
        { 'x-correlation-id': 'corr-x402-intent-1' },
      );
      expect(response.status).toBe(201);
      const sent = provider.requests.slice(seen);
      expect(sent).toHaveLength(1);
      const [request] = sent;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/json');
      expect(JSON.parse(request.body)).toEqual({ symbol: 'ETH/USD' });
      expect(request.headers['content-type']).toMatch(/^application\/json/);
      expect(request.headers.accept).toBe('application/json');
      expect(request.headers['x-correlation-id']).toBe('corr-x402-intent-1');
      expect(request.headers.authorization).toBe('Bearer abc');
      expect(request.headers['sign-in-with-x']).toBe('siwx-1');
      expect(request.headers['x-payment']).toBeUndefined();
      expect(request.headers['payment-signature']).toBeUndefined();
      // An intent records no proof (§7.5.4 step 8).
      expect(response.body.item.proof).toBeNull();
    });

    it('a 402 without a JSON body: paymentRequired is the base64-decoded payment-required header; a GET endpoint gets the input as query', async () => {
      const order = await place('x402.header');
      const seen = provider.requests.length;
      const response = await payments.intent(order.id, agent.token);
      expect(response.status).toBe(201);
      const encoded = Buffer.from(JSON.stringify(requirements('from-header'))).toString('base64');
      expect(response.body.item.challenge).toEqual({
        protocol: 'x402',
        httpStatus: 402,
        paymentRequired: requirements('from-header'),
        headers: { 'payment-required': encoded },
        fetchedAt: now(),
      });
      const [request] = provider.requests.slice(seen);
      expect(request.method).toBe('GET');
      expect(request.query.get('symbol')).toBe('ETH/USD');
      expect(request.body).toBe('');
    });

    it('a 402 with neither a JSON body nor the header: paymentRequired null', async () => {
      failReply = { status: 402, headers: { 'content-type': 'text/plain' }, body: 'pay up' };
      try {
        const order = await place('x402.fail');
        const response = await payments.intent(order.id, agent.token);
        expect(response.status).toBe(201);
        expect(response.body.item.challenge).toEqual({
          protocol: 'x402',
          httpStatus: 402,
          paymentRequired: null,
          headers: {},
          fetchedAt: now(),
        });
      } finally {
        failReply = { status: 500, body: 'internal error' };
      }
    });

    it('a repeated call does not ask the provider again; refreshChallenge=true fetches a fresh challenge into the same record (200)', async () => {
      nonce = 'refresh-1';
      const order = await place('x402.json');
      const created = await payments.intended(order.id, agent.token);
      const seen = provider.requestsTo('/json').length;

      nonce = 'refresh-2';
      clock.advance(5000);
      const repeated = await payments.intent(order.id, agent.token);
      expect(repeated.status).toBe(200);
      expect(repeated.body.item).toEqual(created);
      expect(provider.requestsTo('/json')).toHaveLength(seen);

      const refreshed = await payments.intent(order.id, agent.token, {}, '?refreshChallenge=true');
      expect(refreshed.status).toBe(200);
      expect(provider.requestsTo('/json')).toHaveLength(seen + 1);
      expect(refreshed.body.item).toEqual(
        expect.objectContaining({
          id: created.id,
          status: 'intent_created',
          challenge: expect.objectContaining({ paymentRequired: requirements('refresh-2'), fetchedAt: now() }),
        }),
      );
      expect((await payments.get(order.id)).body.item.challenge.paymentRequired).toEqual(requirements('refresh-2'));
      expect((await payments.orderEvents(order.id)).map((e) => e.type)).toContain('market_payment.challenge_refreshed');
    });

    it('refreshChallenge=true on a held x402 payment → 409 challenge_not_refreshable', async () => {
      const order = await place('x402.json');
      await payments.intended(order.id, agent.token);
      const proof = await payments.proof(order.id, agent.token, { paymentHeaders: { xPayment: 'x402-refresh-held' } });
      expect(proof.status).toBe(200);
      const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token, {}, '?refreshChallenge=true'));
      expectError(response, 409, 'STATE_CONFLICT');
      expect(response.body.error.details).toEqual(expect.objectContaining({ reason: 'challenge_not_refreshable', status: 'held' }));
    });

    it('a failing refresh → 502 PROVIDER_UNAVAILABLE and the stored challenge is kept', async () => {
      nonce = 'kept';
      const order = await place('x402.json');
      const created = await payments.intended(order.id, agent.token);
      provider.replies.set('/json', () => ({ status: 503, body: 'busy' }));
      try {
        const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token, {}, '?refreshChallenge=true'));
        expectError(response, 502, 'PROVIDER_UNAVAILABLE');
        expect(response.body.error.details).toEqual({ providerKey: 'acme', reason: 'unexpected_status', providerStatus: 503 });
      } finally {
        provider.replies.set('/json', () => jsonChallenge(requirements(nonce), { 'www-authenticate': 'x402 realm="acme"' }));
      }
      expect((await payments.get(order.id)).body.item).toEqual(created);
    });

    it.each([
      ['a 500 answer', 500],
      ['a 200 answer', 200],
    ])('%s → 502 PROVIDER_UNAVAILABLE unexpected_status with providerStatus; nothing stored', async (_name, status) => {
      failReply = { status, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
      try {
        const order = await place('x402.fail');
        const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token));
        expectError(response, 502, 'PROVIDER_UNAVAILABLE');
        expect(response.body.error.details).toEqual({ providerKey: 'acme', reason: 'unexpected_status', providerStatus: status });
        expect(await payments.order(order.id)).toEqual(expect.objectContaining({ status: 'created', paymentId: null }));
        expectError(await payments.get(order.id), 404, 'NOT_FOUND');
      } finally {
        failReply = { status: 500, body: 'internal error' };
      }
    });

    it('a closed port → 502 PROVIDER_UNAVAILABLE network; nothing stored', async () => {
      const order = await place('x402.closed');
      const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token));
      expectError(response, 502, 'PROVIDER_UNAVAILABLE');
      expect(response.body.error.details).toEqual({ providerKey: 'acme', reason: 'network' });
      expect(await payments.order(order.id)).toEqual(expect.objectContaining({ status: 'created', paymentId: null }));
    });

    it('a provider that does not answer within PEAQOS_EXECUTE_TIMEOUT_MS → 502 PROVIDER_UNAVAILABLE timeout; nothing stored', async () => {
      const order = await place('x402.slow');
      const started = Date.now();
      const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token));
      const elapsed = Date.now() - started;
      expectError(response, 502, 'PROVIDER_UNAVAILABLE');
      expect(response.body.error.details).toEqual({ providerKey: 'acme', reason: 'timeout' });
      expect(elapsed).toBeGreaterThanOrEqual(EXECUTE_TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(EXECUTE_TIMEOUT_MS + 4000);
      expect(provider.requestsTo('/slow').length).toBeGreaterThan(0);
    });

    it('a failed fetch can be retried: once the provider answers 402 the intent is created (201)', async () => {
      const order = await place('x402.fail');
      expectError(await payments.intent(order.id, agent.token), 502, 'PROVIDER_UNAVAILABLE');
      failReply = jsonChallenge(requirements('second-try'));
      try {
        const response = await payments.intent(order.id, agent.token);
        expect(response.status).toBe(201);
        expect(response.body.item.challenge.paymentRequired).toEqual(requirements('second-try'));
      } finally {
        failReply = { status: 500, body: 'internal error' };
      }
    });

    it('a service without an endpoint url → 409 ROUTE_REQUIRED no_provider_endpoint; nothing stored', async () => {
      const order = await place('x402.none');
      const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token));
      expectError(response, 409, 'ROUTE_REQUIRED');
      expect(response.body.error.details).toEqual({ providerKey: 'acme', reason: 'no_provider_endpoint' });
    });

    it('raw x402 intent headers are never stored (§9)', async () => {
      const order = await place('x402.json');
      const secret = 'Bearer intent-only-secret-7f3a';
      expect((await payments.intent(order.id, agent.token, { paymentHeaders: { authorization: secret } })).status).toBe(201);
      const stored = JSON.stringify(await t.storedEvents({ includeInternal: true }));
      expect(stored).not.toContain(secret);
    });
  });
});

describe('payment intents with PEAQOS_ENFORCE_SERVICE_PAYMENT_RAILS=true (§2.2, §7.5.4 step 4)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let orders: OrderApi;
  let payments: PaymentApi;
  let agent: OrderAgent;
  usePaymentAgent(
    { clock, catalog, env: env({ PEAQOS_ENFORCE_SERVICE_PAYMENT_RAILS: 'true' }) },
    (app) => ({ t, orders, payments, agent } = app),
  );

  it.each(['offchain-record', 'x402', 'onchain-escrow'])(
    'rail %s outside supportedRails ∪ {defaultRail} → 400 rail_not_supported, nothing stored',
    async (rail) => {
      const order = await placeOrder(orders, agent, 'pay.wallet');
      const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token, { rail }));
      expectBodyIssue(response, '/rail', 'rail_not_supported');
    },
  );

  it.each([
    ['the default rail', 'pay.wallet', undefined, 'wallet'],
    ['a supported rail', 'pay.wallet', 'escrow', 'escrow'],
    ['not-required where it is the default', 'pay.free', 'not-required', 'not-required'],
  ])('%s is accepted (201)', async (_name, serviceId, rail, type) => {
    const order = await placeOrder(orders, agent, serviceId);
    const response = await payments.intent(order.id, agent.token, rail === undefined ? {} : { rail });
    expect(response.status).toBe(201);
    expect(response.body.item.type).toBe(type);
  });

  it('rail_not_allowed is checked before rail_not_supported', async () => {
    const order = await placeOrder(orders, agent, 'pay.wallet');
    const response = await refusedWithoutEvents(t, () => payments.intent(order.id, agent.token, { rail: 'not-required' }));
    expectBodyIssue(response, '/rail', 'rail_not_allowed');
  });
});
