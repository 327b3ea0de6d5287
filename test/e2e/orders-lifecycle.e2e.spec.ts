import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStore, EventStoreUnavailableError } from '../../src/application/ports/event-store.port';
import { writeCatalogFile } from '../support/catalog-fixture';
import { ControllableClock } from '../support/controllable-clock';
import { expectError, expectValidationError } from '../support/http-expectations';
import { Identity, MachineApi, UNKNOWN_MACHINE_ID } from '../support/machine-api';
import { McrTestServer } from '../support/mcr-server';
import { expectAuthInvalid, expectInactive, newAgent, Paired, PairingApi } from '../support/pairing-api';
import {
  expectNotFound,
  expectOrderShape,
  LONG_SESSIONS,
  ORDER_ID,
  OrderAgent,
  OrderApi,
  UNKNOWN_ORDER_ID,
  UNSET_ON_CREATE,
  UnverifiedFixtures,
} from '../support/order-api';
import { orderCatalogFile } from '../support/order-catalog';
import { UNVERIFIED } from '../support/payment-api';
import { expectBodyIssue, Json, refusedWithoutEvents, SearchApi, useSearchApp } from '../support/search-api';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';

/**
 * Listing, reading and closing orders (§7.5.1, §7.5.3, §7.5.11–§7.5.13) and OPEN_MARKET_ORDERS on machine
 * archiving and pairing revocation (§4.6.5 step 8, §5.8.7) over HTTP. Payment and execute do not exist
 * yet, so orders never reach `delivered` or `handoff` here: confirm and dispute are tested for their
 * refusals only.
 */

const T0 = '2026-06-10T09:00:00.000Z';
const CATALOG = orderCatalogFile();
const FEED = { serviceId: 'feed.cheap', input: { symbol: 'ETH/USD' } };

describe('orders of an unverified deployment (identity and pairing proofs disabled)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let orders: OrderApi;
  let fx: UnverifiedFixtures;
  useSearchApp({ clock, catalog: CATALOG, env: { ...UNVERIFIED, ...LONG_SESSIONS } }, (app) => {
    t = app.t;
    orders = new OrderApi(t);
    fx = new UnverifiedFixtures(t);
  });

  const now = () => clock.now().toISOString();
  const tick = (ms = 1000) => clock.advance(ms);
  /** `request` must be refused and append no event at all. */
  const refused = (request: () => Promise<TestResponse>) => refusedWithoutEvents(t, request);

  function expectOrderError(response: TestResponse, code: 'ORDER_CLOSED' | 'ORDER_NOT_DELIVERED', orderId: string, status: string) {
    expectError(response, 409, code);
    expect(response.body.error.details).toEqual({ orderId, status });
  }

  describe('GET /market/orders (§7.5.1) and GET /market/orders/:orderId (§7.5.3)', () => {
    let p1: OrderAgent;
    let p2: OrderAgent;
    let stranger: OrderAgent;
    /** Every order of p1's machine, newest first (createdAt desc, ties id desc). */
    let newestFirst: Json[];
    let cancelled: Json;

    beforeAll(async () => {
      p1 = await fx.agent();
      p2 = await fx.pair(p1.machineId);
      stranger = await fx.agent();
      const placed: Json[] = [];
      tick();
      placed.push(await orders.place(p1, FEED));
      tick();
      placed.push(await orders.place(p2, FEED));
      tick();
      placed.push(await orders.place(p1, FEED));
      tick();
      // Two orders with the same createdAt: the tie is broken by id, descending.
      placed.push(await orders.place(p1, FEED));
      placed.push(await orders.place(p2, FEED));
      await orders.place(stranger, FEED);
      tick();
      const response = await orders.cancel(placed[2].id, p1.token, { reason: 'not needed' });
      expect(response.status).toBe(200);
      cancelled = response.body.item;
      placed[2] = cancelled;
      newestFirst = [...placed].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
      expect(newestFirst[0].createdAt).toBe(newestFirst[1].createdAt);
    });

    const ids = (items: Json[]) => items.map((o) => o.id);

    it('lists the machine orders only, createdAt descending (ties id descending), as full records', async () => {
      const response = await orders.list({ machineId: p1.machineId });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body)).toEqual(['items']);
      expect(ids(response.body.items)).toEqual(ids(newestFirst));
      for (const item of response.body.items) expectOrderShape(item);
      for (const item of response.body.items) expect((await orders.get(item.id)).body).toEqual({ item });
      expect(response.body.items).toEqual(newestFirst);
    });

    it('filters by status and agentPairingId (together as well)', async () => {
      const listed = async (query: Record<string, string>) => ids((await orders.list({ machineId: p1.machineId, ...query })).body.items);
      expect(await listed({ status: 'cancelled' })).toEqual([cancelled.id]);
      expect(await listed({ status: 'created' })).toEqual(ids(newestFirst.filter((o) => o.status === 'created')));
      expect(await listed({ status: 'confirmed' })).toEqual([]);
      expect(await listed({ agentPairingId: p2.pairingId })).toEqual(ids(newestFirst.filter((o) => o.agentPairingId === p2.pairingId)));
      expect(await listed({ agentPairingId: p1.pairingId, status: 'created' })).toEqual(
        ids(newestFirst.filter((o) => o.agentPairingId === p1.pairingId && o.status === 'created')),
      );
      expect(await listed({ agentPairingId: p2.pairingId }).then((l) => l.length)).toBe(2);
      // Another machine's pairing: no order of this machine.
      expect(await listed({ agentPairingId: stranger.pairingId })).toEqual([]);
    });

    it('paginates with nextCursor (omitted on the last page); a cursor is bound to its filters', async () => {
      const first = await orders.list({ machineId: p1.machineId, limit: '2' });
      expect(ids(first.body.items)).toEqual(ids(newestFirst.slice(0, 2)));
      expect(first.body.nextCursor).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]+$/));
      const second = await orders.list({ machineId: p1.machineId, limit: '2', cursor: first.body.nextCursor });
      expect(ids(second.body.items)).toEqual(ids(newestFirst.slice(2, 4)));
      const third = await orders.list({ machineId: p1.machineId, limit: '2', cursor: second.body.nextCursor });
      expect(ids(third.body.items)).toEqual(ids(newestFirst.slice(4)));
      expect(third.body).not.toHaveProperty('nextCursor');
      expect(await orders.all({ machineId: p1.machineId, limit: '1' }).then(ids)).toEqual(ids(newestFirst));

      expect((await orders.list({ machineId: p1.machineId, cursor: 'not a cursor!' })).body.error.details.reason).toBe('invalid_cursor');
      const changed = await orders.list({ machineId: p1.machineId, status: 'created', cursor: first.body.nextCursor });
      expectValidationError(changed);
      expect(changed.body.error.details.reason).toBe('invalid_cursor');
      expect((await orders.list({ machineId: stranger.machineId, cursor: first.body.nextCursor })).body.error.details.reason).toBe(
        'invalid_cursor',
      );
    });

    it('400 without machineId, for a bad status or limit, or a repeated parameter; 404 for an unknown machine', async () => {
      expectValidationError(await orders.list({}), { location: 'query', path: 'machineId' });
      expectValidationError(await orders.list({ status: 'created' }), { location: 'query', path: 'machineId' });
      expectValidationError(await orders.list({ machineId: p1.machineId, status: 'open' }), { location: 'query', path: 'status' });
      expectValidationError(await orders.list({ machineId: p1.machineId, limit: '0' }), { location: 'query', path: 'limit' });
      expectValidationError(await orders.list({ machineId: p1.machineId, limit: '501' }), { location: 'query', path: 'limit' });
      const twice = await t.inject({ method: 'GET', url: `/api/v1/market/orders?machineId=${p1.machineId}&machineId=${p1.machineId}` });
      expectValidationError(twice, { location: 'query', path: 'machineId' });
      expectNotFound(await orders.list({ machineId: UNKNOWN_MACHINE_ID }), 'machine', UNKNOWN_MACHINE_ID);
    });

    it('404 market-order for unknown ids, whatever their prefix', async () => {
      for (const id of [UNKNOWN_ORDER_ID, 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2C', 'ord_nothing', 'nonsense', p1.pairingId]) {
        expectNotFound(await orders.get(id), 'market-order', id);
      }
    });

    it('409 MACHINE_NOT_ACTIVE on list and get for a blocked machine; cancel keeps working (existence gate)', async () => {
      const agent = await fx.agent();
      const open = await orders.place(agent, FEED);
      const other = await orders.place(agent, FEED);
      await fx.patchMachine(agent.machineId, { status: 'blocked' });
      const blocked = { machineId: agent.machineId, status: 'blocked' };
      const listed = await orders.list({ machineId: agent.machineId });
      expectError(listed, 409, 'MACHINE_NOT_ACTIVE');
      expect(listed.body.error.details).toEqual(blocked);
      const read = await orders.get(open.id);
      expectError(read, 409, 'MACHINE_NOT_ACTIVE');
      expect(read.body.error.details).toEqual(blocked);

      const cancel = await orders.cancel(open.id, agent.token);
      expect(cancel.status).toBe(200);
      expect(cancel.body.item.status).toBe('cancelled');
      // Confirm is existence-gated too: the state check answers, not the machine gate.
      expectOrderError(await refused(() => orders.confirm(other.id, agent.token)), 'ORDER_NOT_DELIVERED', other.id, 'created');
      await fx.patchMachine(agent.machineId, { status: 'active' });
      expect((await orders.get(open.id)).body.item.status).toBe('cancelled');
    });
  });

  describe('POST …/cancel, …/confirm, …/dispute (§7.5.11–§7.5.13)', () => {
    let agent: OrderAgent;
    beforeAll(async () => {
      agent = await fx.agent();
    });

    it('cancel: 200 cancelled with cancelledAt and cancelReason; stores market_order.cancelled; again → 409 ORDER_CLOSED', async () => {
      const order = await orders.place(agent, FEED);
      tick(5000);
      const response = await orders.cancel(order.id, agent.token, { reason: 'Changed my mind' });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body)).toEqual(['item']);
      const item = response.body.item;
      expectOrderShape(item);
      expect(item).toEqual({
        ...order,
        status: 'cancelled',
        cancelledAt: now(),
        cancelReason: 'Changed my mind',
        updatedAt: now(),
      });
      expect((await orders.get(order.id)).body).toEqual({ item });

      const events = await orders.orderEvents(order.id);
      expect(events.map((e) => [e.type, e.revision])).toEqual([
        ['market_order.created', 0],
        ['market_order.cancelled', 1],
      ]);
      expect(events[1].data).toEqual(
        expect.objectContaining({ from: 'created', to: 'cancelled', cancelledAt: now(), cancelReason: 'Changed my mind' }),
      );
      expect(events[1].metadata.actor).toEqual({ type: 'agent-pairing', id: agent.pairingId });
      expect(events[1].metadata.correlationId).toBe(response.headers['x-correlation-id']);

      tick();
      expectOrderError(
        await refused(() => orders.cancel(order.id, agent.token, { reason: 'again' })),
        'ORDER_CLOSED',
        order.id,
        'cancelled',
      );
      expectOrderError(await refused(() => orders.cancel(order.id, agent.token)), 'ORDER_CLOSED', order.id, 'cancelled');
      expect((await orders.get(order.id)).body.item).toEqual(item);
    });

    it('cancel without a reason → cancelReason null; reason is 1..1000 characters', async () => {
      const plain = await orders.place(agent, FEED);
      const response = await orders.cancel(plain.id, agent.token, {});
      expect(response.status).toBe(200);
      expect([response.body.item.status, response.body.item.cancelReason, response.body.item.cancelledAt]).toEqual([
        'cancelled',
        null,
        now(),
      ]);

      const order = await orders.place(agent, FEED);
      for (const body of [{ reason: '' }, { reason: 'x'.repeat(1001) }, { reason: 5 }, { reason: ['a'] }, { because: 'x' }]) {
        expectBodyIssue(await refused(() => orders.cancel(order.id, agent.token, body)), '');
      }
      expectBodyIssue(await refused(() => orders.cancel(order.id, agent.token, { reason: '' })), '/reason');
      expectBodyIssue(await refused(() => orders.cancel(order.id, agent.token, { reason: 'x'.repeat(1001) })), '/reason');
      // Body validation (§0.14 step 5) comes before existence (step 7).
      expectBodyIssue(await refused(() => orders.cancel(UNKNOWN_ORDER_ID, agent.token, { reason: '' })), '/reason');
      const longest = await orders.cancel(order.id, agent.token, { reason: 'y'.repeat(1000) });
      expect(longest.status).toBe(200);
      expect(longest.body.item.cancelReason).toBe('y'.repeat(1000));
    });

    it('confirm and dispute of a created order → 409 ORDER_NOT_DELIVERED { orderId, status }; of a cancelled one → ORDER_CLOSED', async () => {
      const order = await orders.place(agent, FEED);
      expectOrderError(await refused(() => orders.confirm(order.id, agent.token)), 'ORDER_NOT_DELIVERED', order.id, 'created');
      expectOrderError(await refused(() => orders.confirm(order.id, agent.token, {})), 'ORDER_NOT_DELIVERED', order.id, 'created');
      expectOrderError(
        await refused(() => orders.dispute(order.id, agent.token, { reason: 'Nothing arrived', evidence: { ticket: 7 } })),
        'ORDER_NOT_DELIVERED',
        order.id,
        'created',
      );
      expect((await orders.get(order.id)).body.item).toEqual(order);

      expect((await orders.cancel(order.id, agent.token)).status).toBe(200);
      expectOrderError(await refused(() => orders.confirm(order.id, agent.token)), 'ORDER_CLOSED', order.id, 'cancelled');
      expectOrderError(
        await refused(() => orders.dispute(order.id, agent.token, { reason: 'late' })),
        'ORDER_CLOSED',
        order.id,
        'cancelled',
      );
    });

    it('confirm takes no body; dispute needs reason 1..2000 and an object evidence of at most 64 KiB', async () => {
      const order = await orders.place(agent, FEED);
      expectBodyIssue(await refused(() => orders.confirm(order.id, agent.token, { reason: 'ok' })), '');
      const dispute = (body: unknown) => refused(() => orders.dispute(order.id, agent.token, body));
      expectBodyIssue(await dispute(undefined), '');
      expectBodyIssue(await dispute({}), '/reason');
      expectBodyIssue(await dispute({ reason: '' }), '/reason');
      expectBodyIssue(await dispute({ reason: 'x'.repeat(2001) }), '/reason');
      expectBodyIssue(await dispute({ reason: 42 }), '/reason');
      expectBodyIssue(await dispute({ reason: 'bad', evidence: ['photo'] }), '/evidence');
      expectBodyIssue(await dispute({ reason: 'bad', evidence: 'photo' }), '/evidence');
      expectBodyIssue(await dispute({ reason: 'bad', evidence: { blob: 'z'.repeat(70_000) } }), '/evidence');
      expectBodyIssue(await dispute({ reason: 'bad', extra: true }), '/extra');
      // Valid bodies reach the state check.
      expectOrderError(await dispute({ reason: 'x'.repeat(2000) }), 'ORDER_NOT_DELIVERED', order.id, 'created');
      expectOrderError(await dispute({ reason: 'bad', evidence: { any: { keys: [1] } } }), 'ORDER_NOT_DELIVERED', order.id, 'created');
    });

    it('token binding: another pairing → pairing_mismatch, another machine → machine_mismatch, none → AGENT_AUTH_REQUIRED', async () => {
      const order = await orders.place(agent, FEED);
      const sibling = await fx.pair(agent.machineId);
      const stranger = await fx.agent();
      for (const action of ['cancel', 'confirm', 'dispute'] as const) {
        const body = action === 'dispute' ? { reason: 'r' } : action === 'cancel' ? {} : undefined;
        expectAuthInvalid(await refused(() => orders.act(order.id, action, sibling.token, body)), 'pairing_mismatch');
        expectAuthInvalid(await refused(() => orders.act(order.id, action, stranger.token, body)), 'machine_mismatch');
        expectError(await refused(() => orders.act(order.id, action, undefined, body)), 401, 'AGENT_AUTH_REQUIRED');
        expectNotFound(await refused(() => orders.act(UNKNOWN_ORDER_ID, action, agent.token, body)), 'market-order', UNKNOWN_ORDER_ID);
      }
      expect((await orders.get(order.id)).body.item.status).toBe('created');
    });

    it("403 AGENT_PAIRING_INACTIVE with the token of the order's paused pairing; resumed, cancel works", async () => {
      const order = await orders.place(agent, FEED);
      await fx.setPairingStatus(agent, 'paused');
      expectInactive(await refused(() => orders.cancel(order.id, agent.token)), agent.pairingId, 'paused');
      await fx.setPairingStatus(agent, 'active');
      expect((await orders.cancel(order.id, agent.token)).status).toBe(200);
    });
  });

  describe('OPEN_MARKET_ORDERS from the market_orders read model (§4.6.5 step 8, §5.8.7)', () => {
    const archive = (machineId: string) =>
      t.inject({ method: 'PATCH', url: `/api/v1/machines/${machineId}`, payload: { status: 'archived' } });
    const revoke = (agent: OrderAgent, query = '') =>
      t.inject({ method: 'POST', url: `/api/v1/machines/${agent.machineId}/agent-pairings/${agent.pairingId}/revoke${query}` });
    const readPairing = (agent: OrderAgent) =>
      t.inject({ method: 'GET', url: `/api/v1/machines/${agent.machineId}/agent-pairings/${agent.pairingId}` });

    function expectOpenOrders(response: TestResponse, orderIds: string[]) {
      expectError(response, 409, 'OPEN_MARKET_ORDERS');
      expect(response.body.error.details).toEqual({ orderIds, count: orderIds.length });
    }

    it('archiving is blocked by the non-terminal orders (oldest first, count), and succeeds once they are cancelled', async () => {
      const agent = await fx.agent();
      const sibling = await fx.pair(agent.machineId);
      tick();
      const closed = await orders.place(agent, FEED);
      expect((await orders.cancel(closed.id, agent.token)).status).toBe(200);
      tick();
      const oldest = await orders.place(sibling, FEED);
      tick();
      const newest = await orders.place(agent, FEED);

      expectOpenOrders(await refused(() => archive(agent.machineId)), [oldest.id, newest.id]);
      expect((await t.inject({ method: 'GET', url: `/api/v1/machines/${agent.machineId}` })).body.item.status).toBe('active');

      expect((await orders.cancel(oldest.id, sibling.token)).status).toBe(200);
      expectOpenOrders(await refused(() => archive(agent.machineId)), [newest.id]);
      expect((await orders.cancel(newest.id, agent.token)).status).toBe(200);

      const archived = await archive(agent.machineId);
      expect(archived.status).toBe(200);
      expect(archived.body.item.status).toBe('archived');
      // Archiving revoked the pairings (§4.7); the orders are kept and still closed.
      expect((await readPairing(agent)).body.item.status).toBe('revoked');
      expect((await orders.cancel(newest.id, agent.token)).status).toBe(401);
    });

    it('revoking a pairing with an open order → 409 OPEN_MARKET_ORDERS; force=true → 200 revoked', async () => {
      const agent = await fx.agent();
      const sibling = await fx.pair(agent.machineId);
      tick();
      const first = await orders.place(agent, FEED);
      tick();
      const second = await orders.place(agent, FEED);
      const siblings = await orders.place(sibling, FEED);

      expectOpenOrders(await refused(() => revoke(agent)), [first.id, second.id]);
      expectOpenOrders(await refused(() => revoke(agent, '?force=false')), [first.id, second.id]);
      expect((await readPairing(agent)).body.item.status).toBe('active');

      const forced = await revoke(agent, '?force=true');
      expect(forced.status).toBe(200);
      expect(forced.body.item).toEqual(
        expect.objectContaining({ id: agent.pairingId, status: 'revoked', hasAuthToken: false, sessionId: null, tokenLastFour: null }),
      );
      expectAuthInvalid(await refused(() => orders.create({ machineId: agent.machineId, ...FEED }, agent.token)), 'pairing_revoked');
      // Revoked again: 200, unchanged (idempotent).
      const again = await revoke(agent);
      expect(again.status).toBe(200);
      expect(again.body.item).toEqual(forced.body.item);

      // §5.8.7: the forced revocation cancels them with cancelReason "pairing_revoked", caused by the revocation.
      const revokedEvent = (await t.storedEvents()).find((e) => e.type === 'agent_pairing.revoked' && e.streamId.endsWith(agent.pairingId));
      for (const order of [first, second]) {
        const read = await orders.get(order.id);
        expect(read.body.item).toEqual(expect.objectContaining({ status: 'cancelled', cancelReason: 'pairing_revoked' }));
        const cancelled = (await t.storedEvents()).find(
          (e) => e.type === 'market_order.cancelled' && e.streamId === `market-order-${order.id}`,
        );
        expect(cancelled?.metadata.causationId).toBe(revokedEvent?.id);
      }
      // The sibling's order is untouched and its pairing still acts.
      expect((await orders.get(siblings.id)).body.item.status).toBe('created');
      expect((await orders.cancel(siblings.id, sibling.token)).status).toBe(200);
    });
  });
});

describe('closing orders without a token (PEAQOS_REQUIRE_AGENT_PAIRING_AUTH=false, §1.3)', () => {
  let t: TestApp;
  let orders: OrderApi;
  let fx: UnverifiedFixtures;
  useSearchApp({ catalog: CATALOG, env: { ...UNVERIFIED, PEAQOS_REQUIRE_AGENT_PAIRING_AUTH: 'false' } }, (app) => {
    t = app.t;
    orders = new OrderApi(t);
    fx = new UnverifiedFixtures(t);
  });

  it("acts for the order's pairing while it is active; paused → 403 AGENT_PAIRING_INACTIVE before any state check", async () => {
    const agent = await fx.agent();
    const order = await orders.place(agent, FEED);
    const other = await orders.place(agent, FEED);
    await fx.setPairingStatus(agent, 'paused');
    for (const request of [
      () => orders.cancel(order.id),
      () => orders.confirm(order.id),
      () => orders.dispute(order.id, undefined, { reason: 'late' }),
    ]) {
      expectInactive(await refusedWithoutEvents(t, request), agent.pairingId, 'paused');
    }
    // A token that is sent is still checked: paused as well.
    expectInactive(await refusedWithoutEvents(t, () => orders.cancel(order.id, agent.token)), agent.pairingId, 'paused');

    await fx.setPairingStatus(agent, 'active');
    const cancelled = await orders.cancel(order.id, undefined, { reason: 'anonymous' });
    expect(cancelled.status).toBe(200);
    expect([cancelled.body.item.status, cancelled.body.item.cancelReason]).toEqual(['cancelled', 'anonymous']);
    const [, event] = await orders.orderEvents(order.id);
    expect(event.metadata.actor).toEqual({ type: 'anonymous', id: null });
    const confirm = await refusedWithoutEvents(t, () => orders.confirm(other.id));
    expectError(confirm, 409, 'ORDER_NOT_DELIVERED');
  });

  it("a revoked order pairing → 403 AGENT_PAIRING_INACTIVE { status: 'revoked' }, before ORDER_CLOSED", async () => {
    const agent = await fx.agent();
    const order = await orders.place(agent, FEED);
    expect((await orders.cancel(order.id)).status).toBe(200);
    const revoked = await t.inject({ method: 'POST', url: `/api/v1/machines/${agent.machineId}/agent-pairings/${agent.pairingId}/revoke` });
    expect(revoked.status).toBe(200);
    // The pairing check (§0.14 step 8) comes before the state check (step 10).
    expectInactive(await refusedWithoutEvents(t, () => orders.cancel(order.id)), agent.pairingId, 'revoked');
    expectInactive(await refusedWithoutEvents(t, () => orders.confirm(order.id)), agent.pairingId, 'revoked');
    // Its token names a revoked pairing (§1.2 step 6).
    expectAuthInvalid(await refusedWithoutEvents(t, () => orders.cancel(order.id, agent.token)), 'pairing_revoked');
  });
});

describe('the default required modes, with real identity and agent signatures (§4.4, §5.3)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let mcr: McrTestServer;
  let machines: MachineApi;
  let pairings: PairingApi;
  let search: SearchApi;
  let orders: OrderApi;
  useSearchApp({ clock, catalog: CATALOG }, (app) => {
    ({ t, mcr, machines, pairings, search } = app);
    orders = new OrderApi(t);
  });

  it('search → order from the quote → get → list → cancel → archive, on a verified machine with a verified pairing', async () => {
    const { machine, device } = await pairings.activeMachine();
    const paired: Paired = await pairings.pair(machine, newAgent('openai', 'buyer'));
    expect(paired.pairing.verification).not.toBeNull();
    const agent: OrderAgent = { machineId: machine.id, pairingId: paired.pairing.id, token: paired.token };

    const result = await search.as(paired, { skillKey: 'oracle.price-feed', operation: 'get-price' });
    const quote = result.quotes.find((q: Json) => q.serviceId === 'feed.fixed');
    const created = await orders.create(
      { machineId: machine.id, searchId: result.searchId, quoteId: quote.id, input: { symbol: 'ETH/USD' } },
      paired.token,
    );
    expect(created.status).toBe(201);
    const order = created.body.item;
    expectOrderShape(order);
    expect(order).toEqual(
      expect.objectContaining({
        id: expect.stringMatching(ORDER_ID),
        machineId: machine.id,
        agentPairingId: paired.pairing.id,
        searchId: result.searchId,
        quoteId: quote.id,
        serviceId: 'feed.fixed',
        operation: 'get-price',
        status: 'created',
        budget: null,
        ...UNSET_ON_CREATE,
        createdAt: T0,
        updatedAt: T0,
      }),
    );
    expect([order.payment.amount, order.payment.currency]).toEqual(['0.5', 'USDT']);
    expect((await orders.get(order.id)).body).toEqual({ item: order });
    expect((await orders.list({ machineId: machine.id })).body).toEqual({ items: [order] });

    // The machine is re-checked against MCR on every active-gated read: unbonded → MACHINE_NOT_ACTIVATED.
    mcr.updateMachine(device.did, { bondStatus: 'unbonded' });
    const unbonded = await orders.get(order.id);
    expectError(unbonded, 409, 'MACHINE_NOT_ACTIVATED');
    expect(unbonded.body.error.details).toEqual(expect.objectContaining({ reason: 'not_bonded' }));
    expectError(
      await refusedWithoutEvents(t, () => orders.create({ machineId: machine.id, ...FEED }, paired.token)),
      409,
      'MACHINE_NOT_ACTIVATED',
    );
    mcr.updateMachine(device.did, { bondStatus: 'bonded' });

    expect((await machines.patch(machine, device, { status: 'archived' })).status).toBe(409);
    clock.advance(1000);
    const cancelled = await orders.cancel(order.id, agent.token, { reason: 'verified walk' });
    expect(cancelled.body.item).toEqual({
      ...order,
      status: 'cancelled',
      cancelledAt: clock.now().toISOString(),
      cancelReason: 'verified walk',
      updatedAt: clock.now().toISOString(),
    });
    const archived = await machines.patch(machine, device as Identity, { status: 'archived' });
    expect(archived.status).toBe(200);
    expect(archived.body.item.status).toBe('archived');
  });
});

/** An event store whose appends to order streams (`market-order-…`) fail as unavailable while `outage.down` is set. */
function orderOutageStore(store: EventStore, outage: { down: boolean }): EventStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const original = Reflect.get(target, property, receiver);
      if (property !== 'append' || typeof original !== 'function') return original;
      return (streamId: string, ...rest: unknown[]) => {
        if (outage.down && streamId.startsWith('market-order-')) {
          return Promise.reject(new EventStoreUnavailableError(`test outage: append ${streamId}`));
        }
        return (original as (...args: unknown[]) => unknown).call(target, streamId, ...rest);
      };
    },
  });
}

describe('a create whose order write fails (§0.14 step 12, §5.7 spentToday)', () => {
  const outage = { down: false };
  const clock = new ControllableClock('2026-05-04T10:00:00.000Z');
  let t: TestApp;
  let catalogDir: string;
  beforeAll(async () => {
    catalogDir = mkdtempSync(join(tmpdir(), 'peaqos-orders-catalog-'));
    t = await startTestApp({
      clock,
      wrapEventStore: (store) => orderOutageStore(store, outage),
      env: {
        ...UNVERIFIED,
        // Never asked in this mode; a closed local port if it were.
        PEAQOS_MCR_API_URL: 'http://127.0.0.1:9',
        PEAQOS_CATALOG_PATH: writeCatalogFile(catalogDir, CATALOG),
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    if (catalogDir) rmSync(catalogDir, { recursive: true, force: true });
  });

  // The registration on the pairing stream is the commit point of the spend, the order stream the second
  // write (EventStoreDB has no multi-stream transaction). A registration whose order was never written
  // counts while the order could still be on its way, and no longer once it is 2 minutes old.
  it('stores no order; its registration counts (safe side) until 2 minutes have passed, then the day limit is free again', async () => {
    const fx = new UnverifiedFixtures(t);
    const orders = new OrderApi(t);
    const agent = await fx.agent({ dailySpendLimit: 0.5, currency: 'USDT' });
    const fixed = { serviceId: 'feed.fixed', input: { symbol: 'X' } };
    outage.down = true;
    const before = await t.storedEvents();
    const failed = await orders.create({ machineId: agent.machineId, ...fixed }, agent.token);
    outage.down = false;
    expect(failed.status).toBe(503);
    const written = (await t.storedEvents()).slice(before.length);
    expect(written.map((e) => e.type)).toEqual(['agent_pairing.order_registered']);
    const orphan = String(written[0].data.orderId);
    expect((await t.inject({ method: 'GET', url: `/api/v1/market/orders/${orphan}` })).status).toBe(404);

    clock.advance(2 * 60 * 1000 - 1);
    expectError(await orders.create({ machineId: agent.machineId, ...fixed }, agent.token), 403, 'AGENT_DAILY_LIMIT_EXCEEDED');

    clock.advance(1);
    const retried = await orders.create({ machineId: agent.machineId, ...fixed }, agent.token);
    expect({ status: retried.status, error: retried.body.error }).toEqual({ status: 201, error: undefined });
    expect((await orders.registrations(agent.pairingId)).map((e) => e.data.orderId)).toEqual([orphan, retried.body.item.id]);
    // The written order counts at once: another one is over the limit.
    expectError(await orders.create({ machineId: agent.machineId, ...fixed }, agent.token), 403, 'AGENT_DAILY_LIMIT_EXCEEDED');
  });
});
