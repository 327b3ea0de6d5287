import { randomUUID } from 'node:crypto';
import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import { dataFilesText, UNKNOWN_MACHINE_ID } from '../support/machine-api';
import { expectAuthInvalid, expectInactive, UNKNOWN_PAIRING_ID } from '../support/pairing-api';
import {
  compareDecimalStrings,
  expectNotFound,
  expectOrderShape,
  expectPolicyDenied,
  LONG_SESSIONS,
  ORDER_ID,
  OrderAgent,
  OrderApi,
  sumDecimals,
  UNKNOWN_QUOTE_ID,
  UNKNOWN_SEARCH_ID,
  UNSET_ON_CREATE,
  UnverifiedFixtures,
} from '../support/order-api';
import { FIXED_PAY_TO, FIXED_TOKEN, orderCatalogFile } from '../support/order-catalog';
import { UNVERIFIED } from '../support/payment-api';
import { expectBodyIssue, Json, refusedWithoutEvents, SearchApi, useSearchApp } from '../support/search-api';
import { TestApp, TestResponse } from '../support/test-app';

/**
 * `POST /market/orders` over HTTP (§7.5.2, §7.3, §5.7, §8.6, §9). Identity and pairing proofs are off
 * (`disabled`) here: what is tested is the order, not the identity; orders-lifecycle.e2e.spec.ts keeps
 * one walk in the default required modes with real signatures.
 */

const T0 = '2026-05-04T10:00:00.000Z';
/** Not the default, so that `expiresAt` is the variable's effect (§2.2). */
const QUOTE_TTL_MS = 60_000;
const CATALOG = orderCatalogFile();
const REDACTED = '[REDACTED]';

/** The catalogued payment recommendation of a service (as the catalogue file has it). */
const cataloguedPayment = (serviceId: string): Json => CATALOG.services.find((s: Json) => s.id === serviceId).payment;

/** §7.2 `payment`: the recommendation with `amount`/`currency` replaced by the effective ones (omitted when unknown). */
function expectedPayment(serviceId: string, effective: { amount?: string; currency?: string }): Json {
  const { amount: _amount, currency: _currency, ...rest } = cataloguedPayment(serviceId);
  return { ...rest, ...effective };
}

/** The quote of `serviceId` in a search result. */
function quoteOf(result: Json, serviceId: string): Json {
  const quote = result.quotes.find((q: Json) => q.serviceId === serviceId);
  if (!quote) throw new Error(`no quote for ${serviceId}: ${JSON.stringify(result.quotes.map((q: Json) => q.serviceId))}`);
  return quote;
}

describe('POST /api/v1/market/orders (§7.5.2)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let search: SearchApi;
  let orders: OrderApi;
  let fx: UnverifiedFixtures;
  useSearchApp(
    { clock, catalog: CATALOG, env: { ...UNVERIFIED, ...LONG_SESSIONS, PEAQOS_MARKET_QUOTE_TTL_MS: String(QUOTE_TTL_MS) } },
    (app) => {
      ({ t, search } = app);
      orders = new OrderApi(t);
      fx = new UnverifiedFixtures(t);
    },
  );

  const now = () => clock.now().toISOString();
  const today = () => now().slice(0, 10);
  /** The order request of `agent` (its machine and token), which must be refused without any event. */
  const refused = (agent: OrderAgent, body: Record<string, unknown>, token: string | null = agent.token) =>
    refusedWithoutEvents(t, () => orders.create({ machineId: agent.machineId, ...body }, token ?? undefined));

  /** A search as the agent over the price feeds (every orderable feed quoted), failing loudly unless it answers 201. */
  async function searchAs(agent: OrderAgent, body: Record<string, unknown> = {}): Promise<Json> {
    const response = await search.search(
      { machineId: agent.machineId, skillKey: 'oracle.price-feed', maxResults: 50, ...body },
      agent.token,
    );
    if (response.status !== 201) throw new Error(`search: ${response.status} ${response.text}`);
    return response.body.item;
  }

  describe('the created order (§7.2, §7.5.2 step 10)', () => {
    let agent: OrderAgent;
    beforeAll(async () => {
      agent = await fx.agent();
    });

    it('answers 201 with exactly the MarketOrderRecord members, stores market_order.created and agent_pairing.order_registered', async () => {
      const detail = await t.inject({ method: 'GET', url: '/api/v1/market/services/feed.fixed' });
      expect(detail.status).toBe(200);
      const before = await t.storedEvents();

      const response = await orders.create(
        {
          machineId: agent.machineId,
          serviceId: 'feed.fixed',
          input: { symbol: 'ETH/USD', note: 'extra keys are allowed' },
          // The service's known price wins over the budget (§7.3 source 2 before 3).
          budget: { amount: 3, currency: 'eur' },
        },
        agent.token,
      );

      expect(response.status).toBe(201);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(Object.keys(response.body)).toEqual(['item']);
      const item = response.body.item;
      expectOrderShape(item);
      expect(item).toEqual({
        id: expect.stringMatching(ORDER_ID),
        machineId: agent.machineId,
        agentPairingId: agent.pairingId,
        searchId: null,
        quoteId: null,
        serviceId: 'feed.fixed',
        skillKey: 'oracle.price-feed',
        providerKey: 'acme',
        serviceType: 'oracle.price-feed',
        operation: 'get-price',
        executionMode: 'native',
        integrationStatus: 'native',
        status: 'created',
        input: { symbol: 'ETH/USD', note: 'extra keys are allowed' },
        budget: { amount: 3, currency: 'EUR' },
        payment: {
          defaultRail: 'wallet',
          required: true,
          supportedRails: ['wallet', 'escrow'],
          amount: '0.5',
          currency: 'USDT',
          payTo: FIXED_PAY_TO,
          network: 'peaq',
          tokenAddress: FIXED_TOKEN,
        },
        // The MarketServiceDetail at creation time, without machineContext.
        serviceSnapshot: detail.body.item,
        ...UNSET_ON_CREATE,
        createdAt: now(),
        updatedAt: now(),
      });

      // Exactly two events: the order's creation and its registration on the pairing's spend (§8.7.2).
      const appended = (await t.storedEvents()).slice(before.length);
      expect(appended.map((e) => `${e.type} ${e.streamId}`).sort()).toEqual([
        `agent_pairing.order_registered agent-pairing-${agent.pairingId}`,
        `market_order.created market-order-${item.id}`,
      ]);
      const [created] = await orders.orderEvents(item.id);
      expect(created.revision).toBe(0);
      expect(created.data).toEqual(item);
      expect(created.metadata.actor).toEqual({ type: 'agent-pairing', id: agent.pairingId });
      expect(created.metadata.correlationId).toBe(response.headers['x-correlation-id']);
      const registrations = await orders.registrations(agent.pairingId);
      expect(registrations.map((e) => e.data)).toEqual([{ orderId: item.id, amount: '0.5', currency: 'USDT', day: today() }]);
      expect(registrations[0].metadata.actor).toEqual({ type: 'agent-pairing', id: agent.pairingId });

      // GET answers the same record (§7.5.3).
      expect((await orders.get(item.id)).body).toEqual({ item });
    });

    it('every successful call creates a new order (same body twice → two orders)', async () => {
      const body = { serviceId: 'feed.cheap', input: { symbol: 'BTC/USD' } };
      const first = await orders.place(agent, body);
      const second = await orders.place(agent, body);
      expect(second.id).not.toBe(first.id);
      expect({ ...second, id: first.id }).toEqual(first);
    });

    // §7.3: quote price, service price, budget; a source without currency falls back to budget.currency;
    // amount and currency are omitted when unknown, and a catalogued amount is never carried over.
    const amountCases: Array<[string, { amount?: number; currency?: string } | undefined, { amount?: string; currency?: string }]> = [
      ['feed.fixed', undefined, { amount: '0.5', currency: 'USDT' }],
      ['feed.fixed', { amount: 9, currency: 'EUR' }, { amount: '0.5', currency: 'USDT' }],
      ['feed.tiny', undefined, { amount: '0.0000001', currency: 'USDT' }],
      ['feed.bare', undefined, { amount: '2' }],
      ['feed.bare', { currency: 'eur' }, { amount: '2', currency: 'EUR' }],
      ['feed.bare', { amount: 7, currency: 'chf' }, { amount: '2', currency: 'CHF' }],
      ['feed.open', undefined, {}],
      ['feed.open', { currency: 'USDT' }, {}],
      ['feed.open', { amount: 1.25, currency: 'usdt' }, { amount: '1.25', currency: 'USDT' }],
      ['feed.open', { amount: 25.5 }, { amount: '25.5' }],
      ['feed.open', { amount: 1e-7, currency: 'EUR' }, { amount: '0.0000001', currency: 'EUR' }],
    ];
    it.each(amountCases)('%s with budget %j → payment %j', async (serviceId, budget, effective) => {
      const item = await orders.place(agent, { serviceId, input: { symbol: 'ETH/USD' }, ...(budget ? { budget } : {}) });
      expect(item.payment).toEqual(expectedPayment(serviceId, effective));
      // §8.7.2: the registration counts the effective amount (null when unknown) on the current UTC day.
      const [registration] = (await orders.registrations(agent.pairingId)).filter((e) => e.data.orderId === item.id);
      expect(registration.data).toEqual(
        effective.amount === undefined
          ? expect.objectContaining({ orderId: item.id, amount: null, day: today() })
          : { orderId: item.id, amount: effective.amount, currency: effective.currency ?? null, day: today() },
      );
    });

    it('normalises budget: null without one, both members always present, currency upper-cased', async () => {
      const budgetOf = async (extra: Record<string, unknown>) =>
        (await orders.place(agent, { serviceId: 'feed.fixed', input: { symbol: 'X' }, ...extra })).budget;
      expect(await budgetOf({})).toBeNull();
      expect(await budgetOf({ budget: null })).toBeNull();
      expect(await budgetOf({ budget: {} })).toEqual({ amount: null, currency: null });
      expect(await budgetOf({ budget: { amount: null, currency: null } })).toEqual({ amount: null, currency: null });
      expect(await budgetOf({ budget: { amount: 0 } })).toEqual({ amount: 0, currency: null });
      expect(await budgetOf({ budget: { currency: 'usdT' } })).toEqual({ amount: null, currency: 'USDT' });
      expect(await budgetOf({ budget: { amount: 12.75, currency: 'eur' } })).toEqual({ amount: 12.75, currency: 'EUR' });
    });

    it('400 for an invalid budget (negative or non-numeric amount, bad currency, unknown member)', async () => {
      const base = { serviceId: 'feed.fixed', input: { symbol: 'X' } };
      expectBodyIssue(await refused(agent, { ...base, budget: { amount: -1 } }), '/budget/amount');
      expectBodyIssue(await refused(agent, { ...base, budget: { amount: '1' } }), '/budget/amount');
      expectBodyIssue(await refused(agent, { ...base, budget: { currency: 'U' } }), '/budget/currency');
      expectBodyIssue(await refused(agent, { ...base, budget: { currency: 'US-D' } }), '/budget/currency');
      expectBodyIssue(await refused(agent, { ...base, budget: { maxAmount: 1 } }), '/budget');
      expectBodyIssue(await refused(agent, { ...base, budget: 5 }), '/budget');
      expectBodyIssue(await refused(agent, { ...base, unknownMember: true }), '/unknownMember');
    });

    it('redacts secret-named input members at any depth (§9); the secret values reach no data file', async () => {
      const secret = `order-secret-${randomUUID()}`;
      const input = {
        symbol: 'BTC/USD',
        apiKey: `${secret}-1`,
        'X-Api-Key': `${secret}-2`,
        nested: { client_secret: `${secret}-3`, deeper: [{ PASSWORD: `${secret}-4` }, 'plain'], Seed_Phrase: `${secret}-5` },
        authorization: { token: `${secret}-6` },
        'private-key': `${secret}-7`,
        apiKeys: 'not a secret name',
        secretive: 'not a secret name either',
      };
      const response = await orders.create({ machineId: agent.machineId, serviceId: 'feed.fixed', input }, agent.token);
      expect(response.status).toBe(201);
      const redacted = {
        symbol: 'BTC/USD',
        apiKey: REDACTED,
        'X-Api-Key': REDACTED,
        nested: { client_secret: REDACTED, deeper: [{ PASSWORD: REDACTED }, 'plain'], Seed_Phrase: REDACTED },
        authorization: REDACTED,
        'private-key': REDACTED,
        apiKeys: 'not a secret name',
        secretive: 'not a secret name either',
      };
      expect(response.body.item.input).toEqual(redacted);
      expect((await orders.get(response.body.item.id)).body.item.input).toEqual(redacted);
      const [created] = await orders.orderEvents(response.body.item.id);
      expect(created.data.input).toEqual(redacted);
      expect(response.text).not.toContain(secret);
      expect(dataFilesText(t)).not.toContain(secret);
    });
  });

  describe('validation and existence (§7.5.2 steps 1–2)', () => {
    let agent: OrderAgent;
    beforeAll(async () => {
      agent = await fx.agent();
    });

    it('400 service_required without serviceId and quoteId, quote_id_required for searchId without quoteId', async () => {
      expectBodyIssue(await refused(agent, { input: { symbol: 'X' } }), '/serviceId', 'service_required');
      const search = await searchAs(agent);
      expectBodyIssue(await refused(agent, { searchId: search.searchId, serviceId: 'feed.fixed' }), '/quoteId', 'quote_id_required');
      // Validation comes before existence: an unknown machine does not turn these into 404.
      const orphan = { ...agent, machineId: UNKNOWN_MACHINE_ID };
      expectBodyIssue(await refused(orphan, {}), '/serviceId', 'service_required');
    });

    it('400 for a malformed body (missing machineId, wrong types, input not an object)', async () => {
      const raw = (body: unknown) => refusedWithoutEvents(t, () => orders.create(body, agent.token));
      expectBodyIssue(await raw({ serviceId: 'feed.fixed' }), '/machineId');
      expectBodyIssue(await raw({ machineId: 42, serviceId: 'feed.fixed' }), '/machineId');
      expectBodyIssue(await raw({ machineId: agent.machineId, serviceId: ['feed.fixed'] }), '/serviceId');
      expectBodyIssue(await raw({ machineId: agent.machineId, serviceId: 'feed.fixed', input: ['symbol'] }), '/input');
      expectBodyIssue(await raw({ machineId: agent.machineId, serviceId: 'feed.fixed', input: 'symbol=X' }), '/input');
    });

    it('400 for input above 64 KiB as canonical JSON; exactly 64 KiB is accepted', async () => {
      // {"symbol":"…"} is 13 bytes plus the value.
      const sized = (bytes: number) => ({ symbol: 'x'.repeat(bytes - 13) });
      expectBodyIssue(await refused(agent, { serviceId: 'feed.fixed', input: sized(65_537) }), '/input');
      expectBodyIssue(await refused(agent, { serviceId: 'feed.fixed', input: { symbol: 'X', blob: 'y'.repeat(70_000) } }), '/input');
      const exact = await orders.create({ machineId: agent.machineId, serviceId: 'feed.fixed', input: sized(65_536) }, agent.token);
      expect(exact.status).toBe(201);
    });

    it('404 NOT_FOUND for an unknown machine, agent-pairing, market-search, market-quote or service', async () => {
      const search = await searchAs(agent);
      const quoteId = quoteOf(search, 'feed.fixed').id;
      // Existence (step 2) comes before the token binding (step 3): not machine_mismatch.
      expectNotFound(
        await refused({ ...agent, machineId: UNKNOWN_MACHINE_ID }, { serviceId: 'feed.fixed' }),
        'machine',
        UNKNOWN_MACHINE_ID,
      );
      expectNotFound(
        await refused(agent, { serviceId: 'feed.fixed', agentPairingId: UNKNOWN_PAIRING_ID }),
        'agent-pairing',
        UNKNOWN_PAIRING_ID,
      );
      expectNotFound(await refused(agent, { searchId: UNKNOWN_SEARCH_ID, quoteId }), 'market-search', UNKNOWN_SEARCH_ID);
      expectNotFound(await refused(agent, { quoteId: UNKNOWN_QUOTE_ID }), 'market-quote', UNKNOWN_QUOTE_ID);
      expectNotFound(await refused(agent, { searchId: search.searchId, quoteId: UNKNOWN_QUOTE_ID }), 'market-quote', UNKNOWN_QUOTE_ID);
      expectNotFound(await refused(agent, { quoteId: search.searchId }), 'market-quote', search.searchId);
      expectNotFound(await refused(agent, { serviceId: 'no.such-service' }), 'service', 'no.such-service');
    });

    it('400 service_not_orderable for a docs-only service, before the operation is looked at', async () => {
      expectBodyIssue(await refused(agent, { serviceId: 'feed.docs', input: { symbol: 'X' } }), '/serviceId', 'service_not_orderable');
      const noOp = await refused(agent, { serviceId: 'feed.docs', operation: 'no-such-op' });
      expect(noOp.body.error.details.reason).toBe('service_not_orderable');
    });

    it('resolves the operation: explicit, else the only one; operation_required and unsupported_operation otherwise', async () => {
      expect((await orders.place(agent, { serviceId: 'feed.fixed', input: { symbol: 'X' } })).operation).toBe('get-price');
      const history = await orders.place(agent, { serviceId: 'feed.multi', operation: 'get-price-history', input: { symbol: 'X' } });
      expect(history.operation).toBe('get-price-history');
      expectBodyIssue(await refused(agent, { serviceId: 'feed.multi', input: { symbol: 'X' } }), '/operation', 'operation_required');
      // In the skill, but not offered by this service.
      expectBodyIssue(
        await refused(agent, { serviceId: 'feed.fixed', operation: 'get-price-history', input: { symbol: 'X' } }),
        '/operation',
        'unsupported_operation',
      );
      expectBodyIssue(await refused(agent, { serviceId: 'feed.fixed', operation: 'nope' }), '/operation', 'unsupported_operation');
    });

    it('400 input_invalid with one error per failing field at /input/<key> (type, integer vs number, required null)', async () => {
      const job = (input: Record<string, unknown>) => refused(agent, { serviceId: 'compute.job', input });
      const paths = (response: TestResponse) => response.body.error.details.errors.map((e: Json) => e.path).sort();

      const all = await job({ maxTokens: 1.5, temperature: 'hot', stream: 'yes', options: [1], tags: { a: 1 }, extra: 'allowed' });
      expectBodyIssue(all, '/input', 'input_invalid');
      expect(paths(all)).toEqual([
        '/input/maxTokens',
        '/input/options',
        '/input/prompt',
        '/input/stream',
        '/input/tags',
        '/input/temperature',
      ]);
      for (const entry of all.body.error.details.errors) expect(entry.location).toBe('body');

      const requiredNull = await job({ prompt: null, maxTokens: 4 });
      expectBodyIssue(requiredNull, '/input/prompt', 'input_invalid');
      expect(paths(requiredNull)).toEqual(['/input/prompt']);

      const notInteger = await job({ prompt: 'p', maxTokens: 4.25 });
      expect(paths(notInteger)).toEqual(['/input/maxTokens']);
      const stringInteger = await job({ prompt: 'p', maxTokens: '4' });
      expect(paths(stringInteger)).toEqual(['/input/maxTokens']);

      // The default input {} misses the required symbol.
      const missing = await refused(agent, { serviceId: 'feed.fixed' });
      expectBodyIssue(missing, '/input/symbol', 'input_invalid');
      expect(paths(missing)).toEqual(['/input/symbol']);

      // An integer is a number; every type matched; extra keys allowed.
      const ok = await orders.place(agent, {
        serviceId: 'compute.job',
        input: { prompt: 'p', maxTokens: 4, temperature: 1, stream: false, options: { a: 1 }, tags: ['x'], extra: null },
      });
      expect(ok.operation).toBe('run-job');
      expect(ok.payment).toEqual(expectedPayment('compute.job', { amount: '1', currency: 'USDT' }));
    });
  });

  describe('from a search quote (§7.5.2 steps 5 and 7)', () => {
    let agent: OrderAgent;
    beforeAll(async () => {
      agent = await fx.agent();
    });

    it('quoteId alone: searchId, quoteId, service, operation and payment come from the quote; a quote backs several orders', async () => {
      const result = await searchAs(agent);
      const quote = quoteOf(result, 'feed.fixed');
      const first = await orders.place(agent, { quoteId: quote.id, input: { symbol: 'ETH/USD' } });
      expectOrderShape(first);
      expect(first).toEqual(
        expect.objectContaining({
          searchId: result.searchId,
          quoteId: quote.id,
          serviceId: 'feed.fixed',
          operation: quote.operation,
          payment: expectedPayment('feed.fixed', { amount: '0.5', currency: 'USDT' }),
          status: 'created',
        }),
      );
      const second = await orders.place(agent, { quoteId: quote.id, input: { symbol: 'ETH/USD' } });
      expect(second.id).not.toBe(first.id);
      expect(second.quoteId).toBe(quote.id);
    });

    it('searchId + quoteId (+ the matching serviceId and operation) is accepted', async () => {
      const result = await searchAs(agent);
      const quote = quoteOf(result, 'feed.tiny');
      const item = await orders.place(agent, {
        searchId: result.searchId,
        quoteId: quote.id,
        serviceId: 'feed.tiny',
        operation: 'get-price',
        input: { symbol: 'X' },
      });
      expect([item.searchId, item.quoteId, item.serviceId]).toEqual([result.searchId, quote.id, 'feed.tiny']);
      expect(item.payment).toEqual(expectedPayment('feed.tiny', { amount: '0.0000001', currency: 'USDT' }));
    });

    it("the quote's operation is the default; another explicit operation → operation_mismatch", async () => {
      const result = await searchAs(agent, { operation: 'get-price-history' });
      const quote = quoteOf(result, 'feed.multi');
      expect(quote.operation).toBe('get-price-history');
      // feed.multi has two operations: without the quote this would be operation_required.
      expect((await orders.place(agent, { quoteId: quote.id, input: { symbol: 'X' } })).operation).toBe('get-price-history');
      expect((await orders.place(agent, { quoteId: quote.id, operation: 'get-price-history', input: { symbol: 'X' } })).operation).toBe(
        'get-price-history',
      );
      expectBodyIssue(
        await refused(agent, { quoteId: quote.id, operation: 'get-price', input: { symbol: 'X' } }),
        '/operation',
        'operation_mismatch',
      );
    });

    it('400 quote_machine_mismatch, quote_service_mismatch and quote_search_mismatch', async () => {
      const result = await searchAs(agent);
      const quote = quoteOf(result, 'feed.fixed');
      const other = await fx.agent();
      const body = { quoteId: quote.id, input: { symbol: 'X' } };
      expectBodyIssue(await refused(other, body), '/quoteId', 'quote_machine_mismatch');
      expectBodyIssue(await refused(agent, { ...body, serviceId: 'feed.cheap' }), '/serviceId', 'quote_service_mismatch');
      const another = await searchAs(agent);
      expectBodyIssue(await refused(agent, { ...body, searchId: another.searchId }), '/searchId', 'quote_search_mismatch');
    });

    it('409 QUOTE_EXPIRED { quoteId, expiresAt } once now >= expiresAt (PEAQOS_MARKET_QUOTE_TTL_MS)', async () => {
      const result = await searchAs(agent);
      const quote = quoteOf(result, 'feed.cheap');
      const expiresAt = new Date(Date.parse(now()) + QUOTE_TTL_MS).toISOString();
      expect(quote.expiresAt).toBe(expiresAt);
      clock.set(new Date(Date.parse(expiresAt) - 1));
      expect((await orders.create({ machineId: agent.machineId, quoteId: quote.id, input: { symbol: 'X' } }, agent.token)).status).toBe(
        201,
      );
      clock.set(expiresAt);
      const expired = await refused(agent, { quoteId: quote.id, input: { symbol: 'X' } });
      expectError(expired, 409, 'QUOTE_EXPIRED');
      expect(expired.body.error.details).toEqual({ quoteId: quote.id, expiresAt });
      // The service itself can still be ordered without the quote.
      expect(
        (await orders.create({ machineId: agent.machineId, serviceId: 'feed.cheap', input: { symbol: 'X' } }, agent.token)).status,
      ).toBe(201);
    });
  });

  describe('pairing token and acting pairing (§1.2, §1.3) and the active gate (§1.4)', () => {
    let agent: OrderAgent;
    beforeAll(async () => {
      agent = await fx.agent();
    });
    const body = { serviceId: 'feed.fixed', input: { symbol: 'X' } };

    it('401 AGENT_AUTH_REQUIRED without a token (or an empty one); 401 malformed for garbage', async () => {
      expectError(await refused(agent, body, null), 401, 'AGENT_AUTH_REQUIRED');
      expectError(await refused(agent, body, ''), 401, 'AGENT_AUTH_REQUIRED');
      // The credential is checked before the body (§0.14 steps 4–5).
      expectError(await refused(agent, { serviceId: 42 }, null), 401, 'AGENT_AUTH_REQUIRED');
      expectAuthInvalid(await refused(agent, body, 'not-a-jwt'), 'malformed');
    });

    it('401 machine_mismatch for a token of another machine; pairing_mismatch for another agentPairingId', async () => {
      const other = await fx.agent();
      expectAuthInvalid(await refused(agent, body, other.token), 'machine_mismatch');
      const sibling = await fx.pair(agent.machineId);
      expectAuthInvalid(await refused(agent, { ...body, agentPairingId: sibling.pairingId }), 'pairing_mismatch');
      // Naming its own pairing is fine.
      const own = await orders.place(agent, { ...body, agentPairingId: agent.pairingId });
      expect(own.agentPairingId).toBe(agent.pairingId);
      // The sibling's token acts for the sibling.
      expect((await orders.place(sibling, body)).agentPairingId).toBe(sibling.pairingId);
    });

    it('403 AGENT_PAIRING_INACTIVE for the token of a paused pairing', async () => {
      const paused = await fx.agent();
      await fx.setPairingStatus(paused, 'paused');
      expectInactive(await refused(paused, body), paused.pairingId, 'paused');
      await fx.setPairingStatus(paused, 'active');
      expect((await orders.place(paused, body)).status).toBe('created');
    });

    it('409 MACHINE_NOT_ACTIVE for a degraded or blocked machine', async () => {
      const degraded = await fx.agent();
      await fx.patchMachine(degraded.machineId, { status: 'degraded' });
      const response = await refused(degraded, body);
      expectError(response, 409, 'MACHINE_NOT_ACTIVE');
      expect(response.body.error.details).toEqual({ machineId: degraded.machineId, status: 'degraded' });
      await fx.patchMachine(degraded.machineId, { status: 'blocked' });
      expect((await refused(degraded, body)).body.error.details).toEqual({ machineId: degraded.machineId, status: 'blocked' });
      await fx.patchMachine(degraded.machineId, { status: 'active' });
      expect((await orders.place(degraded, body)).status).toBe('created');
    });
  });

  describe('delegation and machine policies, in the order of §7.3', () => {
    it('AGENT_POLICY_DENIED source delegationPolicy for each list rule; deny beats allow; other services pass', async () => {
      const cases: Array<[Record<string, unknown>, string, string]> = [
        [{ deniedSkillKeys: ['oracle.price-feed'] }, 'feed.fixed', 'skill_denied'],
        [{ allowedSkillKeys: ['compute.marketplace'] }, 'feed.fixed', 'skill_not_allowed'],
        [{ deniedServiceIds: ['feed.fixed'] }, 'feed.fixed', 'service_denied'],
        [{ allowedServiceIds: ['feed.cheap'] }, 'feed.fixed', 'service_not_allowed'],
        [{ allowedServiceIds: ['feed.fixed'], deniedServiceIds: ['feed.fixed'] }, 'feed.fixed', 'service_denied'],
        [{ allowedSkillKeys: ['oracle.price-feed'], deniedSkillKeys: ['oracle.price-feed'] }, 'feed.fixed', 'skill_denied'],
      ];
      const machineId = await fx.machine();
      for (const [policy, serviceId, reason] of cases) {
        const agent = await fx.pair(machineId, policy);
        expectPolicyDenied(await refused(agent, { serviceId, input: { symbol: 'X' } }), {
          source: 'delegationPolicy',
          reason,
          pairingId: agent.pairingId,
          skillKey: 'oracle.price-feed',
          serviceId,
        });
      }
      const limited = await fx.pair(machineId, { allowedServiceIds: ['feed.cheap'], deniedSkillKeys: ['compute.marketplace'] });
      expect((await orders.place(limited, { serviceId: 'feed.cheap', input: { symbol: 'X' } })).status).toBe('created');
    });

    it('delegation lists → machine policies (policyIds order) → currency → perTransactionLimit → dailySpendLimit', async () => {
      const noBeta = await fx.policy({ deniedProviderKeys: ['beta'] });
      const maxPoint6 = await fx.policy({ maxOrderAmount: 0.6, currency: 'usdt' });
      const machineId = await fx.machine();
      await fx.patchMachine(machineId, { policyIds: [noBeta, maxPoint6] });
      const job = { serviceId: 'compute.job', input: { prompt: 'p', maxTokens: 1 } };
      const fixed = { serviceId: 'feed.fixed', input: { symbol: 'X' } };

      // 1 before 2: the delegation denial wins over the machine policy that also denies compute.job.
      const listed = await fx.pair(machineId, { deniedServiceIds: ['compute.job'] });
      expect((await refused(listed, job)).body.error.details).toEqual(
        expect.objectContaining({ source: 'delegationPolicy', reason: 'service_denied' }),
      );

      // 2 before 3–5: the machine policy wins over a currency mismatch and a limit.
      const strict = await fx.pair(machineId, { currency: 'EUR', perTransactionLimit: 0.1, dailySpendLimit: 0.1 });
      expectPolicyDenied(await refused(strict, job), { source: 'machinePolicy', policyId: noBeta, reason: 'provider_denied' });
      // The first policy passes acme; the second denies an amount above its maxOrderAmount.
      expectPolicyDenied(await refused(strict, { serviceId: 'feed.bare', input: { symbol: 'X' } }), {
        source: 'machinePolicy',
        policyId: maxPoint6,
        reason: 'exceeds_max_order_amount',
      });
      expectPolicyDenied(await refused(strict, { serviceId: 'feed.eur', input: { symbol: 'X' } }), {
        source: 'machinePolicy',
        policyId: maxPoint6,
        reason: 'currency_mismatch',
      });
      expectPolicyDenied(await refused(strict, { serviceId: 'feed.open', input: { symbol: 'X' } }), {
        source: 'machinePolicy',
        policyId: maxPoint6,
        reason: 'amount_unknown',
      });

      // 3 before 4: a USDT order against a EUR policy is a currency mismatch, though 0.5 > 0.1 as well.
      const mismatch = await refused(strict, fixed);
      expectError(mismatch, 403, 'AGENT_POLICY_DENIED');
      expect(mismatch.body.error.details).toEqual(
        expect.objectContaining({ source: 'delegationPolicy', reason: 'currency_mismatch', pairingId: strict.pairingId }),
      );

      // 4 before 5: both limits are broken, the per-transaction one is reported.
      const limits = await fx.pair(machineId, { currency: 'usdt', perTransactionLimit: 0.4, dailySpendLimit: 0.3 });
      const perTx = await refused(limits, fixed);
      expectError(perTx, 403, 'AGENT_SPEND_LIMIT_EXCEEDED');
      expect(perTx.body.error.details).toEqual({ amount: '0.5', currency: 'USDT', limit: '0.4' });

      // 5: 0.25 passes both; a second 0.25 breaks the daily limit.
      const cheap = { serviceId: 'feed.cheap', input: { symbol: 'X' } };
      const first = await orders.place(limits, cheap);
      const daily = await refused(limits, cheap);
      expectError(daily, 403, 'AGENT_DAILY_LIMIT_EXCEEDED');
      expect(daily.body.error.details).toEqual({ amount: '0.25', spentToday: '0.25', limit: '0.3', currency: 'USDT', day: today() });
      expect(first.payment.amount).toBe('0.25');

      // With no machine policy in the way the same pairing order passes its lists (machine policies are per machine).
      await fx.patchMachine(machineId, { policyIds: [] });
      expect((await orders.place(listed, { serviceId: 'feed.bare', input: { symbol: 'X' } })).status).toBe('created');
    });

    it('limits: equal to the limit is allowed; unknown amount → amount_unknown; an unknown currency is the policy currency', async () => {
      const machineId = await fx.machine();
      const open = { serviceId: 'feed.open', input: { symbol: 'X' } };

      const exact = await fx.pair(machineId, { perTransactionLimit: 0.5, dailySpendLimit: 0.5, currency: 'USDT' });
      expect((await orders.place(exact, { serviceId: 'feed.fixed', input: { symbol: 'X' } })).payment.amount).toBe('0.5');

      const perTx = await fx.pair(machineId, { perTransactionLimit: 1, currency: 'USDT' });
      const unknown = await refused(perTx, open);
      expectError(unknown, 403, 'AGENT_SPEND_LIMIT_EXCEEDED');
      expect(unknown.body.error.details).toEqual(expect.objectContaining({ reason: 'amount_unknown', limit: '1' }));
      // budget.amount makes the amount known (§7.3 source 3).
      expect((await orders.place(perTx, { ...open, budget: { amount: 1 } })).payment).toEqual(
        expectedPayment('feed.open', { amount: '1' }),
      );
      const above = await refused(perTx, { ...open, budget: { amount: 1.0000001, currency: 'usdt' } });
      expectError(above, 403, 'AGENT_SPEND_LIMIT_EXCEEDED');
      expect(above.body.error.details).toEqual({ amount: '1.0000001', currency: 'USDT', limit: '1' });

      const daily = await fx.pair(machineId, { dailySpendLimit: 5 });
      const dailyUnknown = await refused(daily, open);
      expectError(dailyUnknown, 403, 'AGENT_DAILY_LIMIT_EXCEEDED');
      expect(dailyUnknown.body.error.details).toEqual(expect.objectContaining({ reason: 'amount_unknown', limit: '5', day: today() }));

      // feed.bare has no currency: it is assumed to be in the policy's EUR (no currency_mismatch).
      const eur = await fx.pair(machineId, { perTransactionLimit: 5, currency: 'EUR' });
      expect((await orders.place(eur, { serviceId: 'feed.bare', input: { symbol: 'X' } })).payment.amount).toBe('2');
      // A limit without a policy currency compares bare amounts whatever the currency.
      const bare = await fx.pair(machineId, { perTransactionLimit: 0.5 });
      expect((await orders.place(bare, { serviceId: 'feed.eur', input: { symbol: 'X' } })).payment.currency).toBe('EUR');
      const bareAbove = await refused(bare, { serviceId: 'feed.bare', input: { symbol: 'X' } });
      expectError(bareAbove, 403, 'AGENT_SPEND_LIMIT_EXCEEDED');
      expect(bareAbove.body.error.details).toEqual(expect.objectContaining({ amount: '2', limit: '0.5' }));
    });

    it('spentToday: a cancelled order no longer counts; the next UTC day starts from zero', async () => {
      const agent = await fx.agent({ dailySpendLimit: 0.5, currency: 'USDT' });
      const fixed = { serviceId: 'feed.fixed', input: { symbol: 'X' } };
      const first = await orders.place(agent, fixed);
      const over = await refused(agent, fixed);
      expectError(over, 403, 'AGENT_DAILY_LIMIT_EXCEEDED');
      expect(over.body.error.details).toEqual({ amount: '0.5', spentToday: '0.5', limit: '0.5', currency: 'USDT', day: today() });

      expect((await orders.cancel(first.id, agent.token)).status).toBe(200);
      const again = await orders.place(agent, fixed);
      expect(again.status).toBe('created');
      expect((await refused(agent, fixed)).body.error.details).toEqual(expect.objectContaining({ spentToday: '0.5' }));

      // Midnight UTC: yesterday's orders do not count.
      const midnight = `${new Date(Date.parse(`${today()}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10)}T00:00:00.000Z`;
      clock.set(midnight);
      const tomorrow = await orders.place(agent, fixed);
      expect(tomorrow.createdAt).toBe(midnight);
      const registrations = await orders.registrations(agent.pairingId);
      expect(registrations.map((e) => [e.data.orderId, e.data.day])).toEqual([
        [first.id, first.createdAt.slice(0, 10)],
        [again.id, again.createdAt.slice(0, 10)],
        [tomorrow.id, midnight.slice(0, 10)],
      ]);
      expect((await refused(agent, fixed)).body.error.details).toEqual(
        expect.objectContaining({ spentToday: '0.5', day: midnight.slice(0, 10) }),
      );
    });
  });

  describe('spentToday counts the effective amounts in the policy currency (§5.7)', () => {
    it('orders of unknown amount, or of another known currency, count as 0 once a policy currency is set', async () => {
      const agent = await fx.agent();
      await orders.place(agent, { serviceId: 'feed.open', input: { symbol: 'X' } });
      await orders.place(agent, { serviceId: 'feed.eur', input: { symbol: 'X' } });
      const patched = await t.inject({
        method: 'PATCH',
        url: `/api/v1/machines/${agent.machineId}/agent-pairings/${agent.pairingId}`,
        payload: { delegationPolicy: { dailySpendLimit: 1, currency: 'usdt' } },
      });
      expect(patched.status).toBe(200);
      // The policy changed: the agent rotates its session (no proof in this mode).
      const rotated = await t.inject({
        method: 'POST',
        url: `/api/v1/machines/${agent.machineId}/agent-pairings/${agent.pairingId}/sessions`,
        payload: {},
      });
      expect(rotated.status).toBe(201);
      const fresh = { ...agent, token: rotated.body.item.pairingToken as string };
      const fixed = { serviceId: 'feed.fixed', input: { symbol: 'X' } };
      await orders.place(fresh, fixed);
      await orders.place(fresh, fixed);
      const over = await refused(fresh, fixed);
      expectError(over, 403, 'AGENT_DAILY_LIMIT_EXCEEDED');
      expect(over.body.error.details).toEqual({ amount: '0.5', spentToday: '1', limit: '1', currency: 'USDT', day: today() });
    });
  });

  describe('Idempotency-Key on order creation (§0.11, §7.5.2)', () => {
    it('a retried create with the same key replays the first answer and creates (and counts) one order', async () => {
      const agent = await fx.agent({ dailySpendLimit: 1, currency: 'USDT' });
      const key = `order-${randomUUID()}`;
      const body = { machineId: agent.machineId, serviceId: 'feed.fixed', input: { symbol: 'X' } };
      const first = await orders.create(body, agent.token, { 'idempotency-key': key });
      expect(first.status).toBe(201);
      const before = (await t.storedEvents()).length;
      const replay = await orders.create(body, agent.token, { 'idempotency-key': key });
      expect({ status: replay.status, body: replay.body }).toEqual({ status: 201, body: first.body });
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(await t.storedEvents()).toHaveLength(before);
      expectError(
        await orders.create({ ...body, serviceId: 'feed.cheap' }, agent.token, { 'idempotency-key': key }),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect((await orders.all({ machineId: agent.machineId })).map((o: Json) => o.id)).toEqual([first.body.item.id]);
      expect(await orders.registrations(agent.pairingId)).toHaveLength(1);
    });
  });

  describe('concurrency (§7.3: creation and the spend check are serialised per pairing)', () => {
    it('20 concurrent 0.25 orders against dailySpendLimit 2 → exactly 8 created, 12 AGENT_DAILY_LIMIT_EXCEEDED', async () => {
      const agent = await fx.agent({ dailySpendLimit: 2, currency: 'USDT' });
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          orders.create({ machineId: agent.machineId, serviceId: 'feed.cheap', input: { symbol: 'X' } }, agent.token),
        ),
      );
      const created = responses.filter((r) => r.status === 201);
      const refusedOnes = responses.filter((r) => r.status !== 201);
      expect(created).toHaveLength(8);
      expect(refusedOnes).toHaveLength(12);
      for (const response of refusedOnes) {
        expectError(response, 403, 'AGENT_DAILY_LIMIT_EXCEEDED');
        expect(response.body.error.details).toEqual({ amount: '0.25', spentToday: '2', limit: '2', currency: 'USDT', day: today() });
      }

      // What is stored agrees: 8 orders summing to the limit, 8 registrations summing to the limit.
      const stored = await orders.all({ machineId: agent.machineId, agentPairingId: agent.pairingId });
      expect(stored.map((o: Json) => o.id).sort()).toEqual(created.map((r) => r.body.item.id).sort());
      const orderSum = sumDecimals(stored.map((o: Json) => o.payment.amount));
      expect(orderSum).toBe('2');
      const registrations = await orders.registrations(agent.pairingId);
      expect(registrations).toHaveLength(8);
      const registeredSum = sumDecimals(registrations.map((e) => e.data.amount as string));
      expect(compareDecimalStrings(registeredSum, '2')).toBeLessThanOrEqual(0);
      expect(registeredSum).toBe('2');
    });
  });
});

describe('PEAQOS_REQUIRE_MARKET_QUOTES=true (§2.2, §7.5.2 step 1)', () => {
  let t: TestApp;
  let search: SearchApi;
  let orders: OrderApi;
  let fx: UnverifiedFixtures;
  useSearchApp({ catalog: CATALOG, env: { ...UNVERIFIED, PEAQOS_REQUIRE_MARKET_QUOTES: 'true' } }, (app) => {
    ({ t, search } = app);
    orders = new OrderApi(t);
    fx = new UnverifiedFixtures(t);
  });

  it('400 quote_required unless both searchId and quoteId are sent; both → 201', async () => {
    const agent = await fx.agent();
    const result = (await search.search({ machineId: agent.machineId, skillKey: 'oracle.price-feed' }, agent.token)).body.item;
    const quote = quoteOf(result, 'feed.fixed');
    const refused = (body: Record<string, unknown>) =>
      refusedWithoutEvents(t, () => orders.create({ machineId: agent.machineId, input: { symbol: 'X' }, ...body }, agent.token));
    expectBodyIssue(await refused({ serviceId: 'feed.fixed' }), '', 'quote_required');
    expectBodyIssue(await refused({ quoteId: quote.id }), '', 'quote_required');
    expectBodyIssue(await refused({ searchId: result.searchId }), '', 'quote_required');
    expectBodyIssue(await refused({}), '', 'quote_required');
    const item = await orders.place(agent, { searchId: result.searchId, quoteId: quote.id, input: { symbol: 'X' } });
    expect([item.searchId, item.quoteId, item.serviceId]).toEqual([result.searchId, quote.id, 'feed.fixed']);
  });
});

describe('PEAQOS_REQUIRE_AGENT_PAIRING_AUTH=false: the acting pairing without a token (§1.3)', () => {
  let t: TestApp;
  let orders: OrderApi;
  let fx: UnverifiedFixtures;
  useSearchApp({ catalog: CATALOG, env: { ...UNVERIFIED, PEAQOS_REQUIRE_AGENT_PAIRING_AUTH: 'false' } }, (app) => {
    ({ t } = app);
    orders = new OrderApi(t);
    fx = new UnverifiedFixtures(t);
  });
  const body = { serviceId: 'feed.fixed', input: { symbol: 'X' } };
  const anonymous = (machineId: string, extra: Record<string, unknown> = {}) => orders.create({ machineId, ...body, ...extra });

  it("exactly one active pairing acts; the order's actor is anonymous", async () => {
    const agent = await fx.agent();
    const response = await anonymous(agent.machineId);
    expect(response.status).toBe(201);
    expect(response.body.item.agentPairingId).toBe(agent.pairingId);
    const [created] = await orders.orderEvents(response.body.item.id);
    expect(created.metadata.actor).toEqual({ type: 'anonymous', id: null });
    expect((await orders.registrations(agent.pairingId)).map((e) => e.data.orderId)).toEqual([response.body.item.id]);
  });

  it('403 AGENT_PAIRING_REQUIRED { machineId } without any active pairing (none, or only paused ones)', async () => {
    const machineId = await fx.machine();
    const none = await refusedWithoutEvents(t, () => anonymous(machineId));
    expectError(none, 403, 'AGENT_PAIRING_REQUIRED');
    expect(none.body.error.details).toEqual({ machineId });
    const paused = await fx.pair(machineId);
    await fx.setPairingStatus(paused, 'paused');
    expect((await refusedWithoutEvents(t, () => anonymous(machineId))).body.error).toEqual(
      expect.objectContaining({ code: 'AGENT_PAIRING_REQUIRED', details: { machineId } }),
    );
    // A paused sibling does not make an active pairing ambiguous.
    const active = await fx.pair(machineId);
    expect((await anonymous(machineId)).body.item.agentPairingId).toBe(active.pairingId);
  });

  it('400 agent_pairing_ambiguous with several active pairings; agentPairingId picks one', async () => {
    const first = await fx.agent();
    const second = await fx.pair(first.machineId);
    expectBodyIssue(await refusedWithoutEvents(t, () => anonymous(first.machineId)), '', 'agent_pairing_ambiguous');
    const response = await anonymous(first.machineId, { agentPairingId: second.pairingId });
    expect(response.status).toBe(201);
    expect(response.body.item.agentPairingId).toBe(second.pairingId);
  });

  it('agentPairingId: paused → 403 AGENT_PAIRING_INACTIVE; of another machine → 404 agent-pairing', async () => {
    const agent = await fx.agent();
    const paused = await fx.pair(agent.machineId);
    await fx.setPairingStatus(paused, 'paused');
    expectInactive(
      await refusedWithoutEvents(t, () => anonymous(agent.machineId, { agentPairingId: paused.pairingId })),
      paused.pairingId,
      'paused',
    );
    const stranger = await fx.agent();
    expectNotFound(
      await refusedWithoutEvents(t, () => anonymous(agent.machineId, { agentPairingId: stranger.pairingId })),
      'agent-pairing',
      stranger.pairingId,
    );
  });

  it('a token that is sent is still verified completely', async () => {
    const agent = await fx.agent();
    const other = await fx.agent();
    expectAuthInvalid(await refusedWithoutEvents(t, () => orders.create({ machineId: agent.machineId, ...body }, 'a.b.c')), 'malformed');
    expectAuthInvalid(
      await refusedWithoutEvents(t, () => orders.create({ machineId: agent.machineId, ...body }, other.token)),
      'machine_mismatch',
    );
  });
});
