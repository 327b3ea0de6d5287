import { Injectable } from '@nestjs/common';
import { MACHINE_POLICY_DENIALS, MachinePolicyDenials } from '../../src/application/ports/machine-policy-denials.port';
import { MACHINE_POLICY_EXCLUSIONS, MachinePolicyExclusions } from '../../src/application/ports/machine-policy-exclusions.port';
import { MACHINE_REFERENCES, MachineReferences } from '../../src/application/ports/machine-references.port';
import { verifyChain } from '../../src/domain/shared/hash-chain';
import { encodeCursor } from '../../src/http/pagination/cursor';
import { PolicyReferences } from '../../src/infrastructure/policies/policy-references';
import { catalogService } from '../support/catalog-service';
import { ControllableClock } from '../support/controllable-clock';
import { expectError, expectValidationError } from '../support/http-expectations';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';

const POLICIES_URL = '/api/v1/policies';
const MACHINES_URL = '/api/v1/machines';
const POLICY_ID = /^pol_[0-9A-HJKMNP-TV-Z]{26}$/;
/** Well-formed, never issued. */
const UNKNOWN_POLICY_ID = 'pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const T0 = '2026-02-01T00:00:00.000Z';
const POLICY_MEMBERS = ['createdAt', 'description', 'id', 'name', 'rules', 'updatedAt'];

/**
 * Machine references answered by the real `policies` read model (`PolicyReferences`) and a registry in
 * which every skill exists, until the catalogue's half is combined with it in `AppModule`.
 */
@Injectable()
class PolicyBackedReferences extends PolicyReferences implements MachineReferences {
  unknownSkillKeys(): Promise<string[]> {
    return Promise.resolve([]);
  }
}

const clock = new ControllableClock(T0);
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({
    clock,
    env: { PEAQOS_MACHINE_IDENTITY_VERIFICATION: 'disabled' },
    providers: [{ provide: MACHINE_REFERENCES, useClass: PolicyBackedReferences }],
  });
});
afterAll(() => t?.close());

const post = (payload: unknown) => t.inject({ method: 'POST', url: POLICIES_URL, payload: payload as Record<string, unknown> });
const read = (id: string) => t.inject({ method: 'GET', url: `${POLICIES_URL}/${encodeURIComponent(id)}` });
const patch = (id: string, payload: unknown) =>
  t.inject({ method: 'PATCH', url: `${POLICIES_URL}/${encodeURIComponent(id)}`, payload: payload as Record<string, unknown> });
const remove = (id: string, payload?: unknown) =>
  t.inject({ method: 'DELETE', url: `${POLICIES_URL}/${encodeURIComponent(id)}`, payload: payload as Record<string, unknown> | undefined });
const list = (query: Record<string, string | undefined> = {}) => {
  const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
  return t.inject({ method: 'GET', url: `${POLICIES_URL}${params.size ? `?${params}` : ''}` });
};

type PolicyItem = {
  id: string;
  name: string;
  description: string;
  rules: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
};

/** `POST /policies`, failing loudly unless it answers 201. */
async function create(payload: Record<string, unknown> = {}): Promise<PolicyItem> {
  const response = await post({ name: 'A policy', ...payload });
  if (response.status !== 201) throw new Error(`create policy: ${response.status} ${response.text}`);
  return response.body.item as PolicyItem;
}

let nextMachine = 1;

/** A machine registered without identity checks (`disabled` mode), referencing the policies. */
async function machine(policyIds: string[], status?: 'draft'): Promise<TestResponse> {
  return t.inject({
    method: 'POST',
    url: MACHINES_URL,
    payload: {
      displayName: 'Edge node',
      ownerId: 'owner-policies',
      identityRef: `peaqos:machine:${900_000 + nextMachine++}`,
      machineType: 'edge-node',
      runtimeProfile: 'linux-docker',
      policyIds,
      ...(status ? { status } : {}),
    },
  });
}

async function machineId(policyIds: string[], status?: 'draft'): Promise<string> {
  const response = await machine(policyIds, status);
  if (response.status !== 201) throw new Error(`create machine: ${response.status} ${response.text}`);
  return response.body.item.id as string;
}

const archive = (id: string) => t.inject({ method: 'PATCH', url: `${MACHINES_URL}/${id}`, payload: { status: 'archived' } });

async function policyEvents(id: string) {
  return (await t.storedEvents()).filter((e) => e.streamId === `policy-${id}`);
}

/** Runs `request` and asserts it appended no (non-internal) event. */
async function withoutEvents(request: () => Promise<TestResponse>): Promise<TestResponse> {
  const before = (await t.storedEvents()).length;
  const response = await request();
  expect(await t.storedEvents()).toHaveLength(before);
  return response;
}

function expectPolicyNotFound(response: TestResponse, id: string): void {
  expectError(response, 404, 'NOT_FOUND');
  expect(response.body.error.details).toEqual({ entityType: 'policy', id });
}

function expectPolicyShape(item: PolicyItem): void {
  expect(Object.keys(item).sort()).toEqual(POLICY_MEMBERS);
  expect(item.id).toMatch(POLICY_ID);
  expect(item.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  expect(item.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  // §8.6: unset rule members are omitted, never null.
  for (const value of Object.values(item.rules)) expect(value).not.toBeNull();
}

const FULL_RULES = {
  maxOrderAmount: 25.5,
  currency: 'usdt',
  allowedProviderKeys: ['Acme.Feed', 'other:gw'],
  deniedProviderKeys: ['bad-provider'],
  allowedServiceTypes: ['oracle.price-feed', 'storage.object'],
  requireNativeExecution: true,
};
const NORMALISED_RULES = {
  maxOrderAmount: 25.5,
  currency: 'USDT',
  allowedProviderKeys: ['acme.feed', 'other:gw'],
  deniedProviderKeys: ['bad-provider'],
  allowedServiceTypes: ['oracle.price-feed', 'storage.object'],
  requireNativeExecution: true,
};

describe('POST /policies (§8.6)', () => {
  it('201 with the policy: a pol_ id, description "" and rules {} by default, createdAt = updatedAt; readable afterwards', async () => {
    clock.set('2026-02-01T01:00:00.000Z');
    const response = await post({ name: 'Defaults' });
    expect(response.status).toBe(201);
    const item = response.body.item as PolicyItem;
    expectPolicyShape(item);
    expect(item).toEqual({
      id: item.id,
      name: 'Defaults',
      description: '',
      rules: {},
      createdAt: '2026-02-01T01:00:00.000Z',
      updatedAt: '2026-02-01T01:00:00.000Z',
    });
    const again = await read(item.id);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ item });
  });

  it('stores every rule member: currency upper-cased, provider keys lower-cased', async () => {
    const item = await create({ name: 'Everything', description: 'All\nrules', rules: FULL_RULES });
    expectPolicyShape(item);
    expect(item.description).toBe('All\nrules');
    expect(item.rules).toEqual(NORMALISED_RULES);
    expect((await read(item.id)).body.item.rules).toEqual(NORMALISED_RULES);
  });

  it('omits unset rule members; members sent as null are absent (§0.3); 0, false and [] are kept', async () => {
    const item = await create({
      description: null,
      rules: { maxOrderAmount: 0, currency: null, requireNativeExecution: false, allowedProviderKeys: [], deniedProviderKeys: null },
    });
    expect(item.description).toBe('');
    expect(item.rules).toEqual({ maxOrderAmount: 0, requireNativeExecution: false, allowedProviderKeys: [] });
    expect(Object.keys(item.rules).sort()).toEqual(['allowedProviderKeys', 'maxOrderAmount', 'requireNativeExecution']);
    expect((await create({ rules: null })).rules).toEqual({});
  });

  it('accepts the boundaries: name of 1 and 100 characters, description of 1000, 200 provider keys, 2- and 16-character currencies', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `p${i}`);
    for (const payload of [
      { name: 'x' },
      { name: 'n'.repeat(100), description: 'd'.repeat(1000) },
      { rules: { allowedProviderKeys: keys, deniedProviderKeys: keys } },
      { rules: { currency: 'EU' } },
      { rules: { currency: 'A'.repeat(16), maxOrderAmount: 1e-7 } },
    ]) {
      const response = await post({ name: 'Boundary', ...payload });
      expect({ payload, status: response.status }).toEqual({ payload, status: 201 });
    }
  });

  describe('400 VALIDATION_ERROR, nothing written', () => {
    it.each<[string, unknown, string]>([
      ['name missing', {}, '/name'],
      ['name empty', { name: '' }, '/name'],
      ['name of 101 characters', { name: 'n'.repeat(101) }, '/name'],
      ['name not a string', { name: 42 }, '/name'],
      ['name null', { name: null }, '/name'],
      ['name with a control character', { name: 'a\u0007b' }, '/name'],
      ['description of 1001 characters', { name: 'x', description: 'd'.repeat(1001) }, '/description'],
      ['description not a string', { name: 'x', description: 5 }, '/description'],
      ['description with a control character', { name: 'x', description: 'tab\there' }, '/description'],
      ['rules not an object', { name: 'x', rules: [] }, '/rules'],
      ['rules a string', { name: 'x', rules: 'none' }, '/rules'],
      ['maxOrderAmount negative', { name: 'x', rules: { maxOrderAmount: -0.01 } }, '/rules/maxOrderAmount'],
      ['maxOrderAmount a string', { name: 'x', rules: { maxOrderAmount: '5' } }, '/rules/maxOrderAmount'],
      ['currency of 1 character', { name: 'x', rules: { currency: 'U' } }, '/rules/currency'],
      ['currency of 17 characters', { name: 'x', rules: { currency: 'A'.repeat(17) } }, '/rules/currency'],
      ['currency with a dash', { name: 'x', rules: { currency: 'US-D' } }, '/rules/currency'],
      ['currency not a string', { name: 'x', rules: { currency: 840 } }, '/rules/currency'],
      ['allowedProviderKeys not a list', { name: 'x', rules: { allowedProviderKeys: 'acme' } }, '/rules/allowedProviderKeys'],
      ['allowedProviderKeys with a non-key', { name: 'x', rules: { allowedProviderKeys: ['-acme'] } }, '/rules/allowedProviderKeys'],
      ['deniedProviderKeys with a space', { name: 'x', rules: { deniedProviderKeys: ['a b'] } }, '/rules/deniedProviderKeys'],
      ['deniedProviderKeys with a number', { name: 'x', rules: { deniedProviderKeys: [1] } }, '/rules/deniedProviderKeys'],
      [
        'allowedProviderKeys of 201 keys',
        { name: 'x', rules: { allowedProviderKeys: Array.from({ length: 201 }, (_, i) => `p${i}`) } },
        '/rules/allowedProviderKeys',
      ],
      [
        'allowedProviderKeys with a key of 129 characters',
        { name: 'x', rules: { allowedProviderKeys: ['a'.repeat(129)] } },
        '/rules/allowedProviderKeys',
      ],
      [
        'allowedServiceTypes with an unknown type',
        { name: 'x', rules: { allowedServiceTypes: ['oracle.weather'] } },
        '/rules/allowedServiceTypes',
      ],
      ['allowedServiceTypes not a list', { name: 'x', rules: { allowedServiceTypes: 'storage.object' } }, '/rules/allowedServiceTypes'],
      ['requireNativeExecution a string', { name: 'x', rules: { requireNativeExecution: 'true' } }, '/rules/requireNativeExecution'],
      ['an unknown member', { name: 'x', owner: 'me' }, '/owner'],
      ['an unknown rules member', { name: 'x', rules: { maxAmount: 5 } }, '/rules/maxAmount'],
      ['a rules member named like an Object method', { name: 'x', rules: { toString: 'x' } }, '/rules/toString'],
    ])('%s', async (_label, payload, path) => {
      const response = await withoutEvents(() => post(payload));
      expectValidationError(response, { location: 'body', path });
    });

    it('a body that is not a JSON object', async () => {
      const response = await withoutEvents(() =>
        t.inject({ method: 'POST', url: POLICIES_URL, payload: '[1]', headers: { 'content-type': 'application/json' } }),
      );
      expectValidationError(response);
    });
  });
});

describe('GET /policies/:policyId', () => {
  it('404 NOT_FOUND (entityType policy) for an unknown id, whatever its prefix', async () => {
    for (const id of [UNKNOWN_POLICY_ID, 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2C', 'whatever', 'pol_']) {
      expectPolicyNotFound(await read(id), id);
    }
  });
});

describe('PATCH /policies/:policyId (§8.6 merge)', () => {
  it('merges rules member by member, replaces name and description, moves updatedAt only', async () => {
    clock.set('2026-02-02T00:00:00.000Z');
    const created = await create({
      name: 'Capped',
      description: 'before',
      rules: { maxOrderAmount: 5, currency: 'USDT', allowedServiceTypes: ['oracle.price-feed'] },
    });
    clock.set('2026-02-02T00:00:01.000Z');
    const response = await patch(created.id, {
      name: 'Capped higher',
      description: 'after',
      rules: { maxOrderAmount: 10, deniedProviderKeys: ['Bad.One'] },
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      item: {
        id: created.id,
        name: 'Capped higher',
        description: 'after',
        rules: { maxOrderAmount: 10, currency: 'USDT', deniedProviderKeys: ['bad.one'], allowedServiceTypes: ['oracle.price-feed'] },
        createdAt: '2026-02-02T00:00:00.000Z',
        updatedAt: '2026-02-02T00:00:01.000Z',
      },
    });
    expect((await read(created.id)).body).toEqual(response.body);
  });

  it('null removes a rule member (omitted from the response); absent members stay', async () => {
    const created = await create({ rules: FULL_RULES });
    const response = await patch(created.id, { rules: { currency: null, allowedProviderKeys: null, requireNativeExecution: null } });
    expect(response.status).toBe(200);
    expect(response.body.item.rules).toEqual({
      maxOrderAmount: 25.5,
      deniedProviderKeys: ['bad-provider'],
      allowedServiceTypes: ['oracle.price-feed', 'storage.object'],
    });
    expect(Object.keys(response.body.item.rules)).not.toContain('currency');
  });

  it('name, description or rules sent as null are absent (§0.3)', async () => {
    const created = await create({ name: 'Kept', description: 'kept', rules: { currency: 'EUR' } });
    const response = await withoutEvents(() => patch(created.id, { name: null, description: null, rules: null }));
    expect(response.status).toBe(200);
    expect(response.body.item).toEqual(created);
  });

  it('a PATCH that changes nothing writes nothing and keeps updatedAt', async () => {
    const created = await create({ name: 'Same', rules: { currency: 'USDT', maxOrderAmount: 1 } });
    clock.advance(60_000);
    for (const body of [
      {},
      { name: 'Same' },
      { rules: { currency: 'usdt', maxOrderAmount: 1, deniedProviderKeys: null } },
      { rules: {} },
    ]) {
      const response = await withoutEvents(() => patch(created.id, body));
      expect(response.status).toBe(200);
      expect(response.body.item).toEqual(created);
    }
  });

  it('400 VALIDATION_ERROR for invalid members (at every level), before the existence check', async () => {
    const created = await create();
    for (const [body, path] of [
      [{ name: '' }, '/name'],
      [{ description: 'd'.repeat(1001) }, '/description'],
      [{ rules: { maxOrderAmount: -1 } }, '/rules/maxOrderAmount'],
      [{ rules: { currency: 'U$D' } }, '/rules/currency'],
      [{ rules: { allowedServiceTypes: ['nope'] } }, '/rules/allowedServiceTypes'],
      [{ rules: { requireNativeExecution: 1 } }, '/rules/requireNativeExecution'],
      [{ rules: { unknown: null } }, '/rules/unknown'],
      [{ id: 'pol_other' }, '/id'],
      [{ createdAt: T0 }, '/createdAt'],
    ] as Array<[Record<string, unknown>, string]>) {
      expectValidationError(await withoutEvents(() => patch(created.id, body)), { location: 'body', path });
      expectValidationError(await patch(UNKNOWN_POLICY_ID, body), { location: 'body', path });
    }
  });

  it('404 NOT_FOUND for an unknown id, whatever its prefix', async () => {
    for (const id of [UNKNOWN_POLICY_ID, 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2C', 'whatever']) {
      expectPolicyNotFound(await withoutEvents(() => patch(id, { name: 'x' })), id);
    }
  });
});

describe('DELETE /policies/:policyId', () => {
  it('204 without a body; the policy is NOT_FOUND afterwards (GET, PATCH, DELETE) and no longer listed', async () => {
    const { id } = await create({ name: 'Short-lived' });
    const response = await remove(id);
    expect(response.status).toBe(204);
    expect(response.text).toBe('');
    expectPolicyNotFound(await read(id), id);
    expectPolicyNotFound(await withoutEvents(() => patch(id, { name: 'Back' })), id);
    expectPolicyNotFound(await withoutEvents(() => remove(id)), id);
    const ids = (await list({ limit: '500' })).body.items.map((p: PolicyItem) => p.id);
    expect(ids).not.toContain(id);
  });

  it('404 NOT_FOUND for an unknown id, whatever its prefix', async () => {
    for (const id of [UNKNOWN_POLICY_ID, 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2C', 'whatever']) {
      expectPolicyNotFound(await withoutEvents(() => remove(id)), id);
    }
  });

  it('400 VALIDATION_ERROR for a request body other than {}', async () => {
    const { id } = await create();
    expectValidationError(await withoutEvents(() => remove(id, { force: true })), { location: 'body', path: '' });
    expect((await remove(id, {})).status).toBe(204);
  });

  it('409 POLICY_IN_USE while non-archived machines reference it (machineIds ascending); archived machines do not block', async () => {
    const policy = await create({ name: 'In use' });
    const other = await create({ name: 'Other' });
    const active = await machineId([other.id, policy.id]);
    const draft = await machineId([policy.id], 'draft');
    await machineId([other.id]);

    const blocked = await withoutEvents(() => remove(policy.id));
    expectError(blocked, 409, 'POLICY_IN_USE');
    expect(blocked.body.error.details).toEqual({ policyId: policy.id, machineIds: [active, draft].sort() });

    expect((await archive(active)).status).toBe(200);
    const stillBlocked = await withoutEvents(() => remove(policy.id));
    expectError(stillBlocked, 409, 'POLICY_IN_USE');
    expect(stillBlocked.body.error.details).toEqual({ policyId: policy.id, machineIds: [draft] });

    const unreferenced = await t.inject({ method: 'PATCH', url: `${MACHINES_URL}/${draft}`, payload: { policyIds: [] } });
    expect(unreferenced.status).toBe(200);
    expect((await remove(policy.id)).status).toBe(204);

    // Archived machines keep the dangling id (§8.6); the other policy is untouched.
    const archived = await t.inject({ method: 'GET', url: `${MACHINES_URL}/${active}` });
    expect(archived.body.item.policyIds).toEqual([other.id, policy.id]);
    expect((await read(other.id)).status).toBe(200);
  });
});

describe('machines reference policies (§4.1 policyIds, through MACHINE_REFERENCES)', () => {
  it('accepts existing policies and refuses unknown or deleted ones with 404 entityType policy', async () => {
    const kept = await create({ name: 'Kept' });
    const gone = await create({ name: 'Gone' });
    expect((await remove(gone.id)).status).toBe(204);

    expect((await machine([kept.id])).status).toBe(201);
    for (const id of [UNKNOWN_POLICY_ID, gone.id]) {
      const response = await machine([kept.id, id]);
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ entityType: 'policy', id });
    }
  });
});

describe('ports answered by the policies read model', () => {
  const service = () =>
    catalogService({ executionMode: 'external-handoff', pricing: { mode: 'fixed', amount: 2, currency: 'USDT', rate: null, notes: [] } });

  it('MACHINE_POLICY_DENIALS: the first failing rule of each policy, in the given order; unknown ids deny nothing', async () => {
    const native = await create({ rules: { requireNativeExecution: true, maxOrderAmount: 1 } });
    const capped = await create({ rules: { maxOrderAmount: 1, currency: 'usdt' } });
    const open = await create();
    const denials = t.app.get<symbol, MachinePolicyDenials>(MACHINE_POLICY_DENIALS);
    expect(await denials.denialsFor([capped.id, UNKNOWN_POLICY_ID, open.id, native.id], service())).toEqual([
      { policyId: capped.id, reason: 'exceeds_max_order_amount' },
      { policyId: native.id, reason: 'native_execution_required' },
    ]);
    // Changes apply immediately.
    expect((await patch(capped.id, { rules: { maxOrderAmount: null } })).status).toBe(200);
    expect(await denials.denialsFor([capped.id], service())).toEqual([]);
  });

  it('MACHINE_POLICY_EXCLUSIONS: the §6.4.4 X5 reasons', async () => {
    const policy = await create({ rules: { deniedProviderKeys: ['ACME'], maxOrderAmount: 1.5 } });
    const exclusions = t.app.get<symbol, MachinePolicyExclusions>(MACHINE_POLICY_EXCLUSIONS);
    const reasonsFor = await exclusions.reasonsFor([policy.id, UNKNOWN_POLICY_ID]);
    expect(reasonsFor(service())).toEqual([
      `machine policy ${policy.id}: provider 'acme' is denied`,
      `machine policy ${policy.id}: price 2 USDT exceeds maxOrderAmount 1.5`,
    ]);
  });
});

describe('audit events (§8.7.2): stream policy-<id>', () => {
  it('policy.created with the policy as returned, policy.updated with { changes, at }, policy.deleted with { id }, hash-chained', async () => {
    clock.set('2026-02-03T00:00:00.000Z');
    const created = await create({ name: 'Audited', rules: { currency: 'eur', maxOrderAmount: 3 } });
    clock.set('2026-02-03T00:00:01.000Z');
    const updated = (await patch(created.id, { description: 'now described', rules: { currency: null } })).body.item as PolicyItem;
    clock.set('2026-02-03T00:00:02.000Z');
    expect((await remove(created.id)).status).toBe(204);

    const events = await policyEvents(created.id);
    expect(events.map((e) => [e.revision, e.type, e.data])).toEqual([
      [0, 'policy.created', created],
      [1, 'policy.updated', { changes: { description: 'now described', rules: updated.rules }, at: '2026-02-03T00:00:01.000Z' }],
      [2, 'policy.deleted', { id: created.id }],
    ]);
    expect(events.map((e) => e.metadata.occurredAt)).toEqual([
      '2026-02-03T00:00:00.000Z',
      '2026-02-03T00:00:01.000Z',
      '2026-02-03T00:00:02.000Z',
    ]);
    expect(verifyChain(events)).toBeNull();
  });
});

describe('GET /policies (§0.10, createdAt descending, ties by id descending)', () => {
  let fresh: TestApp;
  const listClock = new ControllableClock('2026-04-01T00:00:00.000Z');
  let expected: string[];

  const listFresh = (query: Record<string, string | undefined> = {}) => {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    return fresh.inject({ method: 'GET', url: `${POLICIES_URL}${params.size ? `?${params}` : ''}` });
  };

  beforeAll(async () => {
    fresh = await startTestApp({ clock: listClock });
    const made: PolicyItem[] = [];
    // Two policies share each timestamp: the tie is broken by id, descending.
    for (const offset of [0, 0, 1000, 1000, 2000, 3000, 3000]) {
      listClock.set(new Date(Date.parse('2026-04-01T00:00:00.000Z') + offset));
      const response = await fresh.inject({ method: 'POST', url: POLICIES_URL, payload: { name: `p${made.length}` } });
      made.push(response.body.item as PolicyItem);
    }
    const deleted = made.splice(2, 1)[0];
    expect((await fresh.inject({ method: 'DELETE', url: `${POLICIES_URL}/${deleted.id}` })).status).toBe(204);
    expected = made
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1))
      .map((p) => p.id);
  });
  afterAll(() => fresh?.close());

  it('lists every live policy in one page by default, without nextCursor', async () => {
    const response = await listFresh();
    expect(response.status).toBe(200);
    expect(Object.keys(response.body)).toEqual(['items']);
    expect(response.body.items.map((p: PolicyItem) => p.id)).toEqual(expected);
    for (const item of response.body.items) expectPolicyShape(item);
  });

  it('walks pages of any limit through nextCursor, each item once', async () => {
    for (const limit of ['1', '2', '5', '6']) {
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await listFresh({ limit, cursor });
        expect(page.status).toBe(200);
        ids.push(...page.body.items.map((p: PolicyItem) => p.id));
        cursor = page.body.nextCursor;
        if (cursor !== undefined) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      } while (cursor !== undefined && ++pages < 20);
      expect({ limit, ids }).toEqual({ limit, ids: expected });
    }
  });

  it('400 VALIDATION_ERROR for a limit out of range or not an integer', async () => {
    for (const limit of ['0', '501', '-1', '1.5', 'ten']) {
      expectValidationError(await listFresh({ limit }), { location: 'query', path: 'limit' });
    }
  });

  it('400 invalid_cursor for a malformed cursor or one issued by another endpoint', async () => {
    for (const cursor of ['not a cursor!', encodeCursor('GET /machines', {}, ['2026-04-01T00:00:00.000Z', 'pol_x'])]) {
      const response = await listFresh({ cursor });
      expectValidationError(response, { location: 'query', path: 'cursor' });
      expect(response.body.error.details.reason).toBe('invalid_cursor');
    }
  });
});
