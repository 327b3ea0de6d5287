import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProviderInvocation } from '../../src/application/ports/provider-adapter.port';
import { MARKET_ORDER_STATUSES } from '../../src/domain/order/order-status';
import { MARKET_PAYMENT_STATUSES } from '../../src/domain/order/payment-status';
import { MARKET_ORDERS } from '../../src/infrastructure/orders/orders.projection';
import { ProjectionEngine } from '../../src/infrastructure/projections/projection-engine';
import { closedPortUrl } from '../support/anvil';
import { fileService, fixedPrice, writeCatalogFile } from '../support/catalog-fixture';
import { ControllableClock } from '../support/controllable-clock';
import { OrderAgent, OrderApi, UnverifiedFixtures } from '../support/order-api';
import { acmeCatalogFile, FREE_PAYMENT, X402_PAYMENT } from '../support/order-catalog';
import {
  CHAIN_ENV,
  jsonChallenge,
  Json,
  onChainPayment,
  PAYEE,
  PAYER,
  PaymentApi,
  placeOrder,
  randomTxHash,
  requirements,
  UNVERIFIED,
  X402Provider,
} from '../support/payment-api';
import { jsonAnswer, ScriptedProviderAdapter, scriptedProviderAdapters } from '../support/scripted-provider-adapter';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';

/**
 * ARCHITECTURE §4: a rebuilt read model equals the live one, for `market_orders` (orders and their
 * payments, §7.2). Live, the projection applies small batches (one command's events); a rebuild
 * replays `$all` in batches of up to 1,000 events, so one batch holds every event of every order here
 * and `applyBatch` folds many events of many orders at once. Orders are moved over HTTP into every
 * status and most payment statuses, on two machines; every list page (with and without filters), every
 * order and every payment is read before and after the rebuild, and so are the raw rows (the columns
 * the lists, open-order checks and daily spend filter on).
 */

const T0 = '2026-07-01T08:00:00.000Z';
const SETTLEMENT_TX = '0x8f3c1d2b4a5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8';
const PAYMENT_RESPONSE = Buffer.from(JSON.stringify({ success: true, transaction: SETTLEMENT_TX, network: 'base' })).toString('base64');
const RENEWED_CHALLENGE = requirements('rebuild-renewed');

/** Answers the x402 challenge of `payment-intent` (§7.5.4 step 7); execution goes through the scripted adapter. */
const provider = new X402Provider();

/**
 * The provider answers of `execute`: `svc.broken` fails with a 500; `svc.x402` settles a payment whose
 * header does not start with `reject` and renews the challenge otherwise; everything else answers a price.
 */
function reply(invocation: ProviderInvocation) {
  if (invocation.service.id === 'svc.broken') return jsonAnswer({ error: 'boom' }, 500);
  if (invocation.service.id === 'svc.x402') {
    if (invocation.paymentHeaders?.xPayment?.startsWith('reject')) return jsonAnswer(RENEWED_CHALLENGE, 402);
    return { ...jsonAnswer({ price: 1.5 }), extras: { paymentResponse: PAYMENT_RESPONSE, challengeHeaders: {} } };
  }
  return jsonAnswer({ price: 3120.5, symbol: invocation.input.symbol });
}

const endpoint = (url: string) => [{ url, method: 'POST', protocols: [], networks: [] }];

const catalog = (): Json =>
  acmeCatalogFile([
    fileService('svc.free', { pricing: fixedPrice(0.1, 'USDT'), payment: FREE_PAYMENT, endpoints: endpoint('http://127.0.0.1:9/free') }),
    fileService('svc.broken', {
      pricing: fixedPrice(0.1, 'USDT'),
      payment: FREE_PAYMENT,
      endpoints: endpoint('http://127.0.0.1:9/broken'),
    }),
    fileService('svc.wallet', {
      pricing: fixedPrice(2.5, 'USDT'),
      payment: onChainPayment(['wallet']),
      endpoints: endpoint('http://127.0.0.1:9/wallet'),
    }),
    fileService('svc.escrow', {
      pricing: fixedPrice(2.5, 'USDT'),
      payment: onChainPayment(['escrow']),
      endpoints: endpoint('http://127.0.0.1:9/escrow'),
    }),
    fileService('svc.x402', {
      pricing: fixedPrice(0.01, 'USDC'),
      payment: X402_PAYMENT,
      endpoints: [{ url: `${provider.url}/x402`, method: 'POST', protocols: ['x402'], networks: ['base'] }],
    }),
    fileService('svc.handoff', {
      pricing: fixedPrice(0.1, 'USDT'),
      payment: FREE_PAYMENT,
      endpoints: [],
      executionMode: 'external-handoff',
      integrationStatus: 'setup-required',
      handoff: { label: 'Acme console', url: 'https://console.acme.example/run', notes: ['Sign in first.'] },
    }),
  ]);

describe('rebuilding the market_orders read model (ARCHITECTURE §4)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let dir: string;
  let orders: OrderApi;
  let payments: PaymentApi;

  // startTestApp of ../support/test-app, not usePaymentApp: `npm run test:eventstoredb` runs this suite on the real server.
  beforeAll(async () => {
    await provider.start();
    provider.replies.set('/x402', () => jsonChallenge(requirements('rebuild-initial')));
    dir = mkdtempSync(join(tmpdir(), 'peaqos-orders-rebuild-'));
    t = await startTestApp({
      clock,
      providers: [scriptedProviderAdapters(new ScriptedProviderAdapter(reply))],
      env: {
        ...UNVERIFIED,
        PEAQOS_MCR_API_URL: await closedPortUrl(),
        PEAQOS_CATALOG_PATH: writeCatalogFile(dir, catalog()),
        ...CHAIN_ENV,
      },
    });
    orders = new OrderApi(t);
    payments = new PaymentApi(t);
  });
  afterAll(async () => {
    await t?.close();
    await provider.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const tick = () => clock.advance(1000);
  /** `response` must answer `status`; its item is returned. */
  function ok(response: TestResponse, status = 200): Json {
    if (response.status !== status) throw new Error(`expected ${status}, got ${response.status} ${response.text}`);
    return response.body.item;
  }
  const execute = (agent: OrderAgent, orderId: string, body: Json = {}) => orders.execute(orderId, agent.token, body);
  const transfer = () => ({ txHash: randomTxHash(), amount: '2.5', fromAddress: PAYER, toAddress: PAYEE });

  /** An order of `serviceId` by `agent`, moved through `steps` (each after a clock tick); its final status is checked. */
  async function order(agent: OrderAgent, serviceId: string, steps: string[], status: string): Promise<string> {
    const { id } = await placeOrder(orders, agent, serviceId);
    for (const step of steps) {
      tick();
      switch (step) {
        case 'intent':
          ok(await payments.intent(id, agent.token, {}), 201);
          break;
        case 'proof':
          ok(await payments.proof(id, agent.token, transfer()));
          break;
        case 'escrow-lock':
          ok(await payments.escrowLock(id, agent.token, {}));
          break;
        case 'execute':
          await execute(agent, id); // a failing provider answers 502: the status check below tells
          break;
        case 'execute-x402':
          ok(await execute(agent, id, { paymentHeaders: { xPayment: `pay-${id}` } }));
          break;
        case 'execute-x402-rejected':
          await execute(agent, id, { paymentHeaders: { xPayment: `reject-${id}` } });
          break;
        case 'confirm':
          ok(await orders.confirm(id, agent.token));
          break;
        case 'dispute':
          ok(await orders.dispute(id, agent.token, { reason: 'wrong price', evidence: { seen: 1 } }));
          break;
        case 'cancel':
          ok(await orders.cancel(id, agent.token, { reason: 'not needed' }));
          break;
        case 'release':
          ok(await payments.release(id));
          break;
        case 'refund':
          ok(await payments.refund(id, { reason: 'provider was wrong' }));
          break;
        default:
          throw new Error(`unknown step ${step}`);
      }
    }
    const item = await payments.order(id);
    if (item.status !== status) throw new Error(`order ${serviceId} ${steps.join(' → ')}: ${item.status}, expected ${status}`);
    return id;
  }

  /** Every page of the list (limit 3: several pages), as answered, cursors included. */
  async function pages(query: Record<string, string>): Promise<Json[]> {
    const answered: Json[] = [];
    let cursor: string | undefined;
    do {
      const response = await orders.list({ ...query, limit: '3', cursor });
      answered.push({ status: response.status, body: response.body });
      cursor = response.body?.nextCursor;
    } while (cursor !== undefined && answered.length < 50);
    return answered;
  }

  async function snapshot(agents: OrderAgent[], orderIds: string[]) {
    const machineIds = [...new Set(agents.map((a) => a.machineId))];
    const lists: Record<string, Json> = {};
    for (const machineId of machineIds) {
      lists[machineId] = {
        all: await pages({ machineId }),
        byStatus: Object.fromEntries(
          await Promise.all(MARKET_ORDER_STATUSES.map(async (status) => [status, await pages({ machineId, status })])),
        ),
        byPairing: await Promise.all(
          agents.filter((a) => a.machineId === machineId).map((a) => pages({ machineId, agentPairingId: a.pairingId })),
        ),
      };
    }
    const each: Record<string, Json> = {};
    for (const id of orderIds) {
      const [o, p] = [await orders.get(id), await payments.get(id)];
      each[id] = { order: { status: o.status, body: o.body }, payment: { status: p.status, body: p.body } };
    }
    const rows = t.app
      .get(ProjectionEngine)
      .reader(MARKET_ORDERS)
      .all<Record<string, string | null>>(`SELECT * FROM {market_orders} ORDER BY id`)
      .map((row): Record<string, Json> => ({
        ...row,
        doc: JSON.parse(row.doc!),
        payment: row.payment === null ? null : JSON.parse(row.payment),
      }));
    return { lists, each, rows };
  }

  it('answers every list, order and payment the same after a rebuild, and keeps applying live events after it', async () => {
    const started = Date.now();
    const fx = new UnverifiedFixtures(t);
    const a1 = await fx.agent();
    const a2 = await fx.pair(a1.machineId);
    const b1 = await fx.agent();
    const agents = [a1, a2, b1];

    const ids = [
      await order(a1, 'svc.free', [], 'created'),
      await order(a2, 'svc.free', ['cancel'], 'cancelled'),
      await order(a1, 'svc.wallet', ['intent'], 'payment_pending'),
      await order(a1, 'svc.wallet', ['intent', 'proof'], 'ready'),
      await order(a2, 'svc.wallet', ['intent', 'proof', 'execute'], 'delivered'),
      await order(a1, 'svc.wallet', ['intent', 'proof', 'execute', 'confirm'], 'confirmed'),
      await order(a1, 'svc.wallet', ['intent', 'proof', 'execute', 'confirm', 'release'], 'confirmed'),
      await order(a2, 'svc.wallet', ['intent', 'proof', 'execute', 'dispute', 'refund'], 'disputed'),
      await order(a1, 'svc.wallet', ['intent', 'cancel'], 'cancelled'),
      await order(a1, 'svc.escrow', ['intent', 'escrow-lock', 'execute', 'dispute'], 'disputed'),
      await order(a1, 'svc.broken', ['execute'], 'failed'),
      await order(a2, 'svc.handoff', ['execute'], 'handoff'),
      await order(a1, 'svc.x402', ['intent', 'execute-x402'], 'confirmed'),
      await order(a1, 'svc.x402', ['intent', 'execute-x402-rejected'], 'payment_pending'),
      await order(a1, 'svc.free', ['execute', 'confirm'], 'confirmed'),
      await order(a2, 'svc.free', ['intent', 'execute'], 'delivered'),
      await order(b1, 'svc.free', [], 'created'),
      await order(b1, 'svc.free', ['execute'], 'delivered'),
      await order(b1, 'svc.wallet', ['intent', 'proof'], 'ready'),
      await order(b1, 'svc.wallet', ['intent', 'proof', 'execute', 'confirm', 'release'], 'confirmed'),
      await order(b1, 'svc.free', ['cancel'], 'cancelled'),
    ];
    // Two orders with the same createdAt (no tick): the lists break the tie by id.
    ids.push(await order(b1, 'svc.free', [], 'created'), await order(b1, 'svc.free', [], 'created'));

    const before = await snapshot(agents, ids);
    // What is compared is not empty: every order status but `executing`, and every payment status.
    const seen = (column: string) => new Set(before.rows.map((r) => r[column]));
    expect(MARKET_ORDER_STATUSES.filter((s) => !seen('status').has(s))).toEqual(['executing']);
    expect(MARKET_PAYMENT_STATUSES.filter((s) => !seen('payment_status').has(s))).toEqual([]);
    expect(before.rows).toHaveLength(ids.length);
    expect(before.lists[a1.machineId].all.length).toBeGreaterThan(3);
    for (const id of ids) expect(before.each[id].order.status).toBe(200);

    const engine = t.app.get(ProjectionEngine);
    const { processed } = await engine.rebuild(MARKET_ORDERS);
    expect(processed).toBeGreaterThan(ids.length);
    expect(await snapshot(agents, ids)).toEqual(before);

    // Live events still land in the rebuilt generation, and a second rebuild agrees with them.
    tick();
    ok(await orders.confirm(ids[4], a2.token));
    ok(await orders.cancel(ids[0], a1.token, {}));
    const live = await snapshot(agents, ids);
    expect(live.each[ids[4]].order.body.item.status).toBe('confirmed');
    expect(live.each[ids[0]].order.body.item.status).toBe('cancelled');
    expect(live).not.toEqual(before);
    await engine.rebuild(MARKET_ORDERS);
    expect(await snapshot(agents, ids)).toEqual(live);

    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
