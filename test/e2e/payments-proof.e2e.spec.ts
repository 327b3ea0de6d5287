import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import { dataFilesText } from '../support/machine-api';
import { OrderAgent, OrderApi } from '../support/order-api';
import {
  CHAIN_ENV,
  CHAIN_ID,
  DECIMALS,
  expectPaymentShape,
  headersFingerprint,
  jsonChallenge,
  Json,
  PAYEE,
  PAYER,
  PaymentApi,
  paymentCatalogFile,
  placeOrder,
  randomTxHash,
  requirements,
  SHA256_HEX,
  SOLANA_MINT,
  SOLANA_PAY_TO,
  TOKEN,
  usePaymentAgent,
  X402Provider,
} from '../support/payment-api';
import { expectBodyIssue, refusedWithoutEvents } from '../support/search-api';
import { TestApp } from '../support/test-app';
import { closedPortUrl } from '../support/anvil';

/**
 * `POST /market/orders/:orderId/payment-proof` in `recorded` mode over HTTP (§7.5.5): transfer proofs
 * on EVM and Solana, x402 header proofs, every validation reason, the reuse index (step 8) and the
 * redaction of payment headers (§9). The app has no payment RPC URL, so `rpc` mode answers
 * `PAYMENT_RPC_REQUIRED` here; verification against a real node is in payments-rpc.e2e.spec.ts.
 */

const T0 = '2026-05-04T10:00:00.000Z';
const OTHER = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
const SOLANA_PAYER = 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy';
/** A base58 Solana signature (88 characters). */
const SOLANA_TX = '5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW';

const provider = new X402Provider();
let closedUrl: string;

beforeAll(async () => {
  await provider.start();
  closedUrl = await closedPortUrl();
  provider.replies.set('/json', () => jsonChallenge(requirements('proof-suite')));
});
afterAll(async () => {
  await provider.stop();
});

describe('payment proofs, recorded (§7.5.5)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let orders: OrderApi;
  let payments: PaymentApi;
  let agent: OrderAgent;
  usePaymentAgent(
    {
      clock,
      catalog: () => paymentCatalogFile({ token: TOKEN, payTo: PAYEE, chainId: CHAIN_ID, providerUrl: provider.url, closedUrl }),
      env: () => CHAIN_ENV,
    },
    (app) => ({ t, orders, payments, agent } = app),
  );

  const now = () => clock.now().toISOString();
  /** An order of `serviceId` with its payment intent (`intent` is the intent body). */
  const pending = (serviceId = 'pay.wallet', intent: Record<string, unknown> = {}) => payments.placeWithIntent(agent, serviceId, intent);
  /** A transfer proof of the whole amount from PAYER to PAYEE, in lower case. */
  const transfer = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    txHash: randomTxHash(),
    amount: '2.5',
    fromAddress: PAYER.toLowerCase(),
    toAddress: PAYEE.toLowerCase(),
    ...extra,
  });
  /** The request must be refused with 400 `reason` at `pointer`, appending nothing. */
  async function rejected(orderId: string, body: unknown, pointer: string, reason?: string) {
    const response = await refusedWithoutEvents(t, () => payments.proof(orderId, agent.token, body));
    expectBodyIssue(response, pointer, reason);
    return response;
  }

  describe('EVM transfer proofs', () => {
    it('200: the payment is held with the proof as recorded (defaults from the record, hash lower-case, addresses EIP-55); the order goes ready', async () => {
      const { order, payment } = await pending();
      clock.advance(2000);
      const hex = randomTxHash().slice(2);
      const txHash = `0x${hex.toUpperCase()}`;

      const response = await payments.proof(order.id, agent.token, transfer({ txHash }));

      expect(response.status).toBe(200);
      expect(Object.keys(response.body)).toEqual(['item']);
      const item = response.body.item;
      expectPaymentShape(item);
      expect(item).toEqual({
        ...payment,
        status: 'held',
        heldAt: now(),
        updatedAt: now(),
        proof: {
          verificationMode: 'recorded',
          network: 'evm',
          txHash: `0x${hex}`,
          chainId: CHAIN_ID,
          tokenAddress: TOKEN,
          tokenDecimals: DECIMALS,
          amount: '2.5',
          fromAddress: PAYER,
          toAddress: PAYEE,
          blockNumber: null,
          confirmations: null,
          paymentHeadersFingerprint: null,
          settlement: null,
          recordedAt: now(),
        },
      });
      // Recorded: a wallet payment stays wallet (only rpc makes it wdk-usdt-transfer, §7.6 step 7).
      expect(item.type).toBe('wallet');
      expect(await payments.order(order.id)).toEqual(expect.objectContaining({ status: 'ready', updatedAt: now() }));
      expect((await payments.get(order.id)).body.item).toEqual(item);
      expect((await payments.orderEvents(order.id)).map((e) => e.type).slice(-2)).toEqual([
        'market_payment.proof_recorded',
        'market_order.ready',
      ]);
    });

    it('an amount above the expected one is accepted, and so is an equal one written differently', async () => {
      const above = await pending();
      expect((await payments.proof(above.order.id, agent.token, transfer({ amount: '3' }))).status).toBe(200);
      const equal = await pending();
      expect((await payments.proof(equal.order.id, agent.token, transfer({ amount: '2.500000' }))).status).toBe(200);
    });

    it('the order moves payment_pending → ready exactly once', async () => {
      const { order } = await pending();
      expect((await payments.order(order.id)).status).toBe('payment_pending');
      expect((await payments.proof(order.id, agent.token, transfer())).status).toBe(200);
      const moves = (await payments.orderEvents(order.id)).filter((e) => e.type === 'market_order.ready');
      expect(moves).toHaveLength(1);
      expect(moves[0].data).toEqual(expect.objectContaining({ from: 'payment_pending', to: 'ready' }));
    });

    it('the identical proof again (same network, chainId and txHash, any spelling) → 200 with the record unchanged, nothing appended', async () => {
      const { order } = await pending();
      const body = transfer();
      const first = await payments.proof(order.id, agent.token, body);
      expect(first.status).toBe(200);
      clock.advance(1000);
      const before = (await t.storedEvents()).length;

      const again = await payments.proof(order.id, agent.token, body);
      const spelled = await payments.proof(order.id, agent.token, {
        ...body,
        txHash: String(body.txHash).toUpperCase().replace('0X', '0x'),
        chainId: CHAIN_ID,
        network: 'evm',
      });

      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(spelled.status).toBe(200);
      expect(spelled.body).toEqual(first.body);
      expect(await t.storedEvents()).toHaveLength(before);
    });

    it('another proof once held → 409 STATE_CONFLICT payment_already_held', async () => {
      const { order, payment } = await pending();
      expect((await payments.proof(order.id, agent.token, transfer())).status).toBe(200);
      const response = await refusedWithoutEvents(t, () => payments.proof(order.id, agent.token, transfer()));
      expectError(response, 409, 'STATE_CONFLICT');
      expect(response.body.error.details).toEqual(
        expect.objectContaining({ entityType: 'market-payment', id: payment.id, status: 'held', reason: 'payment_already_held' }),
      );
    });

    it('no payment record → 409 STATE_CONFLICT payment_intent_missing', async () => {
      const order = await placeOrder(orders, agent, 'pay.wallet');
      const response = await refusedWithoutEvents(t, () => payments.proof(order.id, agent.token, transfer()));
      expectError(response, 409, 'STATE_CONFLICT');
      expect(response.body.error.details).toEqual(expect.objectContaining({ reason: 'payment_intent_missing' }));
    });

    it('a not_required payment → 409 STATE_CONFLICT payment_not_pending', async () => {
      const { order } = await pending('pay.free');
      const response = await refusedWithoutEvents(t, () => payments.proof(order.id, agent.token, transfer({ amount: '0.1' })));
      expectError(response, 409, 'STATE_CONFLICT');
      expect(response.body.error.details).toEqual(expect.objectContaining({ status: 'not_required', reason: 'payment_not_pending' }));
    });

    it('a refunded payment of an open order → 409 STATE_CONFLICT payment_not_pending', async () => {
      const { order } = await pending();
      const body = transfer();
      expect((await payments.proof(order.id, agent.token, body)).status).toBe(200);
      expect((await payments.refund(order.id)).status).toBe(200);
      expect((await payments.order(order.id)).status).toBe('ready');
      const response = await refusedWithoutEvents(t, () => payments.proof(order.id, agent.token, body));
      expectError(response, 409, 'STATE_CONFLICT');
      expect(response.body.error.details).toEqual(expect.objectContaining({ status: 'refunded', reason: 'payment_not_pending' }));
    });

    it('a cancelled order → 409 ORDER_CLOSED', async () => {
      const { order } = await pending();
      expect((await orders.cancel(order.id, agent.token, {})).status).toBe(200);
      const response = await refusedWithoutEvents(t, () => payments.proof(order.id, agent.token, transfer()));
      expectError(response, 409, 'ORDER_CLOSED');
      expect(response.body.error.details).toEqual({ orderId: order.id, status: 'cancelled' });
    });

    it('the required members of a transfer proof: one error per missing member', async () => {
      const { order } = await pending();
      const response = await refusedWithoutEvents(t, () => payments.proof(order.id, agent.token, {}));
      expectError(response, 400, 'VALIDATION_ERROR');
      const paths = response.body.error.details.errors.map((e: Json) => e.path).sort();
      expect(paths).toEqual(['/amount', '/fromAddress', '/toAddress', '/txHash']);
    });

    it.each([
      ['a short txHash', { txHash: '0x1234' }, '/txHash', undefined],
      ['a txHash without 0x', { txHash: randomTxHash().slice(2) }, '/txHash', undefined],
      ['a malformed fromAddress', { fromAddress: '0xabc' }, '/fromAddress', 'invalid_address'],
      ['a toAddress with a broken checksum', { toAddress: PAYEE.replace('BC', 'bc') }, '/toAddress', 'invalid_address'],
      ['an amount with an exponent', { amount: '2.5e0' }, '/amount', undefined],
      ['a negative amount', { amount: '-2.5' }, '/amount', undefined],
      ['an amount with a thousands separator', { amount: '2,5' }, '/amount', undefined],
      ['a numeric amount', { amount: 2.5 }, '/amount', undefined],
      ['an unknown member', { memo: 'hi' }, '', undefined],
    ])('%s → 400 VALIDATION_ERROR', async (_name, extra, pointer, reason) => {
      const { order } = await pending();
      await rejected(order.id, transfer(extra), pointer, reason);
    });

    it('network solana on an EVM payment → 400 network_mismatch', async () => {
      const { order } = await pending();
      await rejected(order.id, transfer({ network: 'solana' }), '/network', 'network_mismatch');
    });

    it('a chainId other than the record’s → 400 chain_mismatch', async () => {
      const { order } = await pending();
      await rejected(order.id, transfer({ chainId: 1 }), '/chainId', 'chain_mismatch');
    });

    it('more fractional digits than tokenDecimals → 400 amount_precision; a request tokenDecimals raises the bound', async () => {
      const { order } = await pending();
      await rejected(order.id, transfer({ amount: '2.5000001' }), '/amount', 'amount_precision');
      const response = await payments.proof(order.id, agent.token, transfer({ amount: '2.5000001', tokenDecimals: 18 }));
      expect(response.status).toBe(200);
      expect(response.body.item.proof).toEqual(expect.objectContaining({ amount: '2.5000001', tokenDecimals: 18 }));
    });

    it('an amount below the expected one → 400 amount_below_expected', async () => {
      const { order } = await pending();
      await rejected(order.id, transfer({ amount: '2.49' }), '/amount', 'amount_below_expected');
      await rejected(order.id, transfer({ amount: '0' }), '/amount', 'amount_below_expected');
    });

    it('a toAddress other than payTo → 400 recipient_mismatch (EVM comparison is case-insensitive)', async () => {
      const { order } = await pending();
      await rejected(order.id, transfer({ toAddress: OTHER }), '/toAddress', 'recipient_mismatch');
      expect((await payments.proof(order.id, agent.token, transfer({ toAddress: PAYEE }))).status).toBe(200);
    });

    it('with a payerAddress on the intent: another fromAddress → 400 payer_mismatch; the payer in any case → 200', async () => {
      const { order, payment } = await pending('pay.wallet', { payerAddress: PAYER });
      expect(payment.payerAddress).toBe(PAYER);
      await rejected(order.id, transfer({ fromAddress: OTHER }), '/fromAddress', 'payer_mismatch');
      const response = await payments.proof(order.id, agent.token, transfer({ fromAddress: PAYER.toUpperCase().replace('0X', '0x') }));
      expect(response.status).toBe(200);
      expect(response.body.item.proof.fromAddress).toBe(PAYER);
    });

    it('a request tokenAddress overrides the record’s and is stored EIP-55', async () => {
      const { order } = await pending();
      const response = await payments.proof(order.id, agent.token, transfer({ tokenAddress: OTHER.toLowerCase() }));
      expect(response.status).toBe(200);
      expect(response.body.item.proof.tokenAddress).toBe(OTHER);
    });

    it('rpc without a resolvable tokenAddress → 400 token_address_required (before any RPC question)', async () => {
      // pay.base: chain 8453, no catalogued token, and PEAQOS_USDT_CONTRACT is for chain 31337 only.
      const { order, payment } = await pending('pay.base');
      expect(payment.tokenAddress).toBeNull();
      await rejected(
        order.id,
        transfer({ amount: '1', toAddress: OTHER, verificationMode: 'rpc' }),
        '/tokenAddress',
        'token_address_required',
      );
    });

    it('rpc without a payment RPC URL → 503 PAYMENT_RPC_REQUIRED with Retry-After; nothing stored, and the transaction stays free', async () => {
      const { order } = await pending();
      const body = transfer({ verificationMode: 'rpc' });
      const response = await refusedWithoutEvents(t, () => payments.proof(order.id, agent.token, body));
      expectError(response, 503, 'PAYMENT_RPC_REQUIRED');
      expect(response.headers['retry-after']).toBe('5');
      expect((await payments.get(order.id)).body.item.status).toBe('intent_created');

      const other = await pending();
      const recorded = await payments.proof(other.order.id, agent.token, { ...body, verificationMode: 'recorded' });
      expect(recorded.status).toBe(200);
    });

    it('transfer proofs with paymentHeaders: the fingerprint of the present members is recorded, the values are not', async () => {
      const { order } = await pending();
      const headers = { authorization: `Bearer transfer-${randomUUID()}` };
      const response = await payments.proof(order.id, agent.token, transfer({ paymentHeaders: headers }));
      expect(response.status).toBe(200);
      expect(response.body.item.proof.paymentHeadersFingerprint).toBe(headersFingerprint(headers));
      expect(response.text).not.toContain(headers.authorization);
    });
  });

  describe('Solana transfer proofs (always recorded)', () => {
    const solana = (extra: Record<string, unknown> = {}) => ({
      txHash: SOLANA_TX,
      amount: '1',
      fromAddress: SOLANA_PAYER,
      toAddress: SOLANA_PAY_TO,
      ...extra,
    });

    it('200: held with the proof as given; chainId null; token and decimals from the record', async () => {
      const { order } = await pending('pay.solana');
      const response = await payments.proof(order.id, agent.token, solana());
      expect(response.status).toBe(200);
      expect(response.body.item.status).toBe('held');
      expect(response.body.item.proof).toEqual({
        verificationMode: 'recorded',
        network: 'solana',
        txHash: SOLANA_TX,
        chainId: null,
        tokenAddress: SOLANA_MINT,
        tokenDecimals: DECIMALS,
        amount: '1',
        fromAddress: SOLANA_PAYER,
        toAddress: SOLANA_PAY_TO,
        blockNumber: null,
        confirmations: null,
        paymentHeadersFingerprint: null,
        settlement: null,
        recordedAt: now(),
      });
    });

    it('verificationMode rpc → 400 rpc_not_supported_for_solana', async () => {
      const { order } = await pending('pay.solana');
      await rejected(
        order.id,
        solana({ txHash: SOLANA_TX.slice(0, 80), verificationMode: 'rpc' }),
        '/verificationMode',
        'rpc_not_supported_for_solana',
      );
    });

    it.each([
      ['a chainId', { chainId: 1 }, '/chainId', 'invalid_chain_id'],
      ['an EVM txHash', { txHash: randomTxHash() }, '/txHash', undefined],
      ['an EVM fromAddress', { fromAddress: PAYER }, '/fromAddress', 'invalid_address'],
      [
        'the payee in another case (Solana compares exactly)',
        { toAddress: SOLANA_PAY_TO.toLowerCase() },
        '/toAddress',
        'recipient_mismatch',
      ],
      ['network evm', { network: 'evm' }, '/network', 'network_mismatch'],
    ])('%s → 400', async (_name, extra, pointer, reason) => {
      const { order } = await pending('pay.solana');
      await rejected(order.id, solana({ txHash: SOLANA_TX.slice(0, 70), ...extra }), pointer, reason);
    });
  });

  describe('x402 header proofs', () => {
    const header = () => ({ xPayment: `x-payment-${randomUUID()}` });

    it('200: held, always recorded, the fingerprint of the headers and the record’s defaults; the order goes ready', async () => {
      const { order, payment } = await pending('x402.json');
      clock.advance(1000);
      const headers = header();
      const response = await payments.proof(order.id, agent.token, { paymentHeaders: headers });
      expect(response.status).toBe(200);
      expect(response.body.item).toEqual({
        ...payment,
        status: 'held',
        heldAt: now(),
        updatedAt: now(),
        proof: {
          verificationMode: 'recorded',
          network: 'evm',
          txHash: null,
          chainId: 8453,
          tokenAddress: null,
          tokenDecimals: DECIMALS,
          amount: null,
          fromAddress: null,
          toAddress: null,
          blockNumber: null,
          confirmations: null,
          paymentHeadersFingerprint: headersFingerprint(headers),
          settlement: null,
          recordedAt: now(),
        },
      });
      expect(response.body.item.proof.paymentHeadersFingerprint).toMatch(SHA256_HEX);
      expect(await payments.order(order.id)).toEqual(expect.objectContaining({ status: 'ready' }));
    });

    it('paymentSignature alone is a payment header; optional transfer members are validated and recorded', async () => {
      const { order } = await pending('x402.json');
      const headers = { paymentSignature: `sig-${randomUUID()}` };
      const txHash = randomTxHash();
      const response = await payments.proof(order.id, agent.token, {
        paymentHeaders: headers,
        txHash,
        amount: '0.01',
        fromAddress: PAYER.toLowerCase(),
      });
      expect(response.status).toBe(200);
      expect(response.body.item.proof).toEqual(
        expect.objectContaining({ txHash, amount: '0.01', fromAddress: PAYER, paymentHeadersFingerprint: headersFingerprint(headers) }),
      );
    });

    it.each([
      ['no paymentHeaders', {}],
      ['only authorization', { paymentHeaders: { authorization: 'Bearer t' } }],
      ['only signInWithX', { paymentHeaders: { signInWithX: 'siwx' } }],
    ])('%s → 400 payment_header_required', async (_name, body) => {
      const { order } = await pending('x402.json');
      await rejected(order.id, body, '/paymentHeaders', 'payment_header_required');
    });

    it('verificationMode rpc → 400 rpc_not_supported_for_rail', async () => {
      const { order } = await pending('x402.json');
      await rejected(order.id, { paymentHeaders: header(), verificationMode: 'rpc' }, '/verificationMode', 'rpc_not_supported_for_rail');
    });

    it('a payment header that is empty or too long → 400', async () => {
      const { order } = await pending('x402.json');
      expectError(await payments.proof(order.id, agent.token, { paymentHeaders: { xPayment: '' } }), 400, 'VALIDATION_ERROR');
      expectError(
        await payments.proof(order.id, agent.token, { paymentHeaders: { xPayment: 'x'.repeat(16_385) } }),
        400,
        'VALIDATION_ERROR',
      );
    });

    it('the same headers again → 200 unchanged; other headers → 409 payment_already_held', async () => {
      const { order } = await pending('x402.json');
      const headers = header();
      const first = await payments.proof(order.id, agent.token, { paymentHeaders: headers });
      expect(first.status).toBe(200);
      const again = await payments.proof(order.id, agent.token, { paymentHeaders: headers });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      const other = await refusedWithoutEvents(t, () => payments.proof(order.id, agent.token, { paymentHeaders: header() }));
      expectError(other, 409, 'STATE_CONFLICT');
      expect(other.body.error.details).toEqual(expect.objectContaining({ reason: 'payment_already_held' }));
    });
  });

  describe('reuse (§7.5.5 step 8)', () => {
    it('the same transaction for a second order → 409 PAYMENT_PROOF_REUSED { orderId, txHash }, in any spelling; nothing stored', async () => {
      const first = await pending();
      const body = transfer();
      expect((await payments.proof(first.order.id, agent.token, body)).status).toBe(200);

      const second = await pending();
      for (const txHash of [body.txHash, String(body.txHash).toUpperCase().replace('0X', '0x')]) {
        const response = await refusedWithoutEvents(t, () => payments.proof(second.order.id, agent.token, { ...body, txHash }));
        expectError(response, 409, 'PAYMENT_PROOF_REUSED');
        expect(response.body.error.details).toEqual({ orderId: first.order.id, txHash: body.txHash });
      }
      expect((await payments.get(second.order.id)).body.item.status).toBe('intent_created');
    });

    it('still reused after the first payment was refunded (any status)', async () => {
      const first = await pending();
      const body = transfer();
      expect((await payments.proof(first.order.id, agent.token, body)).status).toBe(200);
      expect((await payments.refund(first.order.id, { reason: 'returned' })).status).toBe(200);
      const second = await pending();
      const response = await payments.proof(second.order.id, agent.token, body);
      expectError(response, 409, 'PAYMENT_PROOF_REUSED');
      expect(response.body.error.details.orderId).toBe(first.order.id);
    });

    it('the same hash on another chain is another transaction', async () => {
      const first = await pending();
      const body = transfer();
      expect((await payments.proof(first.order.id, agent.token, body)).status).toBe(200);
      const onMainnet = await pending('pay.wallet', { chainId: 1 });
      const response = await payments.proof(onMainnet.order.id, agent.token, body);
      expect(response.status).toBe(200);
      expect(response.body.item.proof.chainId).toBe(1);
    });

    it('a rejected proof claims nothing: the transaction can back another order afterwards', async () => {
      const a = await pending();
      const body = transfer();
      await rejected(a.order.id, { ...body, amount: '1' }, '/amount', 'amount_below_expected');
      const b = await pending();
      expect((await payments.proof(b.order.id, agent.token, body)).status).toBe(200);
    });

    it('two concurrent proofs of one transaction for two orders: exactly one wins, the other gets PAYMENT_PROOF_REUSED naming it', async () => {
      const a = await pending();
      const b = await pending();
      const body = transfer();
      const [ra, rb] = await Promise.all([payments.proof(a.order.id, agent.token, body), payments.proof(b.order.id, agent.token, body)]);

      expect([ra.status, rb.status].sort()).toEqual([200, 409]);
      const [winner, loser] = ra.status === 200 ? [a, b] : [b, a];
      const lost = ra.status === 200 ? rb : ra;
      expectError(lost, 409, 'PAYMENT_PROOF_REUSED');
      expect(lost.body.error.details).toEqual({ orderId: winner.order.id, txHash: body.txHash });
      expect((await payments.get(winner.order.id)).body.item.status).toBe('held');
      expect((await payments.get(loser.order.id)).body.item.status).toBe('intent_created');
      expect((await payments.orderEvents(loser.order.id)).map((e) => e.type)).not.toContain('market_payment.proof_recorded');
    });

    it('the same x402 payment header for two orders → 409 PAYMENT_PROOF_REUSED { orderId } (no transaction)', async () => {
      const a = await pending('x402.json');
      const b = await pending('x402.json');
      const headers = { xPayment: `shared-${randomUUID()}` };
      expect((await payments.proof(a.order.id, agent.token, { paymentHeaders: headers })).status).toBe(200);
      const response = await refusedWithoutEvents(t, () => payments.proof(b.order.id, agent.token, { paymentHeaders: headers }));
      expectError(response, 409, 'PAYMENT_PROOF_REUSED');
      expect(response.body.error.details).toEqual({ orderId: a.order.id });
    });
  });

  describe('redaction of payment headers (§9)', () => {
    it('raw header values are in no stored event, no idempotency record and no SQLite file; the proof carries their fingerprint', async () => {
      const marker = randomUUID().replace(/-/g, '');
      const idempotencyKey = randomUUID();
      const secrets = {
        intentAuthorization: `Bearer intent-auth-${marker}`,
        intentSignIn: `siwx-intent-${marker}`,
        xPayment: `eyJ4NDAyVmVyc2lvbiI6MX0-xpay-${marker}`,
        paymentSignature: `0xsig-${marker}`,
        authorization: `Bearer proof-auth-${marker}`,
        transferAuthorization: `Bearer transfer-auth-${marker}`,
      };

      const x402 = await pending('x402.json', {
        paymentHeaders: { authorization: secrets.intentAuthorization, signInWithX: secrets.intentSignIn },
      });
      const headers = { xPayment: secrets.xPayment, paymentSignature: secrets.paymentSignature, authorization: secrets.authorization };
      const proof = await payments.proof(x402.order.id, agent.token, { paymentHeaders: headers }, { 'idempotency-key': idempotencyKey });
      expect(proof.status).toBe(200);
      expect(proof.body.item.proof.paymentHeadersFingerprint).toBe(headersFingerprint(headers));
      // The canonical form sorts members by name: authorization, paymentSignature, xPayment.
      expect(proof.body.item.proof.paymentHeadersFingerprint).toBe(
        headersFingerprint({
          authorization: secrets.authorization,
          paymentSignature: secrets.paymentSignature,
          xPayment: secrets.xPayment,
        }),
      );
      const replay = await payments.proof(x402.order.id, agent.token, { paymentHeaders: headers }, { 'idempotency-key': idempotencyKey });
      expect(replay.status).toBe(200);
      expect(replay.headers['idempotency-replayed']).toBe('true');

      const wallet = await pending();
      const transferHeaders = { authorization: secrets.transferAuthorization };
      const transferProof = await payments.proof(wallet.order.id, agent.token, transfer({ paymentHeaders: transferHeaders }));
      expect(transferProof.status).toBe(200);
      expect(transferProof.body.item.proof.paymentHeadersFingerprint).toBe(headersFingerprint(transferHeaders));

      const events = JSON.stringify(await t.storedEvents({ includeInternal: true }));
      const files = dataFilesText(t);
      const reads = (await payments.get(x402.order.id)).text + (await payments.get(wallet.order.id)).text;
      for (const secret of Object.values(secrets)) {
        expect(events).not.toContain(secret);
        expect(files).not.toContain(secret);
        expect(reads).not.toContain(secret);
      }
      // The unique marker is nowhere either (not even in a partial or differently escaped copy).
      expect(events).not.toContain(marker);
      expect(files).not.toContain(marker);
      // The fingerprints are what is kept (and the files were read: the event store holds them).
      expect(events).toContain(headersFingerprint(headers));
      expect(events).toContain(headersFingerprint(transferHeaders));
      expect(files).toContain(headersFingerprint(headers));
      for (const path of [t.paths.sqlite, t.paths.readModel]) expect(existsSync(path)).toBe(true);
    });
  });
});
