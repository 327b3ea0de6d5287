import { readFileSync } from 'node:fs';
import { USABLE_RUNTIME_ENDPOINTS } from '../../src/application/ports/runtime-endpoints.port';
import { ControllableClock } from '../support/controllable-clock';
import { dataFilesText, Identity, MachineApi } from '../support/machine-api';
import { expectAuthInvalid, newAgent, Paired, PairingApi } from '../support/pairing-api';
import {
  DOCS_ONLY,
  GLOBAL,
  Json,
  NATIVE,
  QUOTE_ID,
  QUOTE_MEMBERS,
  ranking,
  READY,
  refusedWithoutEvents,
  RESULT_MEMBERS,
  RuntimeEndpointsDouble,
  SEARCH_ID,
  SearchApi,
  serviceIds,
  useSearchApp,
} from '../support/search-api';
import { searchCatalogFile } from '../support/search-catalog';
import { TestApp } from '../support/test-app';

const T0 = '2026-03-01T08:00:00.000Z';
/** Not the default (300000), so that `expiresAt` proves the variable is used (§2.2). */
const QUOTE_TTL_MS = 123_456;
const EXPIRES_AT = new Date(Date.parse(T0) + QUOTE_TTL_MS).toISOString();
const POLICIES_URL = '/api/v1/policies';

/** A paired agent and the device its machine was registered with (PATCHes need fresh proofs). */
type Agent = Paired & { device: Identity };

/** The result without generated ids: what two identical searches must share. */
const withoutIds = (item: Json) => ({
  ...item,
  searchId: undefined,
  quotes: item.quotes.map((q: Json) => ({ ...q, id: undefined, searchId: undefined })),
});

describe('POST /api/v1/market/search on a small catalogue (§6.4)', () => {
  const clock = new ControllableClock(T0);
  const runtime = new RuntimeEndpointsDouble();
  let t: TestApp;
  let machines: MachineApi;
  let pairings: PairingApi;
  let api: SearchApi;
  useSearchApp(
    {
      clock,
      catalog: searchCatalogFile(),
      env: { PEAQOS_MARKET_QUOTE_TTL_MS: String(QUOTE_TTL_MS) },
      providers: [{ provide: USABLE_RUNTIME_ENDPOINTS, useValue: runtime }],
    },
    (app) => {
      ({ t, pairings, search: api } = app);
      machines = app.machines;
    },
  );

  /** A fresh active machine and a pairing on it (each test its own, so that PATCHes stay local). */
  async function paired(): Promise<Agent> {
    const { machine, device } = await pairings.activeMachine();
    return { ...(await pairings.pair(machine, newAgent())), device };
  }

  /** Sets the pairing's delegation policy, checks the old token is now `policy_changed`, and rotates. */
  async function repolicy(agent: Agent, delegationPolicy: Record<string, unknown>): Promise<Agent> {
    const patched = await pairings.update(agent.machine.id, agent.pairing.id, { delegationPolicy });
    expect(patched.status).toBe(200);
    expectAuthInvalid(await refusedWithoutEvents(t, () => api.search({ machineId: agent.machine.id }, agent.token)), 'policy_changed');
    const rotated = await pairings.rotateWithProof(agent);
    expect(rotated.status).toBe(201);
    return { ...agent, pairing: rotated.body.item, token: rotated.body.item.pairingToken };
  }

  describe('a paired agent searches', () => {
    /** Scope, capabilities, region, budget and a preferred provider: every scoring rule applies. */
    const FULL = {
      serviceType: 'oracle.price-feed',
      operation: 'get-price',
      requirements: { capabilities: ['price-feed'] },
      region: 'EU-Central',
      budget: { amount: 0.5, maxAmount: 1, currency: 'usdt' },
      preferences: { preferredProviderKeys: ['Gamma'] },
      maxResults: 50,
    };
    const OP = "operation 'get-price' supported (+20)";
    const CAPS = 'all 1 required capabilities present (+15)';

    it('answers 201 with the ranked quotes, exact scores and reasons, and stores one market_search.completed event', async () => {
      const agent = await paired();
      const eventsBefore = (await t.storedEvents()).length;
      const response = await api.search({ machineId: agent.machine.id, ...FULL }, agent.token);

      expect(response.status).toBe(201);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(Object.keys(response.body)).toEqual(['item']);
      const item = response.body.item;
      expect(Object.keys(item).sort()).toEqual(RESULT_MEMBERS);
      expect(item).toEqual({
        searchId: expect.stringMatching(SEARCH_ID),
        machineId: agent.machine.id,
        agentPairingId: agent.pairing.id,
        createdAt: T0,
        expiresAt: EXPIRES_AT,
        quotes: expect.any(Array),
        excluded: [
          { serviceId: 'feed.docs', reasons: [DOCS_ONLY] },
          { serviceId: 'feed.pricey', reasons: ['price 3 USDT exceeds budget maxAmount 1'] },
        ],
      });

      // §6.4.4 step 3 (every row, in table order) and step 4 (score desc, known price asc, unknown
      // last, id asc); services outside the scope (compute.tiny, console.handoff) appear nowhere.
      expect(ranking(item)).toEqual([
        ['feed.cheap', 90, [OP, CAPS, "region 'eu-central' matches (+15)", NATIVE, READY, 'price 0.25 within budget (+10)']],
        ['feed.alpha', 85, [OP, CAPS, GLOBAL, NATIVE, READY, 'price 0.5 USDT within budget (+10)']],
        ['feed.zeta', 85, [OP, CAPS, GLOBAL, NATIVE, READY, 'price 0.5 USDT within budget (+10)']],
        [
          'feed.local',
          80,
          [
            OP,
            CAPS,
            GLOBAL,
            NATIVE,
            'runtime endpoint required but not registered (+0)',
            'price 0 within budget (+10)',
            "preferred provider 'gamma' (+10)",
          ],
        ],
        ['feed.mid', 80, [OP, CAPS, GLOBAL, NATIVE, READY, 'price 0.75 USDT within maxAmount (+5)']],
        ['feed.unknown', 78, [OP, CAPS, GLOBAL, NATIVE, READY, 'price set by provider (+3)']],
        [
          'feed.creds',
          70,
          [OP, CAPS, GLOBAL, NATIVE, 'provider credentials required but not supplied (+0)', 'price 0.1 USDT within budget (+10)'],
        ],
        ['feed.setup', 68, [OP, CAPS, GLOBAL, NATIVE, 'adapter setup required (+5)', 'price set by provider (+3)']],
        [
          'feed.partner',
          50,
          [
            OP,
            CAPS,
            "region 'us-east' does not match 'eu-central' (+0)",
            NATIVE,
            'partner approval required (+0)',
            'price currency EUR differs from budget currency USDT (+0)',
          ],
        ],
      ]);

      // Every quote: exactly the §6.4.2 members, its own quo_ id, rank 1..n, an integer score 0..100.
      const ids = new Set<string>();
      item.quotes.forEach((quote: Json, i: number) => {
        expect(Object.keys(quote).sort()).toEqual(QUOTE_MEMBERS);
        expect(quote.id).toMatch(QUOTE_ID);
        ids.add(quote.id);
        expect(quote.rank).toBe(i + 1);
        expect(Number.isInteger(quote.score) && quote.score >= 0 && quote.score <= 100).toBe(true);
        expect(quote.reasons.length).toBeGreaterThan(0);
        expect(quote).toEqual(
          expect.objectContaining({ searchId: item.searchId, machineId: agent.machine.id, createdAt: T0, expiresAt: EXPIRES_AT }),
        );
      });
      expect(ids.size).toBe(item.quotes.length);

      // The first quote in full: pricing at search time; payment with the known price and, the pricing
      // currency being null, the recommendation's own currency (§6.4.2).
      expect(item.quotes[0]).toEqual({
        id: expect.stringMatching(QUOTE_ID),
        serviceId: 'feed.cheap',
        skillKey: 'oracle.price-feed',
        providerKey: 'acme',
        executionMode: 'native',
        integrationStatus: 'native',
        operation: 'get-price',
        score: 90,
        reasons: [OP, CAPS, "region 'eu-central' matches (+15)", NATIVE, READY, 'price 0.25 within budget (+10)'],
        pricing: { mode: 'fixed', amount: 0.25, currency: null, rate: null, notes: [] },
        payment: { defaultRail: 'wallet', required: true, supportedRails: ['wallet'], currency: 'USDT', amount: '0.25' },
        searchId: item.searchId,
        machineId: agent.machine.id,
        serviceType: 'oracle.price-feed',
        rank: 1,
        region: 'eu-central',
        handoff: null,
        createdAt: T0,
        expiresAt: EXPIRES_AT,
      });

      // One event, on the search's own stream, carrying the quotes (orders find them there) and the
      // acting pairing as actor.
      const events = await t.storedEvents();
      expect(events.slice(eventsBefore).map((e) => [e.streamId, e.type])).toEqual([
        [`market-search-${item.searchId}`, 'market_search.completed'],
      ]);
      const [event] = events.slice(eventsBefore);
      expect(event.revision).toBe(0);
      expect(event.data).toEqual(
        expect.objectContaining({
          searchId: item.searchId,
          machineId: agent.machine.id,
          agentPairingId: agent.pairing.id,
          createdAt: T0,
          expiresAt: EXPIRES_AT,
          quotes: item.quotes,
          excluded: item.excluded,
        }),
      );
      expect(event.metadata.actor).toEqual({ type: 'agent-pairing', id: agent.pairing.id });
      expect(event.metadata.correlationId).toBe(response.headers['x-correlation-id']);
      expect(event.metadata.occurredAt).toBe(T0);
    });

    it('ranks a usable runtime endpoint (+10) and breaks the 90-point tie by the lower known price', async () => {
      const agent = await paired();
      runtime.byMachine.set(agent.machine.id, new Set(['gamma']));
      const item = await api.as(agent, FULL);
      expect(ranking(item).slice(0, 2)).toEqual([
        [
          'feed.local',
          90,
          [
            OP,
            CAPS,
            GLOBAL,
            NATIVE,
            'runtime endpoint registered (+10)',
            'price 0 within budget (+10)',
            "preferred provider 'gamma' (+10)",
          ],
        ],
        ['feed.cheap', 90, [OP, CAPS, "region 'eu-central' matches (+15)", NATIVE, READY, 'price 0.25 within budget (+10)']],
      ]);
      // Another machine of the same catalogue is unaffected.
      const other = await paired();
      expect(serviceIds(await api.as(other, FULL)).slice(0, 2)).toEqual(['feed.cheap', 'feed.alpha']);
    });

    it('gives the same ranking, scores and reasons for the same search, under new ids', async () => {
      const agent = await paired();
      const first = await api.as(agent, FULL);
      const second = await api.as(agent, FULL);
      expect(second.searchId).not.toBe(first.searchId);
      expect(second.quotes.map((q: Json) => q.id)).not.toContain(first.quotes[0].id);
      expect(withoutIds(second)).toEqual(withoutIds(first));
      const stored = (await api.searchEvents()).filter((e) => [first.searchId, second.searchId].includes(e.data.searchId));
      expect(stored).toHaveLength(2);
    });
  });

  describe('ranking without a budget (§6.4.4 step 4) and maxResults (step 5)', () => {
    let agent: Agent;
    beforeAll(async () => {
      agent = await paired();
    });

    const FEEDS_IN_ORDER = [
      // 30 points: known prices ascending (0.25 before 0.5; alpha before zeta at 0.5), unknown last.
      ['feed.cheap', 30, [NATIVE, READY]],
      ['feed.alpha', 30, [NATIVE, READY]],
      ['feed.zeta', 30, [NATIVE, READY]],
      ['feed.mid', 30, [NATIVE, READY]],
      ['feed.pricey', 30, [NATIVE, READY]],
      ['feed.unknown', 30, [NATIVE, READY]],
      ['feed.setup', 20, [NATIVE, 'adapter setup required (+5)']],
      // 15 points: 0, 0.1 USDT, 0.2 EUR — prices compared regardless of currency.
      ['feed.local', 15, [NATIVE, 'runtime endpoint required but not registered (+0)']],
      ['feed.creds', 15, [NATIVE, 'provider credentials required but not supplied (+0)']],
      ['feed.partner', 15, [NATIVE, 'partner approval required (+0)']],
    ];

    it('orders by score, then known price ascending, unknown prices last, then id', async () => {
      const item = await api.as(agent, { skillKey: 'oracle.price-feed', maxResults: 50 });
      expect(ranking(item)).toEqual(FEEDS_IN_ORDER);
      expect(item.quotes.map((q: Json) => q.rank)).toEqual(FEEDS_IN_ORDER.map((_, i) => i + 1));
      // No operation asked: the service's first operation.
      expect(new Set(item.quotes.map((q: Json) => q.operation))).toEqual(new Set(['get-price']));
      expect(item.excluded).toEqual([{ serviceId: 'feed.docs', reasons: [DOCS_ONLY] }]);
    });

    it('quotes only the first maxResults; eligible services beyond it are neither quoted nor excluded', async () => {
      const three = await api.as(agent, { skillKey: 'oracle.price-feed', maxResults: 3 });
      expect(ranking(three)).toEqual(FEEDS_IN_ORDER.slice(0, 3));
      expect(three.quotes.map((q: Json) => q.rank)).toEqual([1, 2, 3]);
      expect(three.excluded).toEqual([{ serviceId: 'feed.docs', reasons: [DOCS_ONLY] }]);

      const one = await api.as(agent, { skillKey: 'oracle.price-feed', maxResults: 1 });
      expect(serviceIds(one)).toEqual(['feed.cheap']);
    });

    it('quotes 10 by default; 1e-7 is the lowest price and the first operation is quoted', async () => {
      const item = await api.as(agent);
      expect(ranking(item)).toEqual([['compute.tiny', 30, [NATIVE, READY]], ...FEEDS_IN_ORDER.slice(0, 9)]);
      expect(item.quotes[0]).toEqual(
        expect.objectContaining({
          operation: 'run-job',
          skillKey: 'compute.marketplace',
          serviceType: 'compute.marketplace',
          region: 'ap-south',
          pricing: { mode: 'fixed', amount: 1e-7, currency: 'USDC', rate: 'per_request', notes: [] },
          payment: {
            defaultRail: 'x402',
            required: true,
            supportedRails: ['x402'],
            amount: '0.0000001',
            currency: 'USDC',
            network: 'base',
          },
        }),
      );
      // feed.partner and console.handoff are eligible but beyond the 10: nowhere.
      expect(item.excluded).toEqual([{ serviceId: 'feed.docs', reasons: [DOCS_ONLY] }]);
    });

    it("scores region 'global' as an exact match for global services (the first matching row applies)", async () => {
      const item = await api.as(agent, { skillKey: 'oracle.price-feed', region: 'GLOBAL', maxResults: 50 });
      const row = (id: string) => ranking(item).find((r: Json[]) => r[0] === id);
      expect(row('feed.alpha')).toEqual(['feed.alpha', 45, ["region 'global' matches (+15)", NATIVE, READY]]);
      expect(row('feed.cheap')).toEqual(['feed.cheap', 30, ["region 'eu-central' does not match 'global' (+0)", NATIVE, READY]]);
      expect(serviceIds(item).slice(0, 3)).toEqual(['feed.alpha', 'feed.zeta', 'feed.mid']);
    });

    it('scopes by operation and prints {price} as decimal string and currency; above budget is +0', async () => {
      const item = await api.as(agent, { skillKey: 'oracle.price-feed', operation: 'get-price-history', budget: { amount: 0.2 } });
      const op = "operation 'get-price-history' supported (+20)";
      expect(ranking(item)).toEqual([
        ['feed.unknown', 53, [op, NATIVE, READY, 'price set by provider (+3)']],
        ['feed.alpha', 50, [op, NATIVE, READY, 'price 0.5 USDT above budget (+0)']],
      ]);
      expect(item.quotes.map((q: Json) => q.operation)).toEqual(['get-price-history', 'get-price-history']);
      expect(item.excluded).toEqual([]);
    });

    it('answers an empty result (201, quotes [] and excluded []) when the scope matches nothing, and stores it', async () => {
      for (const scope of [{ serviceType: 'storage.object' }, { skillKey: 'compute.marketplace', operation: 'get-price' }]) {
        const before = (await api.searchEvents()).length;
        const response = await api.search({ machineId: agent.machine.id, ...scope }, agent.token);
        expect(response.status).toBe(201);
        expect(response.body.item).toEqual({
          searchId: expect.stringMatching(SEARCH_ID),
          machineId: agent.machine.id,
          agentPairingId: agent.pairing.id,
          createdAt: T0,
          expiresAt: EXPIRES_AT,
          quotes: [],
          excluded: [],
        });
        const events = await api.searchEvents();
        expect(events).toHaveLength(before + 1);
        expect(events[before].data).toEqual(expect.objectContaining({ searchId: response.body.item.searchId, quotes: [], excluded: [] }));
      }
    });
  });

  describe('absent, null and empty inputs (§0.3, §6.4.4)', () => {
    it('treats null members as absent, and an empty capability list, a currency-only budget or no preferred keys as no criterion', async () => {
      const agent = await paired();
      const base = { skillKey: 'oracle.price-feed', maxResults: 50 };
      const baseline = await api.as(agent, base);
      const variants = [
        {
          serviceType: null,
          operation: null,
          requirements: null,
          region: null,
          budget: null,
          preferences: null,
          agentPairingId: null,
          providerCredentials: null,
        },
        { requirements: { capabilities: [] }, budget: { currency: 'EUR' }, preferences: { preferredProviderKeys: [] } },
        {
          requirements: { capabilities: null },
          budget: { amount: null, maxAmount: null, currency: null },
          preferences: { nativeOnly: null },
        },
      ];
      for (const variant of variants) {
        const item = await api.as(agent, { ...base, ...variant });
        expect({ ranking: ranking(item), excluded: item.excluded, agentPairingId: item.agentPairingId }).toEqual({
          ranking: ranking(baseline),
          excluded: baseline.excluded,
          agentPairingId: agent.pairing.id,
        });
      }
      expect(ranking(baseline)[0]).toEqual(['feed.cheap', 30, [NATIVE, READY]]);
    });
  });

  describe('quote fields (§6.4.2)', () => {
    it('carries pricing as catalogued and payment with the known price as decimal string and its currency', async () => {
      const agent = await paired();
      const item = await api.as(agent, { maxResults: 50 });
      const quote = (id: string) => item.quotes.find((q: Json) => q.serviceId === id);
      expect(item.quotes).toHaveLength(12);

      // Known price with a currency: amount and currency from the price, whatever the recommendation said.
      expect(quote('feed.partner').payment).toEqual({
        defaultRail: 'wallet',
        required: true,
        supportedRails: ['wallet', 'escrow'],
        amount: '0.2',
        currency: 'EUR',
      });
      // Known price 0 without any currency: amount "0", no currency member.
      expect(quote('feed.local').payment).toEqual({
        defaultRail: 'not-required',
        required: false,
        supportedRails: ['not-required'],
        amount: '0',
      });
      // Catalogued in lower case: upper-cased (§0.6).
      expect(quote('feed.alpha').pricing).toEqual({
        mode: 'fixed',
        amount: 0.5,
        currency: 'USDT',
        rate: 'per_request',
        notes: ['Spot price.'],
      });
      expect(quote('feed.alpha').payment).toEqual({
        defaultRail: 'wallet',
        required: true,
        supportedRails: ['wallet'],
        amount: '0.5',
        currency: 'USDT',
      });
      // Unknown price: the recommendation unchanged (no amount).
      expect(quote('feed.unknown').pricing).toEqual({
        mode: 'provider-defined',
        amount: null,
        currency: 'USDT',
        rate: 'per_1k_requests',
        notes: ['Volume tiers.'],
      });
      expect(quote('feed.unknown').payment).toEqual({ defaultRail: 'x402', required: true, supportedRails: ['x402'], currency: 'USDT' });

      // An external handoff: its handoff, +5, partner +0, last.
      expect(item.quotes[11]).toEqual(
        expect.objectContaining({
          serviceId: 'console.handoff',
          rank: 12,
          score: 5,
          reasons: ['external handoff (+5)', 'partner approval required (+0)'],
          executionMode: 'external-handoff',
          integrationStatus: 'partner-required',
          operation: 'open-console',
          pricing: { mode: 'quote-required', amount: null, currency: null, rate: null, notes: ['Quoted per site.'] },
          payment: { defaultRail: 'external', required: false, supportedRails: ['external'] },
          handoff: { label: 'Hand console', url: 'https://console.hand.example/start', notes: ['Sign in with the operator account.'] },
        }),
      );
    });
  });

  describe('exclusions with reasons, never an error (§6.4.4 step 2)', () => {
    it('X2 and X3: handoff excluded by preferences (nativeOnly wins over allowExternalHandoff), missing capabilities in request order', async () => {
      const agent = await paired();
      const item = await api.as(agent, {
        preferences: { nativeOnly: true, allowExternalHandoff: true },
        requirements: { capabilities: ['price-feed', 'crypto'] },
        maxResults: 50,
      });
      const caps = 'all 2 required capabilities present (+15)';
      expect(ranking(item)).toEqual([
        ['feed.alpha', 45, [caps, NATIVE, READY]],
        ['feed.zeta', 45, [caps, NATIVE, READY]],
        ['feed.unknown', 45, [caps, NATIVE, READY]],
        ['feed.creds', 30, [caps, NATIVE, 'provider credentials required but not supplied (+0)']],
      ]);
      const missingCrypto = 'missing required capabilities: crypto';
      expect(item.excluded).toEqual([
        { serviceId: 'compute.tiny', reasons: ['missing required capabilities: price-feed, crypto'] },
        {
          serviceId: 'console.handoff',
          reasons: ['external handoff excluded by preferences', 'missing required capabilities: price-feed, crypto'],
        },
        { serviceId: 'feed.cheap', reasons: [missingCrypto] },
        { serviceId: 'feed.docs', reasons: [DOCS_ONLY, missingCrypto] },
        { serviceId: 'feed.local', reasons: [missingCrypto] },
        { serviceId: 'feed.mid', reasons: [missingCrypto] },
        { serviceId: 'feed.partner', reasons: [missingCrypto] },
        { serviceId: 'feed.pricey', reasons: [missingCrypto] },
        { serviceId: 'feed.setup', reasons: [missingCrypto] },
      ]);
    });

    it('X2: allowExternalHandoff=false excludes the handoff; by default it is quoted', async () => {
      const agent = await paired();
      const scope = { serviceType: 'network.partner-console' };
      const refused = await api.as(agent, { ...scope, preferences: { allowExternalHandoff: false } });
      expect(refused).toEqual(
        expect.objectContaining({
          quotes: [],
          excluded: [{ serviceId: 'console.handoff', reasons: ['external handoff excluded by preferences'] }],
        }),
      );
      const allowed = await api.as(agent, { ...scope, preferences: { nativeOnly: false, allowExternalHandoff: true } });
      expect(serviceIds(allowed)).toEqual(['console.handoff']);
      expect(allowed.excluded).toEqual([]);
      expect(serviceIds(await api.as(agent, scope))).toEqual(['console.handoff']);
    });

    it('X4: the delegation allow/deny lists of the acting pairing, one reason per failing check', async () => {
      const agent = await repolicy(await paired(), {
        deniedSkillKeys: ['compute.marketplace'],
        allowedSkillKeys: ['oracle.price-feed', 'network.partner-console'],
        deniedServiceIds: ['feed.zeta'],
        allowedServiceIds: ['feed.alpha', 'feed.zeta', 'feed.cheap', 'compute.tiny'],
      });
      const item = await api.as(agent, { maxResults: 50 });
      expect(ranking(item)).toEqual([
        ['feed.cheap', 30, [NATIVE, READY]],
        ['feed.alpha', 30, [NATIVE, READY]],
      ]);
      const notAllowed = (id: string) => `delegation policy: service '${id}' is not in allowedServiceIds`;
      expect(item.excluded).toEqual([
        {
          serviceId: 'compute.tiny',
          reasons: [
            "delegation policy: skill 'compute.marketplace' is denied",
            "delegation policy: skill 'compute.marketplace' is not in allowedSkillKeys",
          ],
        },
        { serviceId: 'console.handoff', reasons: [notAllowed('console.handoff')] },
        { serviceId: 'feed.creds', reasons: [notAllowed('feed.creds')] },
        { serviceId: 'feed.docs', reasons: [DOCS_ONLY, notAllowed('feed.docs')] },
        { serviceId: 'feed.local', reasons: [notAllowed('feed.local')] },
        { serviceId: 'feed.mid', reasons: [notAllowed('feed.mid')] },
        { serviceId: 'feed.partner', reasons: [notAllowed('feed.partner')] },
        { serviceId: 'feed.pricey', reasons: [notAllowed('feed.pricey')] },
        { serviceId: 'feed.setup', reasons: [notAllowed('feed.setup')] },
        { serviceId: 'feed.unknown', reasons: [notAllowed('feed.unknown')] },
        { serviceId: 'feed.zeta', reasons: ["delegation policy: service 'feed.zeta' is denied"] },
      ]);
    });

    it('X5: the machine policies in policyIds order, one reason per failing rule; policy changes apply at once', async () => {
      const agent = await paired();
      const device = agent.device;
      const p1 = await createPolicy({ deniedProviderKeys: ['BETA'], requireNativeExecution: true });
      const p2 = await createPolicy({
        allowedProviderKeys: ['acme', 'hand'],
        allowedServiceTypes: ['oracle.price-feed', 'network.partner-console'],
        maxOrderAmount: 0.4,
        currency: 'usdt',
      });
      const attached = await machines.patch(agent.machine, device, { policyIds: [p1, p2] });
      expect(attached.status).toBe(200);
      expect(attached.body.item.policyIds).toEqual([p1, p2]);

      const item = await api.as(agent, { maxResults: 50 });
      expect(ranking(item)).toEqual([
        ['feed.cheap', 30, [NATIVE, READY]],
        ['feed.unknown', 30, [NATIVE, READY]],
      ]);
      const m = (id: string, rule: string) => `machine policy ${id}: ${rule}`;
      const notAllowed = (provider: string) => m(p2, `provider '${provider}' is not in allowedProviderKeys`);
      const exceeds = (price: string) => m(p2, `price ${price} exceeds maxOrderAmount 0.4`);
      expect(item.excluded).toEqual([
        {
          serviceId: 'compute.tiny',
          reasons: [
            m(p2, "service type 'compute.marketplace' is not in allowedServiceTypes"),
            m(p2, 'currency USDC differs from policy currency USDT'),
          ],
        },
        { serviceId: 'console.handoff', reasons: [m(p1, 'native execution required')] },
        { serviceId: 'feed.alpha', reasons: [exceeds('0.5 USDT')] },
        { serviceId: 'feed.creds', reasons: [m(p1, "provider 'beta' is denied"), notAllowed('beta')] },
        { serviceId: 'feed.docs', reasons: [DOCS_ONLY, notAllowed('docs')] },
        { serviceId: 'feed.local', reasons: [notAllowed('gamma')] },
        { serviceId: 'feed.mid', reasons: [exceeds('0.75 USDT')] },
        { serviceId: 'feed.partner', reasons: [notAllowed('omega'), m(p2, 'currency EUR differs from policy currency USDT')] },
        { serviceId: 'feed.pricey', reasons: [exceeds('3 USDT')] },
        { serviceId: 'feed.setup', reasons: [notAllowed('delta')] },
        { serviceId: 'feed.zeta', reasons: [exceeds('0.5 USDT')] },
      ]);

      // The policyIds order is the reason order.
      const reordered = await machines.patch(agent.machine, device, { policyIds: [p2, p1] });
      expect(reordered.status).toBe(200);
      const swapped = await api.as(agent, { serviceType: 'oracle.price-feed', maxResults: 50 });
      expect(swapped.excluded.find((e: Json) => e.serviceId === 'feed.creds')).toEqual({
        serviceId: 'feed.creds',
        reasons: [notAllowed('beta'), m(p1, "provider 'beta' is denied")],
      });

      // Removing maxOrderAmount applies to the next search; the pairing token stays valid (§8.6).
      const unlimited = await t.inject({ method: 'PATCH', url: `${POLICIES_URL}/${p2}`, payload: { rules: { maxOrderAmount: null } } });
      expect(unlimited.status).toBe(200);
      const after = await api.as(agent, { maxResults: 50 });
      expect(serviceIds(after)).toEqual(['feed.cheap', 'feed.alpha', 'feed.zeta', 'feed.mid', 'feed.pricey', 'feed.unknown']);
      expect(after.excluded.find((e: Json) => e.serviceId === 'compute.tiny')).toEqual({
        serviceId: 'compute.tiny',
        reasons: [m(p2, "service type 'compute.marketplace' is not in allowedServiceTypes")],
      });
    });

    it('X6: a known, currency-compatible price above budget.maxAmount; incompatible currencies score +0 instead', async () => {
      const agent = await paired();
      const item = await api.as(agent, { budget: { maxAmount: 0.1, currency: 'USDT' }, maxResults: 50 });
      const byProvider = 'price set by provider (+3)';
      expect(ranking(item)).toEqual([
        ['feed.unknown', 33, [NATIVE, READY, byProvider]],
        ['compute.tiny', 30, [NATIVE, READY, 'price currency USDC differs from budget currency USDT (+0)']],
        ['feed.setup', 23, [NATIVE, 'adapter setup required (+5)', byProvider]],
        ['feed.local', 20, [NATIVE, 'runtime endpoint required but not registered (+0)', 'price 0 within maxAmount (+5)']],
        // Equal to maxAmount: allowed.
        ['feed.creds', 20, [NATIVE, 'provider credentials required but not supplied (+0)', 'price 0.1 USDT within maxAmount (+5)']],
        ['feed.partner', 15, [NATIVE, 'partner approval required (+0)', 'price currency EUR differs from budget currency USDT (+0)']],
        ['console.handoff', 8, ['external handoff (+5)', 'partner approval required (+0)', byProvider]],
      ]);
      expect(item.excluded).toEqual([
        { serviceId: 'feed.alpha', reasons: ['price 0.5 USDT exceeds budget maxAmount 0.1'] },
        { serviceId: 'feed.cheap', reasons: ['price 0.25 exceeds budget maxAmount 0.1'] },
        { serviceId: 'feed.docs', reasons: [DOCS_ONLY] },
        { serviceId: 'feed.mid', reasons: ['price 0.75 USDT exceeds budget maxAmount 0.1'] },
        { serviceId: 'feed.pricey', reasons: ['price 3 USDT exceeds budget maxAmount 0.1'] },
        { serviceId: 'feed.zeta', reasons: ['price 0.5 USDT exceeds budget maxAmount 0.1'] },
      ]);
    });

    it('X6: maxAmount is printed as a plain decimal string; a price equal to it passes', async () => {
      const agent = await paired();
      const equal = await api.as(agent, { serviceType: 'compute.marketplace', budget: { maxAmount: 1e-7 } });
      expect(ranking(equal)).toEqual([['compute.tiny', 35, [NATIVE, READY, 'price 0.0000001 USDC within maxAmount (+5)']]]);
      const below = await api.as(agent, { serviceType: 'compute.marketplace', budget: { maxAmount: 5e-8 } });
      expect(below.quotes).toEqual([]);
      expect(below.excluded).toEqual([
        { serviceId: 'compute.tiny', reasons: ['price 0.0000001 USDC exceeds budget maxAmount 0.00000005'] },
      ]);
    });

    it('X1–X7 together: every failing rule adds its reason, in rule order', async () => {
      const agent = await repolicy(await paired(), { deniedServiceIds: ['feed.pricey'], perTransactionLimit: 1 });
      const policy = await createPolicy({ maxOrderAmount: 1 });
      expect((await machines.patch(agent.machine, agent.device, { policyIds: [policy] })).status).toBe(200);
      const item = await api.as(agent, {
        serviceType: 'oracle.price-feed',
        requirements: { capabilities: ['crypto'] },
        budget: { maxAmount: 1 },
        maxResults: 50,
      });
      const missing = 'missing required capabilities: crypto';
      expect(item.excluded).toEqual([
        { serviceId: 'feed.cheap', reasons: [missing] },
        { serviceId: 'feed.docs', reasons: [DOCS_ONLY, missing] },
        { serviceId: 'feed.local', reasons: [missing] },
        { serviceId: 'feed.mid', reasons: [missing] },
        { serviceId: 'feed.partner', reasons: [missing] },
        {
          serviceId: 'feed.pricey',
          reasons: [
            missing,
            "delegation policy: service 'feed.pricey' is denied",
            `machine policy ${policy}: price 3 USDT exceeds maxOrderAmount 1`,
            'price 3 USDT exceeds budget maxAmount 1',
            'delegation policy: price 3 USDT exceeds perTransactionLimit 1',
          ],
        },
        { serviceId: 'feed.setup', reasons: [missing] },
      ]);
      expect(serviceIds(item)).toEqual(['feed.alpha', 'feed.zeta', 'feed.unknown', 'feed.creds']);
    });

    it('X7: the pairing limits (perTransactionLimit, currency mismatch, dailySpendLimit) for known prices only', async () => {
      let agent = await repolicy(await paired(), { perTransactionLimit: 0.3, currency: 'usdt' });
      const perTransaction = await api.as(agent, { maxResults: 50 });
      expect(ranking(perTransaction)).toEqual([
        // 0.25 with no currency is assumed to be in the policy currency.
        ['feed.cheap', 30, [NATIVE, READY]],
        ['feed.unknown', 30, [NATIVE, READY]],
        ['feed.setup', 20, [NATIVE, 'adapter setup required (+5)']],
        ['feed.local', 15, [NATIVE, 'runtime endpoint required but not registered (+0)']],
        ['feed.creds', 15, [NATIVE, 'provider credentials required but not supplied (+0)']],
        ['console.handoff', 5, ['external handoff (+5)', 'partner approval required (+0)']],
      ]);
      const exceeds = (price: string) => `delegation policy: price ${price} exceeds perTransactionLimit 0.3`;
      expect(perTransaction.excluded).toEqual([
        { serviceId: 'compute.tiny', reasons: ['delegation policy: currency USDC differs from policy currency USDT'] },
        { serviceId: 'feed.alpha', reasons: [exceeds('0.5 USDT')] },
        { serviceId: 'feed.docs', reasons: [DOCS_ONLY] },
        { serviceId: 'feed.mid', reasons: [exceeds('0.75 USDT')] },
        { serviceId: 'feed.partner', reasons: ['delegation policy: currency EUR differs from policy currency USDT'] },
        { serviceId: 'feed.pricey', reasons: [exceeds('3 USDT')] },
        { serviceId: 'feed.zeta', reasons: [exceeds('0.5 USDT')] },
      ]);

      // Without a policy currency, the daily limit compares bare amounts; an amount equal to the limit passes.
      agent = await repolicy(agent, { perTransactionLimit: null, currency: null, dailySpendLimit: 0.2 });
      const daily = await api.as(agent, { serviceType: 'oracle.price-feed', maxResults: 50 });
      expect(serviceIds(daily)).toEqual(['feed.unknown', 'feed.setup', 'feed.local', 'feed.creds', 'feed.partner']);
      const wouldExceed = (price: string) => `delegation policy: price ${price} would exceed dailySpendLimit 0.2 (spent today 0)`;
      expect(daily.excluded).toEqual([
        { serviceId: 'feed.alpha', reasons: [wouldExceed('0.5 USDT')] },
        { serviceId: 'feed.cheap', reasons: [wouldExceed('0.25')] },
        { serviceId: 'feed.docs', reasons: [DOCS_ONLY] },
        { serviceId: 'feed.mid', reasons: [wouldExceed('0.75 USDT')] },
        { serviceId: 'feed.pricey', reasons: [wouldExceed('3 USDT')] },
        { serviceId: 'feed.zeta', reasons: [wouldExceed('0.5 USDT')] },
      ]);
    });
  });

  describe('providerCredentials (§6.1, §9)', () => {
    const SECRET = 'sk-live-S3arch-Secr3t-7c1f0e9a4b2d';
    const CREDENTIALS_SUPPLIED = 'provider credentials supplied (+10)';
    const NOT_SUPPLIED = 'provider credentials required but not supplied (+0)';
    const scope = { skillKey: 'oracle.price-feed', operation: 'get-price', maxResults: 50 };
    const credsRow = (item: Json) => ranking(item).find((row: Json[]) => row[0] === 'feed.creds');

    it('scores supplied credentials +10 and never stores or echoes the values, only keys and member names', async () => {
      const agent = await paired();
      const without = await api.as(agent, scope);
      expect(credsRow(without)).toEqual(['feed.creds', 35, ["operation 'get-price' supported (+20)", NATIVE, NOT_SUPPLIED]]);

      const response = await api.search(
        { machineId: agent.machine.id, ...scope, providerCredentials: { beta: { apiKey: SECRET, account: `acct-${SECRET}` } } },
        agent.token,
        { 'idempotency-key': 'search-with-credentials-1' },
      );
      expect(response.status).toBe(201);
      const item = response.body.item;
      expect(credsRow(item)).toEqual(['feed.creds', 45, ["operation 'get-price' supported (+20)", NATIVE, CREDENTIALS_SUPPLIED]]);
      expect(response.text).not.toContain(SECRET);

      // Replayed under the same Idempotency-Key: the stored response, no second search (§0.11).
      const searchesBefore = (await api.searchEvents()).length;
      const replay = await api.search(
        { machineId: agent.machine.id, ...scope, providerCredentials: { beta: { apiKey: SECRET, account: `acct-${SECRET}` } } },
        agent.token,
        { 'idempotency-key': 'search-with-credentials-1' },
      );
      expect(replay.status).toBe(201);
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(replay.body).toEqual(response.body);
      expect(await api.searchEvents()).toHaveLength(searchesBefore);

      // The stored request keeps the provider key and member names, every value "[REDACTED]".
      const [event] = (await api.searchEvents()).filter((e) => e.data.searchId === item.searchId);
      expect(event.data.request).toEqual(
        expect.objectContaining({ providerCredentials: { beta: { apiKey: '[REDACTED]', account: '[REDACTED]' } } }),
      );
      const events = await t.storedEvents({ includeInternal: true });
      for (const stored of events) expect(JSON.stringify(stored)).not.toContain(SECRET);

      // Nothing in the event store, the read model or their WAL files (read as bytes).
      await t.inject({ method: 'GET', url: '/api/v1/readiness' });
      const files = [t.paths.sqlite, `${t.paths.sqlite}-wal`, t.paths.readModel, `${t.paths.readModel}-wal`];
      for (const file of files) {
        let text = '';
        try {
          text = readFileSync(file).toString('latin1');
        } catch {
          continue; // no WAL file (checkpointed)
        }
        expect(text).not.toContain(SECRET);
      }
      const everything = dataFilesText(t);
      expect(everything).not.toContain(SECRET);
      expect(everything).toContain('[REDACTED]');
      expect(everything).toContain('account');
    });

    it('lower-cases provider keys and counts only non-empty string values as supplied', async () => {
      const agent = await paired();
      const upper = await api.as(agent, { ...scope, providerCredentials: { BETA: { apiKey: 'k' } } });
      expect(credsRow(upper)[2]).toContain(CREDENTIALS_SUPPLIED);
      const empty = await api.as(agent, { ...scope, providerCredentials: { beta: { apiKey: '' } } });
      expect(credsRow(empty)).toEqual(['feed.creds', 35, ["operation 'get-price' supported (+20)", NATIVE, NOT_SUPPLIED]]);
      const otherProvider = await api.as(agent, { ...scope, providerCredentials: { acme: { apiKey: 'k' } } });
      expect(credsRow(otherProvider)[1]).toBe(35);
      // Credentials change nothing but that row.
      const supplied = await api.as(agent, { ...scope, providerCredentials: { beta: { apiKey: 'k' } } });
      expect(ranking(supplied).filter((row: Json[]) => row[0] !== 'feed.creds')).toEqual(
        ranking(empty).filter((row: Json[]) => row[0] !== 'feed.creds'),
      );
    });
  });

  async function createPolicy(rules: Record<string, unknown>): Promise<string> {
    const response = await t.inject({ method: 'POST', url: POLICIES_URL, payload: { name: 'search policy', rules } });
    if (response.status !== 201) throw new Error(`create policy: ${response.status} ${response.text}`);
    return response.body.item.id;
  }
});
