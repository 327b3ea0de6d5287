import { MACHINE_POLICY_DENIALS, MachinePolicyDenials } from '../../src/application/ports/machine-policy-denials.port';
import { MACHINE_REFERENCES, MachineReferences } from '../../src/application/ports/machine-references.port';
import { CatalogService } from '../../src/domain/catalog/catalog-types';
import { encodeCursor } from '../../src/http/pagination/cursor';
import { SERVICE_MEMBERS } from '../support/catalog-fixture';
import { expectError, expectValidationError } from '../support/http-expectations';
import { MACHINES_URL, UNKNOWN_MACHINE_ID } from '../support/machine-api';
import { startTestApp, TestApp, TestResponse, withTestApp } from '../support/test-app';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted on, not typed
type Item = any;

const SKILLS_URL = '/api/v1/skills';
const SERVICES_URL = '/api/v1/market/services';
const ADAPTERS_URL = '/api/v1/market/adapters';

const SKILL_MEMBERS = ['key', 'providerKey', 'label', 'description', 'serviceTypes', 'operations', 'executionMode', 'integrationStatus'];
const ADAPTER_MEMBERS = [
  'providerKey',
  'label',
  'integrationStatus',
  'authType',
  'credentialFields',
  'runtimeEndpointRequired',
  'docsUrl',
  'notes',
];
const ENDPOINT_MEMBERS = ['label', 'operation', 'url', 'method', 'path', 'providerName', 'key', 'protocols', 'networks'];
const PAYMENT_OPTIONAL = ['currency', 'amount', 'payTo', 'network', 'tokenAddress'];

/** Answers like the policies feature would, so that the test sees what the detail passes on. */
const denials: MachinePolicyDenials = {
  denialsFor: (policyIds: readonly string[], service: CatalogService) =>
    Promise.resolve(policyIds.filter((id) => id.startsWith('pol_deny')).map((policyId) => ({ policyId, reason: `denies ${service.id}` }))),
};
const everyReferenceKnown: MachineReferences = {
  unknownSkillKeys: () => Promise.resolve([]),
  unknownPolicyIds: () => Promise.resolve([]),
};

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    env: { PEAQOS_MACHINE_IDENTITY_VERIFICATION: 'disabled' },
    providers: [
      { provide: MACHINE_POLICY_DENIALS, useValue: denials },
      { provide: MACHINE_REFERENCES, useValue: everyReferenceKnown },
    ],
  });
});
afterAll(() => t?.close());

const get = (url: string) => t.inject({ method: 'GET', url });
const withQuery = (url: string, query: Record<string, string | undefined>) => {
  const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
  return `${url}${params.size ? `?${params}` : ''}`;
};

async function ok(url: string): Promise<TestResponse> {
  const response = await get(url);
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${response.text}`);
  return response;
}

/** Every item of a list, following `nextCursor` (bounded). */
async function walk(url: string, query: Record<string, string | undefined> = {}): Promise<{ pages: TestResponse[]; items: Item[] }> {
  const pages: TestResponse[] = [];
  let cursor: string | undefined;
  do {
    const page = await ok(withQuery(url, { ...query, cursor }));
    pages.push(page);
    cursor = page.body.nextCursor;
  } while (cursor !== undefined && pages.length < 50);
  return { pages, items: pages.flatMap((p) => p.body.items) };
}

const sortedStrings = (values: string[]) => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('GET /api/v1/skills (§6.3.1)', () => {
  it('lists the eight skills of the shipped catalogue by key, each a SkillSummary', async () => {
    const response = await ok(SKILLS_URL);
    expect(Object.keys(response.body)).toEqual(['items']);
    const keys = response.body.items.map((s: Item) => s.key);
    expect(keys).toEqual([
      'compute.marketplace',
      'data.location',
      'device.control',
      'identity.proof-of-person',
      'machine.commerce',
      'network.partner-console',
      'oracle.price-feed',
      'storage.object',
    ]);
    for (const skill of response.body.items) {
      expect(Object.keys(skill)).toEqual(SKILL_MEMBERS);
      expect(skill.serviceTypes).toContain(skill.key);
      expect(skill.operations.length).toBeGreaterThan(0);
    }
  });

  it('filters by serviceType (skills whose serviceTypes contain it)', async () => {
    const response = await ok(`${SKILLS_URL}?serviceType=device.control`);
    expect(response.body.items.map((s: Item) => s.key)).toEqual(['device.control']);
  });

  it('filters by providerKey, lower-cased, and combines filters with AND', async () => {
    expect((await ok(`${SKILLS_URL}?providerKey=PYTH`)).body.items.map((s: Item) => s.key)).toEqual(['oracle.price-feed']);
    expect((await ok(`${SKILLS_URL}?providerKey=pyth&serviceType=oracle.price-feed`)).body.items).toHaveLength(1);
    expect((await ok(`${SKILLS_URL}?providerKey=pyth&serviceType=device.control`)).body).toEqual({ items: [] });
    expect((await ok(`${SKILLS_URL}?providerKey=nobody`)).body).toEqual({ items: [] });
  });

  it('pages by key: limit 3 gives 3 + 3 + 2, the last page without nextCursor', async () => {
    const all = (await ok(SKILLS_URL)).body.items.map((s: Item) => s.key);
    const { pages, items } = await walk(SKILLS_URL, { limit: '3' });
    expect(pages.map((p) => p.body.items.length)).toEqual([3, 3, 2]);
    expect(items.map((s) => s.key)).toEqual(all);
    expect(pages[2].body).not.toHaveProperty('nextCursor');
    expect(pages[0].body.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('rejects an unknown serviceType, a bad limit and repeated parameters with 400', async () => {
    expectValidationError(await get(`${SKILLS_URL}?serviceType=oracle`), { location: 'query', path: 'serviceType' });
    expectValidationError(await get(`${SKILLS_URL}?limit=0`), { location: 'query', path: 'limit' });
    expectValidationError(await get(`${SKILLS_URL}?limit=501`), { location: 'query', path: 'limit' });
    expectValidationError(await get(`${SKILLS_URL}?providerKey=a&providerKey=b`), { location: 'query', path: 'providerKey' });
  });

  it('rejects malformed cursors, cursors of other endpoints and cursors with other filters (invalid_cursor)', async () => {
    const first = await ok(`${SKILLS_URL}?limit=2&serviceType=device.control`);
    expect(first.body).not.toHaveProperty('nextCursor');
    const cursor = (await ok(`${SKILLS_URL}?limit=2`)).body.nextCursor;
    for (const url of [
      `${SKILLS_URL}?cursor=not*a*cursor`,
      `${SKILLS_URL}?cursor=${encodeCursor('GET /market/services', {}, ['a'])}`,
      `${SKILLS_URL}?cursor=${cursor}&providerKey=pyth`,
      `${SKILLS_URL}?cursor=${encodeCursor('GET /skills', {}, [1])}`,
    ]) {
      const response = await get(url);
      expectValidationError(response, { location: 'query', path: 'cursor' });
      expect(response.body.error.details.reason).toBe('invalid_cursor');
    }
    // A changed limit is allowed (§0.10).
    expect((await get(`${SKILLS_URL}?cursor=${cursor}&limit=5`)).status).toBe(200);
  });
});

describe('GET /api/v1/skills/:skillKey (§6.3.2)', () => {
  it('answers the skill', async () => {
    const response = await ok(`${SKILLS_URL}/oracle.price-feed`);
    expect(response.body).toEqual({
      item: expect.objectContaining({ key: 'oracle.price-feed', providerKey: 'pyth', serviceTypes: ['oracle.price-feed'] }),
    });
    expect(Object.keys(response.body.item)).toEqual(SKILL_MEMBERS);
  });

  it.each(['oracle.weather', 'ORACLE.PRICE-FEED', 'skill_01JD8Y6K3W5T2Q9R7M4N0P1B2C'])('answers 404 for %s', async (key) => {
    const response = await get(`${SKILLS_URL}/${encodeURIComponent(key)}`);
    expectError(response, 404, 'NOT_FOUND');
    expect(response.body.error.details).toEqual({ entityType: 'skill', id: key });
  });
});

describe('GET /api/v1/market/services (§6.3.3)', () => {
  let all: Item[];
  beforeAll(async () => {
    all = (await ok(SERVICES_URL)).body.items;
  });

  const idsWhere = (predicate: (s: Item) => boolean) => all.filter(predicate).map((s) => s.id);
  const ids = async (query: Record<string, string>) => (await ok(withQuery(SERVICES_URL, query))).body.items.map((s: Item) => s.id);

  it('lists every service by id, including docs-only ones, without operationContracts', async () => {
    expect(all.length).toBeGreaterThanOrEqual(20);
    expect(all.map((s) => s.id)).toEqual(sortedStrings(all.map((s) => s.id)));
    expect(all.some((s) => s.integrationStatus === 'docs-only')).toBe(true);
    for (const service of all) {
      expect(service).not.toHaveProperty('operationContracts');
      expect(service).not.toHaveProperty('machineContext');
    }
  });

  it('computes consumption with the exact paths of §6.2 for every service', () => {
    for (const service of all) {
      expect(service.consumption).toEqual({
        adapterSetupPath: `/api/v1/market/adapters/${service.providerKey}`,
        serviceDetailPath: `/api/v1/market/services/${service.id}`,
        marketSearchPath: '/api/v1/market/search',
        orderCreatePath: '/api/v1/market/orders',
      });
    }
  });

  it('sets the legacy endpoint to endpoints[0], or null when there are none', () => {
    const withEndpoints = all.filter((s) => s.endpoints.length > 0);
    const without = all.filter((s) => s.endpoints.length === 0);
    expect(withEndpoints.length).toBeGreaterThan(0);
    expect(without.length).toBeGreaterThan(0);
    for (const service of withEndpoints) expect(service.endpoint).toEqual(service.endpoints[0]);
    for (const service of without) expect(service.endpoint).toBeNull();
  });

  it('follows the presence rules: null members present, optional payment members and URLs omitted when unset', () => {
    for (const service of all) {
      const members = Object.keys(service);
      expect(members.slice(0, SERVICE_MEMBERS.length)).toEqual(SERVICE_MEMBERS);
      for (const extra of members.slice(SERVICE_MEMBERS.length)) expect(['referenceUrl', 'artifactUrl']).toContain(extra);
      expect(Object.keys(service.pricing)).toEqual(['mode', 'amount', 'currency', 'rate', 'notes']);
      for (const endpoint of service.endpoints) expect(Object.keys(endpoint)).toEqual(ENDPOINT_MEMBERS);
      for (const member of PAYMENT_OPTIONAL) if (member in service.payment) expect(service.payment[member]).toEqual(expect.any(String));
      expect(JSON.stringify(service.payment)).not.toContain('null');
    }
    const free = all.find((s) => s.id === 'pyth.hermes.price-feed');
    expect(free.payment).toEqual({ defaultRail: 'not-required', required: false, supportedRails: ['not-required'] });
    expect(free.pricing).toEqual({ mode: 'fixed', amount: 0, currency: null, rate: null, notes: expect.any(Array) });
    expect(free.handoff).toBeNull();

    const providerDefined = all.find((s) => s.id === 'kaching.vending.purchase');
    expect(providerDefined.pricing).toMatchObject({ mode: 'provider-defined', amount: null, currency: 'USDT' });
    expect(providerDefined.payment).not.toHaveProperty('amount');
    expect(providerDefined).not.toHaveProperty('referenceUrl');
    expect(providerDefined.endpoints[0]).toMatchObject({ providerName: null, key: null });

    const quoted = all.find((s) => s.id === 'wicrypt.hotspot.console');
    expect(quoted.pricing).toEqual({ mode: 'quote-required', amount: null, currency: null, rate: null, notes: expect.any(Array) });
    expect(quoted.handoff).toEqual({ label: expect.any(String), url: expect.stringMatching(/^https:/), notes: expect.any(Array) });

    const fixed = all.find((s) => s.id === 'geodnet.rtk.corrections');
    expect(fixed.pricing).toEqual({ mode: 'fixed', amount: 0.05, currency: 'USDT', rate: 'per_hour', notes: expect.any(Array) });
    expect(fixed.payment).toEqual({
      defaultRail: 'wdk-usdt-transfer',
      required: true,
      supportedRails: ['wdk-usdt-transfer', 'wallet'],
      currency: 'USDT',
      amount: '0.05',
      payTo: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
      network: 'peaq',
      tokenAddress: '0xf4D9235269a96aaDaFc9aDAe454a0618eBE37949',
    });
    expect(fixed.referenceUrl).toEqual(expect.stringMatching(/^https:/));
  });

  it('filters by serviceType', async () => {
    const expected = idsWhere((s) => s.serviceType === 'compute.marketplace');
    expect(expected.length).toBeGreaterThan(1);
    expect(await ids({ serviceType: 'compute.marketplace' })).toEqual(expected);
  });

  it('filters by skillKey (exact)', async () => {
    expect(await ids({ skillKey: 'storage.object' })).toEqual(idsWhere((s) => s.skillKey === 'storage.object'));
    expect(await ids({ skillKey: 'storage' })).toEqual([]);
  });

  it('filters by providerKey, lower-cased', async () => {
    const expected = idsWhere((s) => s.providerKey === 'pay-sh');
    expect(expected.length).toBeGreaterThan(1);
    expect(await ids({ providerKey: 'pay-sh' })).toEqual(expected);
    expect(await ids({ providerKey: 'PAY-SH' })).toEqual(expected);
  });

  it('filters by executionMode', async () => {
    for (const mode of ['native', 'external-handoff']) {
      const expected = idsWhere((s) => s.executionMode === mode);
      expect(expected.length).toBeGreaterThan(0);
      expect(await ids({ executionMode: mode })).toEqual(expected);
    }
  });

  it('filters by region case-insensitively; global services match only region=global', async () => {
    const eu = idsWhere((s) => s.region === 'eu-central');
    expect(eu.length).toBeGreaterThan(0);
    expect(await ids({ region: 'EU-Central' })).toEqual(eu);
    expect(await ids({ region: 'GLOBAL' })).toEqual(idsWhere((s) => s.region === 'global'));
    expect(await ids({ region: 'mars' })).toEqual([]);
  });

  it('filters by q: case-insensitive substring of id, name, description, companyName or providerKey', async () => {
    // companyName
    expect(await ids({ q: 'TETHER' })).toEqual(
      idsWhere((s) => /tether/i.test([s.id, s.name, s.description, s.companyName, s.providerKey].join(' '))),
    );
    expect(await ids({ q: 'tether' })).toEqual(expect.arrayContaining(['qvac.llm.local', 'qvac.whisper.local']));
    // providerKey and id
    expect(await ids({ q: 'pay-sh' })).toEqual(idsWhere((s) => s.providerKey === 'pay-sh'));
    // name
    expect(await ids({ q: 'Claude Haiku' })).toEqual(['pay-sh.anthropic.claude-haiku']);
    // description only
    expect(await ids({ q: 'CENTIMETRE-LEVEL' })).toEqual(['geodnet.rtk.corrections']);
    // not searched: capabilities, region, metadata
    expect(await ids({ q: 'unattended-retail' })).toEqual([]);
    expect(await ids({ q: 'x'.repeat(200) })).toEqual([]);
  });

  it('combines filters with AND', async () => {
    const expected = idsWhere((s) => s.serviceType === 'compute.marketplace' && s.executionMode === 'native' && s.region === 'global');
    expect(await ids({ serviceType: 'compute.marketplace', executionMode: 'native', region: 'global' })).toEqual(expected);
    expect(await ids({ serviceType: 'compute.marketplace', q: 'local' })).toEqual([
      'ollama.llama3.local',
      'qvac.llm.local',
      'qvac.whisper.local',
    ]);
    expect(await ids({ providerKey: 'pyth', serviceType: 'storage.object' })).toEqual([]);
  });

  it('pages by id across pages, also with filters; every page but the last has a nextCursor', async () => {
    const { pages, items } = await walk(SERVICES_URL, { limit: '7' });
    expect(items.map((s) => s.id)).toEqual(all.map((s) => s.id));
    expect(pages.length).toBe(Math.ceil(all.length / 7));
    for (const page of pages.slice(0, -1)) expect(page.body.items).toHaveLength(7);
    expect(pages[pages.length - 1].body).not.toHaveProperty('nextCursor');

    const native = await walk(SERVICES_URL, { limit: '4', executionMode: 'native' });
    expect(native.items.map((s) => s.id)).toEqual(idsWhere((s) => s.executionMode === 'native'));
    expect(native.pages.length).toBeGreaterThan(2);
  });

  it('rejects a cursor combined with other filter values or issued by another endpoint (invalid_cursor)', async () => {
    const cursor = (await ok(`${SERVICES_URL}?limit=2&executionMode=native`)).body.nextCursor;
    for (const url of [
      `${SERVICES_URL}?cursor=${cursor}`,
      `${SERVICES_URL}?cursor=${cursor}&executionMode=external-handoff`,
      `${SERVICES_URL}?cursor=${cursor}&executionMode=native&q=a`,
      `${ADAPTERS_URL}?cursor=${cursor}`,
      `${SERVICES_URL}?cursor=${encodeCursor('GET /market/services', {}, ['a', 'b'])}`,
    ]) {
      const response = await get(url);
      expectValidationError(response, { location: 'query', path: 'cursor' });
      expect(response.body.error.details.reason).toBe('invalid_cursor');
    }
    expect((await get(`${SERVICES_URL}?cursor=${cursor}&executionMode=native&limit=50`)).status).toBe(200);
  });

  it.each([
    ['an unknown serviceType', { serviceType: 'oracle' }, 'serviceType'],
    ['an unknown executionMode', { executionMode: 'handoff' }, 'executionMode'],
    ['an empty q', { q: '' }, 'q'],
    ['a q of 201 characters', { q: 'x'.repeat(201) }, 'q'],
    ['a limit that is not an integer', { limit: '2.5' }, 'limit'],
    ['a malformed cursor', { cursor: '!!' }, 'cursor'],
  ])('rejects %s with 400', async (_, query, path) => {
    expectValidationError(await get(withQuery(SERVICES_URL, query)), { location: 'query', path });
  });

  it('rejects a repeated filter with 400', async () => {
    expectValidationError(await get(`${SERVICES_URL}?region=global&region=eu-central`), { location: 'query', path: 'region' });
  });
});

describe('GET /api/v1/market/services/:serviceId (§6.3.4)', () => {
  it('answers the MarketServiceDetail: the list item plus one operation contract per operation, in order', async () => {
    const listed = (await ok(`${SERVICES_URL}?q=ros2.bridge.local`)).body.items[0];
    const response = await ok(`${SERVICES_URL}/ros2.bridge.local`);
    const { operationContracts, ...rest } = response.body.item;
    expect(Object.keys(response.body)).toEqual(['item']);
    expect(rest).toEqual(listed);
    expect(response.body.item).not.toHaveProperty('machineContext');
    expect(operationContracts.map((c: Item) => c.operation)).toEqual(listed.operations);
    for (const contract of operationContracts) {
      expect(Object.keys(contract)).toEqual(['operation', 'summary', 'inputFields', 'outputFields', 'exampleInput', 'notes']);
      for (const field of [...contract.inputFields, ...contract.outputFields]) {
        expect(['string', 'number', 'integer', 'boolean', 'object', 'array']).toContain(field.type);
        expect(typeof field.required).toBe('boolean');
      }
    }
    expect(operationContracts[0]).toMatchObject({
      operation: 'send-command',
      exampleInput: { command: 'navigate_to' },
      inputFields: expect.arrayContaining([{ key: 'command', type: 'string', description: expect.any(String), required: true }]),
    });
  });

  it('answers docs-only and external-handoff services too', async () => {
    const docsOnly = await ok(`${SERVICES_URL}/world-id.orb.verify`);
    expect(docsOnly.body.item).toMatchObject({ integrationStatus: 'docs-only', executionMode: 'external-handoff', endpoint: null });
    expect(docsOnly.body.item.operationContracts).toHaveLength(1);
  });

  it('answers 404 (entityType service) for an unknown service, also before an unknown machine', async () => {
    for (const url of [`${SERVICES_URL}/acme.nothing`, `${SERVICES_URL}/acme.nothing?machineId=${UNKNOWN_MACHINE_ID}`]) {
      const response = await get(url);
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ entityType: 'service', id: 'acme.nothing' });
    }
  });

  describe('with ?machineId=', () => {
    let machineId: string;
    beforeAll(async () => {
      const response = await t.inject({
        method: 'POST',
        url: MACHINES_URL,
        payload: {
          displayName: 'Warehouse rover 7',
          ownerId: 'owner-catalog',
          identityRef: 'peaqos:machine:1',
          machineType: 'amr',
          runtimeProfile: 'ros2-humble',
          policyIds: ['pol_allow_1', 'pol_deny_b', 'pol_deny_a'],
        },
      });
      if (response.status !== 201) throw new Error(`create machine: ${response.status} ${response.text}`);
      machineId = response.body.item.id;
    });

    it("adds the machineContext: no runtime endpoint yet, the policies' denials in policyIds order", async () => {
      const response = await ok(`${SERVICES_URL}/qvac.llm.local?machineId=${machineId}`);
      expect(response.body.item.machineContext).toEqual({
        machineId,
        runtimeEndpoint: null,
        policyDenials: [
          { policyId: 'pol_deny_b', reason: 'denies qvac.llm.local' },
          { policyId: 'pol_deny_a', reason: 'denies qvac.llm.local' },
        ],
      });
      const { machineContext, ...service } = response.body.item;
      expect(machineContext).toBeDefined();
      expect(service).toEqual((await ok(`${SERVICES_URL}/qvac.llm.local`)).body.item);
    });

    it('makes no identity or activity checks: a blocked machine gets its context as well', async () => {
      const patched = await t.inject({ method: 'PATCH', url: `${MACHINES_URL}/${machineId}`, payload: { status: 'blocked' } });
      expect(patched.status).toBe(200);
      const response = await ok(`${SERVICES_URL}/pyth.hermes.price-feed?machineId=${machineId}`);
      expect(response.body.item.machineContext.machineId).toBe(machineId);
    });

    it('answers 404 (entityType machine) for an unknown machine', async () => {
      for (const id of [UNKNOWN_MACHINE_ID, 'not-a-machine']) {
        const response = await get(`${SERVICES_URL}/pyth.hermes.price-feed?machineId=${id}`);
        expectError(response, 404, 'NOT_FOUND');
        expect(response.body.error.details).toEqual({ entityType: 'machine', id });
      }
    });

    it('rejects a repeated machineId with 400', async () => {
      expectValidationError(await get(`${SERVICES_URL}/pyth.hermes.price-feed?machineId=${machineId}&machineId=${machineId}`), {
        location: 'query',
        path: 'machineId',
      });
    });
  });
});

describe('GET /api/v1/market/adapters (§6.3.5)', () => {
  let all: Item[];
  beforeAll(async () => {
    all = (await ok(ADAPTERS_URL)).body.items;
  });

  it('lists every adapter by providerKey, each an AdapterSetup', () => {
    expect(all.length).toBeGreaterThanOrEqual(20);
    expect(all.map((a) => a.providerKey)).toEqual(sortedStrings(all.map((a) => a.providerKey)));
    for (const adapter of all) {
      expect(Object.keys(adapter)).toEqual(ADAPTER_MEMBERS);
      for (const field of adapter.credentialFields) expect(Object.keys(field)).toEqual(['key', 'label', 'secret', 'required']);
    }
    expect(all.find((a) => a.providerKey === 'evz').docsUrl).toBeNull();
    expect(all.find((a) => a.providerKey === 'qvac')).toMatchObject({ runtimeEndpointRequired: true, authType: 'local' });
  });

  it('covers every provider key the skills and services use', async () => {
    const providers = new Set(all.map((a) => a.providerKey));
    for (const skill of (await ok(SKILLS_URL)).body.items) expect(providers).toContain(skill.providerKey);
    for (const service of (await ok(SERVICES_URL)).body.items) expect(providers).toContain(service.providerKey);
  });

  it('filters by integrationStatus and authType, combined with AND', async () => {
    const keys = async (query: Record<string, string>) =>
      (await ok(withQuery(ADAPTERS_URL, query))).body.items.map((a: Item) => a.providerKey);
    const where = (predicate: (a: Item) => boolean) => all.filter(predicate).map((a) => a.providerKey);
    expect(await keys({ integrationStatus: 'credentials-required' })).toEqual(where((a) => a.integrationStatus === 'credentials-required'));
    expect(await keys({ authType: 'local' })).toEqual(['ollama', 'qvac', 'ros2']);
    expect(await keys({ integrationStatus: 'docs-only', authType: 'none' })).toEqual(
      where((a) => a.integrationStatus === 'docs-only' && a.authType === 'none'),
    );
    expect(await keys({ integrationStatus: 'native', authType: 'local' })).toEqual([]);
  });

  it('pages by providerKey', async () => {
    const { pages, items } = await walk(ADAPTERS_URL, { limit: '5' });
    expect(items.map((a) => a.providerKey)).toEqual(all.map((a) => a.providerKey));
    expect(pages.length).toBe(Math.ceil(all.length / 5));
  });

  it('rejects invalid enum values and cursors with 400', async () => {
    expectValidationError(await get(`${ADAPTERS_URL}?integrationStatus=docs_only`), { location: 'query', path: 'integrationStatus' });
    expectValidationError(await get(`${ADAPTERS_URL}?authType=oauth`), { location: 'query', path: 'authType' });
    const cursor = (await ok(`${ADAPTERS_URL}?limit=1`)).body.nextCursor;
    const response = await get(`${ADAPTERS_URL}?cursor=${cursor}&authType=none`);
    expectValidationError(response, { location: 'query', path: 'cursor' });
    expect(response.body.error.details.reason).toBe('invalid_cursor');
  });
});

describe('GET /api/v1/market/adapters/:providerKey (§6.3.6)', () => {
  it('answers the adapter, lower-casing the path key', async () => {
    const lower = await ok(`${ADAPTERS_URL}/geodnet`);
    expect(lower.body.item).toMatchObject({
      providerKey: 'geodnet',
      integrationStatus: 'credentials-required',
      credentialFields: expect.arrayContaining([{ key: 'ntripPassword', label: expect.any(String), secret: true, required: true }]),
    });
    expect((await ok(`${ADAPTERS_URL}/GeoDNET`)).body).toEqual(lower.body);
  });

  it('is the adapterSetupPath of every service', async () => {
    const service = (await ok(`${SERVICES_URL}/qvac.llm.local`)).body.item;
    expect((await ok(service.consumption.adapterSetupPath)).body.item.providerKey).toBe('qvac');
  });

  it('answers 404 (entityType adapter) for an unknown provider key', async () => {
    const response = await get(`${ADAPTERS_URL}/Globex`);
    expectError(response, 404, 'NOT_FOUND');
    expect(response.body.error.details).toEqual({ entityType: 'adapter', id: 'Globex' });
  });
});

describe('API-key auth on the catalogue endpoints (§6.3)', () => {
  const KEY = 'catalog-e2e-api-key-0001';
  it('requires the API key when enabled, and nothing else', () =>
    withTestApp({ env: { PEAQOS_REQUIRE_API_AUTH: 'true', PEAQOS_API_KEYS: KEY } }, async (app) => {
      for (const url of [
        SKILLS_URL,
        `${SKILLS_URL}/oracle.price-feed`,
        SERVICES_URL,
        `${SERVICES_URL}/qvac.llm.local`,
        ADAPTERS_URL,
        `${ADAPTERS_URL}/qvac`,
      ]) {
        expectError(await app.inject({ method: 'GET', url }), 401, 'AUTH_REQUIRED');
        expect((await app.inject({ method: 'GET', url, headers: { 'x-api-key': KEY } })).status).toBe(200);
      }
    }));
});
