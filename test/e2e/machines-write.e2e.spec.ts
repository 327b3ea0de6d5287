import { MACHINE_REFERENCES, MachineReferences } from '../../src/application/ports/machine-references.port';
import { OPEN_MARKET_ORDERS, OpenMarketOrders } from '../../src/application/ports/open-market-orders.port';
import { ControllableClock } from '../support/controllable-clock';
import { expectError, expectValidationError } from '../support/http-expectations';
import {
  dataFilesText,
  expectedProof,
  expectMachineShape,
  expectProofInvalid,
  MACHINE_ID,
  MachineApi,
  requiredModeOverrides,
  useMachineApp,
  MachineItem,
  signatureFingerprint,
  UNKNOWN_CHALLENGE_ID,
  UNKNOWN_MACHINE_ID,
  withoutEvents,
  withV,
} from '../support/machine-api';
import { McrTestServer } from '../support/mcr-server';
import { TestApp, TestResponse } from '../support/test-app';

const T0 = '2026-02-01T12:00:00.000Z';
/** A valid EIP-55 address no test device uses. */
const OTHER_ADDRESS = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';

/** §0.8: a body error at `path` or below it (an entry of a list or map may be pointed at directly). */
function expectBodyError(response: TestResponse, path: string): void {
  expectValidationError(response);
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  expect(response.body.error.details.errors).toContainEqual(
    expect.objectContaining({ location: 'body', path: expect.stringMatching(new RegExp(`^${escaped}(/.*)?$`)) }),
  );
}

const range = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => make(i));
const manyLabels = (n: number): Record<string, string> => Object.fromEntries(range(n, (i) => `k${i}`).map((key) => [key, 'v']));

describe('machines in required mode: POST /machines, GET /machines/:machineId, PATCH /machines/:machineId (§4.6.3–§4.6.5)', () => {
  const clock = new ControllableClock(T0);
  let mcr: McrTestServer;
  let t: TestApp;
  let api: MachineApi;
  useMachineApp(requiredModeOverrides(clock), (app) => ({ mcr, t, api } = app));

  const now = () => clock.now().toISOString();
  /** Moves the clock on so that the next write has a timestamp of its own. */
  const tick = () => {
    clock.advance(1000);
    return now();
  };

  describe('the walk: challenge → sign → register → read → patch → archive → the identity is free again', () => {
    it('registers, reads, patches and archives with a fresh proof each time, then registers the identity anew', async () => {
      const device = api.identity();
      const ownerId = 'owner-walk';

      const challenge = await api.challenge(device.did);
      const signature = await device.key.signMessage({ message: challenge.message });
      const registeredAt = tick();
      const created = await api.create(
        api.body(device.did, {
          ownerId,
          capabilities: ['gpu', 'camera', 'gpu'],
          labels: { site: 'berlin' },
          identityProof: { challengeId: challenge.challengeId, signature },
        }),
      );

      expect(created.status).toBe(201);
      expect(created.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(Object.keys(created.body)).toEqual(['item']);
      const machine: MachineItem = created.body.item;
      expectMachineShape(machine);
      expect(machine).toEqual({
        id: expect.stringMatching(MACHINE_ID),
        displayName: 'Edge node',
        status: 'active',
        ownerId,
        identityRef: device.did,
        identityProof: expectedProof(challenge, device.key.address, registeredAt),
        machineType: 'edge-node',
        runtimeProfile: 'linux-docker',
        capabilities: ['gpu', 'camera'],
        labels: { site: 'berlin' },
        policyIds: [],
        skillKeys: [],
        createdAt: registeredAt,
        updatedAt: registeredAt,
      });

      const read = await api.read(machine.id);
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ item: machine });
      const listed = await api.list({ ownerId });
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual({ items: [machine] });

      const patchChallenge = await api.challenge(machine.identityRef);
      const patchedAt = tick();
      const patched = await api.update(machine.id, {
        displayName: 'Edge node 2',
        capabilities: ['lidar'],
        labels: { zone: 'a' },
        status: 'degraded',
        identityProof: {
          challengeId: patchChallenge.challengeId,
          signature: await device.key.signMessage({ message: patchChallenge.message }),
        },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual({
        item: {
          ...machine,
          displayName: 'Edge node 2',
          capabilities: ['lidar'],
          labels: { zone: 'a' },
          status: 'degraded',
          identityProof: expectedProof(patchChallenge, device.key.address, patchedAt),
          updatedAt: patchedAt,
        },
      });
      expect((await api.read(machine.id)).body).toEqual(patched.body);

      const archived = await api.patch(machine, device, { status: 'archived' });
      expect(archived.status).toBe(200);
      expect(archived.body.item.status).toBe('archived');
      expect((await api.read(machine.id)).body.item.status).toBe('archived');
      expect((await api.list({ ownerId })).body.items).toEqual([]);
      expect((await api.list({ ownerId, status: 'archived' })).body.items.map((i: MachineItem) => i.id)).toEqual([machine.id]);

      const again = await api.register(device, { ownerId });
      expect(again.id).not.toBe(machine.id);
      expect(again).toEqual(expect.objectContaining({ identityRef: device.did, status: 'active' }));
      expect((await api.list({ ownerId })).body.items.map((i: MachineItem) => i.id)).toEqual([again.id]);
    });
  });

  describe('POST /machines: what is stored and returned', () => {
    it('defaults: status active, capabilities [], skillKeys [], policyIds [], labels {}', async () => {
      const device = api.identity();
      const item = await api.register(device);
      expectMachineShape(item);
      expect(item).toEqual(expect.objectContaining({ status: 'active', capabilities: [], skillKeys: [], policyIds: [], labels: {} }));
    });

    it('treats optional members sent as null as absent (§0.3)', async () => {
      const device = api.identity();
      const item = await api.register(device, { capabilities: null, skillKeys: null, policyIds: null, labels: null, status: null });
      expect(item).toEqual(expect.objectContaining({ status: 'active', capabilities: [], skillKeys: [], policyIds: [], labels: {} }));
    });

    it('returns a lower-case DID normalised to EIP-55, in the machine and in its proof', async () => {
      const device = api.identity();
      const identityProof = await api.proof(device.lowerDid, device.key);
      const response = await api.create(api.body(device.lowerDid, { identityProof }));
      expect(response.status).toBe(201);
      expect(response.body.item.identityRef).toBe(device.did);
      expect(response.body.item.identityProof.identityRef).toBe(device.did);
    });

    it('registers the peaqos:machine:<id> form, verified by the MCR operator, with both controllers in the proof', async () => {
      const device = api.identity({ withOperator: true });
      const operator = device.operator!;
      const challenge = await api.challenge(device.machineRef);
      const signature = await operator.signMessage({ message: challenge.message });
      const response = await api.create(api.body(device.machineRef, { identityProof: { challengeId: challenge.challengeId, signature } }));

      expect(response.status).toBe(201);
      const item: MachineItem = response.body.item;
      expect(item.identityRef).toBe(device.machineRef);
      expect(item.identityProof).toEqual(expectedProof(challenge, operator.address, now()));
      expect(item.identityProof!.controllerAddresses).toEqual([device.key.address, operator.address]);
    });

    it('removes duplicate capabilities, keeping the first occurrence', async () => {
      const item = await api.register(api.identity(), { capabilities: ['b', 'a', 'b', 'c', 'a'] });
      expect(item.capabilities).toEqual(['b', 'a', 'c']);
    });

    it('accepts the boundary values of the §4.1 field rules', async () => {
      const labels: Record<string, string> = manyLabels(62);
      labels['K'.repeat(63)] = 'v'.repeat(256);
      labels['a._/-Z9'] = '';
      const body = {
        displayName: 'd'.repeat(200),
        ownerId: 'o'.repeat(200),
        machineType: 'm'.repeat(100),
        runtimeProfile: 'r'.repeat(100),
        capabilities: range(100, (i) => `${i}`.padEnd(100, 'c')),
        labels,
      };
      const item = await api.register(api.identity(), body);
      expect(item).toEqual(expect.objectContaining(body));
      expect(Object.keys(item.labels)).toHaveLength(64);
    });

    it('registers a draft (with its proof) for an unbonded identity', async () => {
      const device = api.identity({ bondStatus: 'unbonded' });
      const item = await api.register(device, { status: 'draft' });
      expect(item.status).toBe('draft');
      expect(item.identityProof).toEqual(expect.objectContaining({ signerAddress: device.key.address }));
    });
  });

  describe('request validation: 400 VALIDATION_ERROR, nothing written, MCR not called', () => {
    const validDid = `did:peaq:${OTHER_ADDRESS}`;
    /** A body that would pass validation; the proof is a dummy that would fail verification later. */
    const base = (overrides: Record<string, unknown>) => ({
      displayName: 'Edge node',
      ownerId: 'owner-1',
      identityRef: validDid,
      machineType: 'edge-node',
      runtimeProfile: 'linux-docker',
      identityProof: { challengeId: UNKNOWN_CHALLENGE_ID, signature: `0x${'1'.repeat(130)}` },
      ...overrides,
    });
    const without = (member: string) => {
      const body: Record<string, unknown> = base({});
      delete body[member];
      return body;
    };

    it.each<[string, Record<string, unknown>, string]>([
      ['displayName missing', without('displayName'), '/displayName'],
      ['displayName empty', base({ displayName: '' }), '/displayName'],
      ['displayName of 201 characters', base({ displayName: 'd'.repeat(201) }), '/displayName'],
      ['displayName of whitespace only', base({ displayName: '   ' }), '/displayName'],
      ['displayName with a NUL', base({ displayName: 'a\u0000b' }), '/displayName'],
      ['displayName with a line feed', base({ displayName: 'a\nb' }), '/displayName'],
      ['displayName not a string', base({ displayName: 42 }), '/displayName'],
      ['ownerId missing', without('ownerId'), '/ownerId'],
      ['ownerId of 201 characters', base({ ownerId: 'o'.repeat(201) }), '/ownerId'],
      ['ownerId of whitespace only', base({ ownerId: ' \t ' }), '/ownerId'],
      ['ownerId with a tab', base({ ownerId: 'a\tb' }), '/ownerId'],
      ['machineType missing', without('machineType'), '/machineType'],
      ['machineType empty', base({ machineType: '' }), '/machineType'],
      ['machineType of 101 characters', base({ machineType: 'm'.repeat(101) }), '/machineType'],
      ['machineType with an escape', base({ machineType: 'edge\u001bnode' }), '/machineType'],
      ['runtimeProfile missing', without('runtimeProfile'), '/runtimeProfile'],
      ['runtimeProfile of 101 characters', base({ runtimeProfile: 'r'.repeat(101) }), '/runtimeProfile'],
      ['runtimeProfile with a carriage return', base({ runtimeProfile: 'linux\r' }), '/runtimeProfile'],
      ['runtimeProfile not a string', base({ runtimeProfile: ['linux'] }), '/runtimeProfile'],
      ['identityRef missing', without('identityRef'), '/identityRef'],
      ['identityRef not a string', base({ identityRef: 42 }), '/identityRef'],
      ['capabilities not an array', base({ capabilities: 'gpu' }), '/capabilities'],
      ['101 capabilities', base({ capabilities: range(101, (i) => `c${i}`) }), '/capabilities'],
      ['an empty capability', base({ capabilities: ['gpu', ''] }), '/capabilities'],
      ['a capability of 101 characters', base({ capabilities: ['c'.repeat(101)] }), '/capabilities'],
      ['a capability with a control character', base({ capabilities: ['g\u0002pu'] }), '/capabilities'],
      ['a capability that is not a string', base({ capabilities: [1] }), '/capabilities'],
      ['skillKeys not an array', base({ skillKeys: 'oracle.price-feed' }), '/skillKeys'],
      ['101 skillKeys', base({ skillKeys: range(101, (i) => `skill.${i}`) }), '/skillKeys'],
      ['a skillKey that is not a string', base({ skillKeys: [7] }), '/skillKeys'],
      ['labels as an array', base({ labels: ['a'] }), '/labels'],
      ['labels as a string', base({ labels: 'a=b' }), '/labels'],
      ['a label key starting with "-"', base({ labels: { '-a': '1' } }), '/labels'],
      ['an empty label key', base({ labels: { '': '1' } }), '/labels'],
      ['a label key of 64 characters', base({ labels: { ['k'.repeat(64)]: '1' } }), '/labels'],
      ['a label key with a space', base({ labels: { 'a b': '1' } }), '/labels'],
      ['a label value of 257 characters', base({ labels: { a: 'v'.repeat(257) } }), '/labels'],
      ['a label value that is not a string', base({ labels: { a: 1 } }), '/labels'],
      ['65 labels', base({ labels: manyLabels(65) }), '/labels'],
      ['policyIds not an array', base({ policyIds: 'pol_1' }), '/policyIds'],
      ['33 policyIds', base({ policyIds: range(33, (i) => `pol_${i}`) }), '/policyIds'],
      ['status degraded (a new machine is draft or active)', base({ status: 'degraded' }), '/status'],
      ['status not a MachineStatus', base({ status: 'bogus' }), '/status'],
      ['status not a string', base({ status: 1 }), '/status'],
      ['identityProof not an object', base({ identityProof: 'proof' }), '/identityProof'],
      ['identityProof without signature', base({ identityProof: { challengeId: UNKNOWN_CHALLENGE_ID } }), '/identityProof'],
      ['identityProof without challengeId', base({ identityProof: { signature: '0x00' } }), '/identityProof'],
      ['identityProof with an empty challengeId', base({ identityProof: { challengeId: '', signature: '0x00' } }), '/identityProof'],
      [
        'identityProof with an empty signature',
        base({ identityProof: { challengeId: UNKNOWN_CHALLENGE_ID, signature: '' } }),
        '/identityProof',
      ],
      [
        'identityProof signature not a string',
        base({ identityProof: { challengeId: UNKNOWN_CHALLENGE_ID, signature: 1 } }),
        '/identityProof',
      ],
      [
        'an unknown member inside identityProof',
        base({ identityProof: { challengeId: UNKNOWN_CHALLENGE_ID, signature: '0x00', extra: true } }),
        '/identityProof/extra',
      ],
      ['an unknown top-level member', base({ extra: true }), '/extra'],
      ['a snake_case spelling', base({ display_name: 'x' }), '/display_name'],
      ['a server-set member (id)', base({ id: UNKNOWN_MACHINE_ID }), '/id'],
      ['a server-set member (createdAt)', base({ createdAt: T0 }), '/createdAt'],
    ])('POST rejects %s', async (_, body, path) => {
      mcr.clearLog();
      const response = await withoutEvents(t, () => api.create(body));
      expectBodyError(response, path);
      expect(mcr.count()).toBe(0);
    });

    const breakChecksum = (address: string) => address.replace('a', 'A');
    it.each([
      ['an Economics 2.0 DID', 'did:peaq:123'],
      ['a DID with a bad EIP-55 checksum', `did:peaq:${breakChecksum(OTHER_ADDRESS)}`],
      ['a DID with 39 hex characters', `did:peaq:${OTHER_ADDRESS.slice(0, -1)}`],
      ['an upper-case prefix', `DID:PEAQ:${OTHER_ADDRESS}`],
      ['a machine id with a leading zero', 'peaqos:machine:0123'],
      ['machine id 0', 'peaqos:machine:0'],
      ['a machine id of 2^256', `peaqos:machine:${(1n << 256n).toString()}`],
      ['a machine id with a letter', 'peaqos:machine:12a'],
      ['a leading space', ` did:peaq:${OTHER_ADDRESS}`],
      ['an empty string', ''],
    ])('POST rejects %s with reason unsupported_identity_ref', async (_, identityRef) => {
      expect(breakChecksum(OTHER_ADDRESS)).not.toBe(OTHER_ADDRESS);
      mcr.clearLog();
      const response = await withoutEvents(t, () => api.create(base({ identityRef })));
      expectValidationError(response, { location: 'body', path: '/identityRef' });
      expect(response.body.error.details.reason).toBe('unsupported_identity_ref');
      expect(mcr.count()).toBe(0);
    });

    describe('PATCH', () => {
      let machine: MachineItem;
      beforeAll(async () => {
        machine = await api.register(api.identity());
      });
      const dummyProof = { challengeId: UNKNOWN_CHALLENGE_ID, signature: `0x${'1'.repeat(130)}` };

      it.each<[string, Record<string, unknown>, string]>([
        ['displayName empty', { displayName: '' }, '/displayName'],
        ['ownerId of 201 characters', { ownerId: 'o'.repeat(201) }, '/ownerId'],
        ['machineType with a control character', { machineType: 'a\u0007' }, '/machineType'],
        ['status not a MachineStatus', { status: 'retired' }, '/status'],
        ['status not a string', { status: true }, '/status'],
        ['101 capabilities', { capabilities: range(101, (i) => `c${i}`) }, '/capabilities'],
        ['a bad label key', { labels: { _x: '1' } }, '/labels'],
        ['identityRef of an unsupported form', { identityRef: 'did:peaq:123' }, '/identityRef'],
        ['an unknown member', { extra: 1 }, '/extra'],
        ['a server-set member (updatedAt)', { updatedAt: T0 }, '/updatedAt'],
        ['an unknown member inside identityProof', { identityProof: { ...dummyProof, nonce: 'x' } }, '/identityProof/nonce'],
      ])('rejects %s', async (_, body, path) => {
        mcr.clearLog();
        const response = await withoutEvents(t, () => api.update(machine.id, { identityProof: dummyProof, ...body }));
        expectBodyError(response, path);
        expect(mcr.count()).toBe(0);
      });

      it('reports an unsupported identityRef with reason unsupported_identity_ref', async () => {
        const response = await api.update(machine.id, { identityRef: 'peaqos:machine:0', identityProof: dummyProof });
        expectValidationError(response, { location: 'body', path: '/identityRef' });
        expect(response.body.error.details.reason).toBe('unsupported_identity_ref');
      });
    });
  });

  describe('400 MACHINE_IDENTITY_PROOF_REQUIRED, reason missing_in_request (required mode)', () => {
    it.each([
      ['without identityProof', {}],
      ['with identityProof null', { identityProof: null }],
    ])('POST %s', async (_, extra) => {
      const device = api.identity();
      const response = await withoutEvents(t, () => api.create(api.body(device.did, extra)));
      expectError(response, 400, 'MACHINE_IDENTITY_PROOF_REQUIRED');
      expect(response.body.error.details).toEqual({ reason: 'missing_in_request' });
    });

    it('POST of a draft without identityProof', async () => {
      const response = await withoutEvents(t, () => api.create(api.body(api.identity().did, { status: 'draft' })));
      expectError(response, 400, 'MACHINE_IDENTITY_PROOF_REQUIRED');
      expect(response.body.error.details).toEqual({ reason: 'missing_in_request' });
    });

    it.each([
      ['a field change', { displayName: 'Renamed' }],
      ['archiving (every PATCH needs a fresh proof)', { status: 'archived' }],
      ['an empty body', {}],
      ['identityProof null', { displayName: 'Renamed', identityProof: null }],
    ])('PATCH with %s and no proof', async (_, body) => {
      const machine = await api.register(api.identity());
      const response = await withoutEvents(t, () => api.update(machine.id, body));
      expectError(response, 400, 'MACHINE_IDENTITY_PROOF_REQUIRED');
      expect(response.body.error.details).toEqual({ reason: 'missing_in_request' });
      expect((await api.read(machine.id)).body.item).toEqual(machine);
    });
  });

  describe('status transitions (§4.7)', () => {
    it('walks draft → active → degraded → active → blocked → active → archived, one machine.status_changed each', async () => {
      const device = api.identity();
      const machine = await api.register(device, { status: 'draft' });
      const path = ['active', 'degraded', 'active', 'blocked', 'active', 'archived'];
      for (const status of path) {
        const response = await api.patch(machine, device, { status });
        expect({ status, code: response.status }).toEqual({ status, code: 200 });
        expect(response.body.item.status).toBe(status);
      }
      const changes = (await api.machineEvents(machine.id)).filter((e) => e.type === 'machine.status_changed').map((e) => e.data);
      const froms = ['draft', ...path.slice(0, -1)];
      expect(changes).toEqual(path.map((to, i) => expect.objectContaining({ from: froms[i], to })));
    });

    it('draft → blocked → archived', async () => {
      const device = api.identity();
      const machine = await api.register(device, { status: 'draft' });
      expect((await api.patch(machine, device, { status: 'blocked' })).body.item.status).toBe('blocked');
      expect((await api.patch(machine, device, { status: 'archived' })).body.item.status).toBe('archived');
    });

    it('PATCH to the current status is not a transition: 200 and no machine.status_changed', async () => {
      const device = api.identity();
      const machine = await api.register(device);
      const response = await api.patch(machine, device, { status: 'active' });
      expect(response.status).toBe(200);
      expect((await api.machineEvents(machine.id)).map((e) => e.type)).not.toContain('machine.status_changed');
    });

    it.each<[string, string, string[]]>([
      ['active', 'draft', ['degraded', 'blocked', 'archived']],
      ['degraded', 'draft', ['active', 'blocked', 'archived']],
      ['blocked', 'degraded', ['active', 'archived']],
      ['draft', 'degraded', ['active', 'blocked', 'archived']],
    ])('%s → %s is refused: 409 STATE_CONFLICT, reason invalid_transition, with the allowed targets', async (from, to, allowed) => {
      const device = api.identity();
      const machine = await api.register(device, { status: from === 'draft' ? 'draft' : 'active' });
      if (from !== 'draft' && from !== 'active') expect((await api.patch(machine, device, { status: from })).status).toBe(200);

      const proof = await api.proof(machine.identityRef, device.key);
      const response = await withoutEvents(t, () => api.update(machine.id, { status: to, identityProof: proof }));
      expectError(response, 409, 'STATE_CONFLICT');
      const { allowed: given, ...rest } = response.body.error.details;
      expect(rest).toEqual({ entityType: 'machine', id: machine.id, status: from, reason: 'invalid_transition' });
      expect([...given].sort()).toEqual([...allowed].sort());
    });

    it('an archived machine is read-only: 409 STATE_CONFLICT, reason machine_archived, with or without a proof', async () => {
      const device = api.identity();
      const machine = await api.register(device);
      expect((await api.patch(machine, device, { status: 'archived' })).status).toBe(200);
      const proof = await api.proof(machine.identityRef, device.key);

      for (const body of [
        { displayName: 'x', identityProof: proof },
        { status: 'active', identityProof: proof },
        { status: 'archived', identityProof: proof },
        { displayName: 'x' },
      ]) {
        const response = await withoutEvents(t, () => api.update(machine.id, body));
        expectError(response, 409, 'STATE_CONFLICT');
        expect(response.body.error.details).toEqual({
          entityType: 'machine',
          id: machine.id,
          status: 'archived',
          reason: 'machine_archived',
        });
      }
      expect(await api.challengeEvents(proof.challengeId)).toHaveLength(1);
    });
  });

  describe('404 NOT_FOUND', () => {
    it.each([
      ['an unknown mach_ id', UNKNOWN_MACHINE_ID],
      ['an id with another prefix', 'chl_01JD8Y6K3W5T2Q9R7M4N0P1B2C'],
      ['an id with a lower-case ULID', UNKNOWN_MACHINE_ID.toLowerCase()],
      ['a free-form string', 'edge-node-1'],
    ])('GET and PATCH of %s', async (_, id) => {
      const read = await api.read(id);
      expectError(read, 404, 'NOT_FOUND');
      expect(read.body.error.details).toEqual({ entityType: 'machine', id });

      const patched = await withoutEvents(t, () => api.update(id, { displayName: 'x' }));
      expectError(patched, 404, 'NOT_FOUND');
      expect(patched.body.error.details).toEqual({ entityType: 'machine', id });
    });

    it('the lower-case spelling of an existing id is another id (ids are case-sensitive)', async () => {
      const machine = await api.register(api.identity());
      const response = await api.read(machine.id.toLowerCase());
      expectError(response, 404, 'NOT_FOUND');
    });

    it.each([
      ['skillKeys', 'skill', 'oracle.price-feed-v9'],
      ['policyIds', 'policy', 'pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C'],
    ])('POST and PATCH with unknown %s → entityType %s', async (member, entityType, id) => {
      const device = api.identity();
      const proof = await api.proof(device.did, device.key);
      const created = await withoutEvents(t, () => api.create(api.body(device.did, { identityProof: proof, [member]: [id] })));
      expectError(created, 404, 'NOT_FOUND');
      expect(created.body.error.details).toEqual({ entityType, id });

      // The challenge was not consumed by the failed POST.
      const machine = (await api.create(api.body(device.did, { identityProof: proof }))).body.item as MachineItem;
      const next = await api.proof(machine.identityRef, device.key);
      const patched = await withoutEvents(t, () => api.update(machine.id, { identityProof: next, [member]: [id] }));
      expectError(patched, 404, 'NOT_FOUND');
      expect(patched.body.error.details).toEqual({ entityType, id });
    });
  });

  describe('PATCH semantics (§4.6.5 step 9)', () => {
    it('replaces lists and maps as a whole, keeps absent fields, sets updatedAt, deduplicates capabilities', async () => {
      const device = api.identity();
      const machine = await api.register(device, { capabilities: ['a', 'b'], labels: { x: '1', y: '2' }, ownerId: 'owner-p' });
      const at = tick();
      const response = await api.patch(machine, device, { capabilities: ['c', 'c', 'd'], labels: { z: '3' }, runtimeProfile: 'rtos' });
      expect(response.status).toBe(200);
      expect(response.body.item).toEqual({
        ...machine,
        capabilities: ['c', 'd'],
        labels: { z: '3' },
        runtimeProfile: 'rtos',
        identityProof: expect.objectContaining({ verifiedAt: at }),
        updatedAt: at,
      });
    });

    it('members sent as null are treated as absent', async () => {
      const device = api.identity();
      const machine = await api.register(device, { capabilities: ['keep'] });
      const response = await api.patch(machine, device, { displayName: null, capabilities: null, status: null });
      expect(response.status).toBe(200);
      expect(response.body.item).toEqual(
        expect.objectContaining({ displayName: machine.displayName, capabilities: ['keep'], status: 'active' }),
      );
    });

    it('a proof-only PATCH re-verifies and refreshes the proof; nothing else changes', async () => {
      const device = api.identity({ withOperator: true });
      const machine = await api.register(device);
      const challenge = await api.challenge(machine.identityRef);
      const at = tick();
      const signature = await device.operator!.signMessage({ message: challenge.message });
      const response = await api.update(machine.id, { identityProof: { challengeId: challenge.challengeId, signature } });
      expect(response.status).toBe(200);
      const { identityProof, updatedAt, ...rest } = response.body.item;
      const { identityProof: _before, updatedAt: _was, ...restBefore } = machine;
      expect(rest).toEqual(restBefore);
      expect(identityProof).toEqual(expectedProof(challenge, device.operator!.address, at));
      expect(updatedAt).toBe(at);
      expect((await api.machineEvents(machine.id)).map((e) => e.type).slice(-1)).toEqual(['machine.identity_verified']);
    });
  });

  describe('audit events (§8.7.2) and redaction of the signature (§9)', () => {
    it('POST appends machine.registered (the machine as returned) and machine.identity_verified, and consumes the challenge', async () => {
      const device = api.identity();
      const challenge = await api.challenge(device.did);
      const signature = await device.key.signMessage({ message: challenge.message });
      const correlationId = 'machines-e2e-register-1';
      const response = await api.create(api.body(device.did, { identityProof: { challengeId: challenge.challengeId, signature } }), {
        'x-correlation-id': correlationId,
      });
      expect(response.status).toBe(201);
      const machine: MachineItem = response.body.item;

      const events = await api.machineEvents(machine.id);
      expect(events.map((e) => e.type)).toEqual(['machine.registered', 'machine.identity_verified']);
      expect(events[0].data).toEqual(machine);
      expect(events[1].data).toEqual(
        expect.objectContaining({ identityProof: machine.identityProof, signatureFingerprint: signatureFingerprint(signature) }),
      );
      for (const event of events) expect(event.metadata.correlationId).toBe(correlationId);

      const challengeEvents = await api.challengeEvents(challenge.challengeId);
      expect(challengeEvents.map((e) => e.type)).toEqual(['machine_identity_challenge.issued', 'machine_identity_challenge.consumed']);
      expect(challengeEvents[1].metadata.correlationId).toBe(correlationId);
    });

    it('PATCH appends machine.identity_verified, machine.updated { changes } and machine.status_changed { from, to }', async () => {
      const device = api.identity();
      const machine = await api.register(device);
      const before = (await api.machineEvents(machine.id)).length;
      const response = await api.patch(machine, device, { displayName: 'Audited', labels: { a: 'b' }, status: 'blocked' });
      expect(response.status).toBe(200);

      const added = (await api.machineEvents(machine.id)).slice(before);
      expect(added.map((e) => e.type).sort()).toEqual(['machine.identity_verified', 'machine.status_changed', 'machine.updated']);
      expect(added.find((e) => e.type === 'machine.updated')!.data).toEqual(
        expect.objectContaining({ changes: { displayName: 'Audited', labels: { a: 'b' } } }),
      );
      expect(added.find((e) => e.type === 'machine.status_changed')!.data).toEqual(
        expect.objectContaining({ from: 'active', to: 'blocked' }),
      );
    });

    it('stores no signature anywhere: not in events, read models or idempotency records; only its fingerprint', async () => {
      const device = api.identity();
      const signatures: string[] = [];
      const proofFor = async () => {
        const proof = await api.proof(device.did, device.key);
        signatures.push(proof.signature);
        return proof;
      };
      const created = await api.create(api.body(device.did, { identityProof: await proofFor() }), {
        'idempotency-key': 'redaction-post-1',
      });
      expect(created.status).toBe(201);
      const machine: MachineItem = created.body.item;
      const patched = await api.update(
        machine.id,
        { displayName: 'Redacted', identityProof: await proofFor() },
        { 'idempotency-key': 'redaction-patch-1' },
      );
      expect(patched.status).toBe(200);
      // A failed attempt with a signature must not leave it behind either.
      const stray = await proofFor();
      const strayAttempt = await api.update(machine.id, { identityProof: { ...stray, signature: withV(stray.signature, 30) } });
      expectProofInvalid(strayAttempt, 'malformed_signature');

      const fingerprints = (await api.machineEvents(machine.id))
        .filter((e) => e.type === 'machine.identity_verified')
        .map((e) => e.data.signatureFingerprint);
      expect(fingerprints).toEqual(signatures.slice(0, 2).map(signatureFingerprint));

      const stored = dataFilesText(t).toLowerCase();
      // Positive control: the files read are the ones holding this machine's events.
      expect(stored).toContain(machine.id.toLowerCase());
      const everyEvent = JSON.stringify(await t.storedEvents({ includeInternal: true })).toLowerCase();
      for (const signature of signatures) {
        // r || s: what every encoding of the signature (any v, with or without 0x) contains.
        const rs = signature.slice(2, 130).toLowerCase();
        expect(stored.includes(rs)).toBe(false);
        expect(everyEvent.includes(rs)).toBe(false);
        for (const response of [created, patched, strayAttempt]) expect(response.text.toLowerCase().includes(rs)).toBe(false);
      }
    });
  });

  describe('Idempotency-Key on POST /machines (§0.11)', () => {
    it('replays the stored 201 for the same key and body, even though the challenge is now used', async () => {
      const device = api.identity();
      const body = api.body(device.did, { identityProof: await api.proof(device.did, device.key) });
      const first = await api.create(body, { 'idempotency-key': 'machines-idem-1' });
      expect(first.status).toBe(201);
      const replay = await api.create(body, { 'idempotency-key': 'machines-idem-1' });
      expect(replay.status).toBe(201);
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect((await t.storedEvents()).filter((e) => e.type === 'machine.registered' && e.data.identityRef === device.did)).toHaveLength(1);

      const reused = await api.create({ ...body, displayName: 'Other' }, { 'idempotency-key': 'machines-idem-1' });
      expectError(reused, 422, 'IDEMPOTENCY_KEY_REUSED');
    });
  });
});

/**
 * Orders (§7) and the skill/policy registries (§6, §8.6) come with later issues; until then these
 * tests stand in for them with doubles of the two ports the machine handlers consult.
 */

const KNOWN_SKILL = 'oracle.price-feed';
const POLICY_A = 'pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const POLICY_B = 'pol_01JD8Y6K3W5T2Q9R7M4N0P1B2D';
const ORDER_IDS = ['ord_01JD8Y6K3W5T2Q9R7M4N0P1B2C', 'ord_01JD8Y6K3W5T2Q9R7M4N0P1B2D'];

/** Open orders per machine id, changeable by the tests. */
class OpenOrdersDouble implements OpenMarketOrders {
  readonly byMachine = new Map<string, string[]>();
  async openOrdersOf(machineId: string): Promise<{ orderIds: string[]; count: number }> {
    const orderIds = this.byMachine.get(machineId) ?? [];
    return { orderIds: [...orderIds], count: orderIds.length };
  }
  async openOrdersOfPairing(): Promise<{ orderIds: string[]; count: number; executingOrderIds: string[] }> {
    return { orderIds: [], count: 0, executingOrderIds: [] };
  }
}

class ReferencesDouble implements MachineReferences {
  constructor(
    private readonly skills: string[],
    private readonly policies: string[],
  ) {}
  async unknownSkillKeys(keys: string[]): Promise<string[]> {
    return keys.filter((key) => !this.skills.includes(key));
  }
  async unknownPolicyIds(ids: string[]): Promise<string[]> {
    return ids.filter((id) => !this.policies.includes(id));
  }
}

describe('machines against doubles of the open-orders and references ports (§4.6.3 step 2, §4.6.5 steps 4 and 8)', () => {
  const openOrders = new OpenOrdersDouble();
  let t: TestApp;
  let api: MachineApi;
  useMachineApp(
    {
      env: { PEAQOS_MCR_CACHE_TTL_MS: '0' },
      providers: [
        { provide: OPEN_MARKET_ORDERS, useValue: openOrders },
        { provide: MACHINE_REFERENCES, useValue: new ReferencesDouble([KNOWN_SKILL], [POLICY_A, POLICY_B]) },
      ],
    },
    (app) => ({ t, api } = app),
  );

  describe('409 OPEN_MARKET_ORDERS when archiving', () => {
    it('blocks archiving while the machine has non-terminal orders; other transitions are unaffected; the challenge stays usable', async () => {
      const device = api.identity();
      const machine = await api.register(device);
      openOrders.byMachine.set(machine.id, ORDER_IDS);

      const proof = await api.proof(machine.identityRef, device.key);
      const response = await withoutEvents(t, () => api.update(machine.id, { status: 'archived', identityProof: proof }));
      expectError(response, 409, 'OPEN_MARKET_ORDERS');
      expect(response.body.error.details).toEqual({ orderIds: ORDER_IDS, count: 2 });
      expect((await api.read(machine.id)).body.item.status).toBe('active');

      expect((await api.patch(machine, device, { status: 'degraded' })).status).toBe(200);

      openOrders.byMachine.delete(machine.id);
      const archived = await api.update(machine.id, { status: 'archived', identityProof: proof });
      expect(archived.status).toBe(200);
      expect(archived.body.item.status).toBe('archived');
    });

    it('does not consult open orders of other machines', async () => {
      const device = api.identity();
      const machine = await api.register(device);
      openOrders.byMachine.set('mach_01JD8Y6K3W5T2Q9R7M4N0P1B2C', ORDER_IDS);
      expect((await api.patch(machine, device, { status: 'archived' })).status).toBe(200);
    });
  });

  describe('skillKeys and policyIds that the registries know', () => {
    it('POST stores known references, duplicates removed, order kept', async () => {
      const machine = await api.register(api.identity(), {
        skillKeys: [KNOWN_SKILL, KNOWN_SKILL],
        policyIds: [POLICY_B, POLICY_A, POLICY_B],
      });
      expect(machine.skillKeys).toEqual([KNOWN_SKILL]);
      expect(machine.policyIds).toEqual([POLICY_B, POLICY_A]);
      expect((await api.read(machine.id)).body.item).toEqual(machine);
    });

    it('PATCH replaces them as a whole, duplicates removed, order kept', async () => {
      const device = api.identity();
      const machine = await api.register(device, { policyIds: [POLICY_A] });
      const response = await api.patch(machine, device, { policyIds: [POLICY_B, POLICY_B, POLICY_A], skillKeys: [KNOWN_SKILL] });
      expect(response.status).toBe(200);
      expect(response.body.item).toEqual(expect.objectContaining({ policyIds: [POLICY_B, POLICY_A], skillKeys: [KNOWN_SKILL] }));
    });

    it.each([
      ['skillKeys', 'skill', [KNOWN_SKILL, 'weather.now'], 'weather.now'],
      ['policyIds', 'policy', [POLICY_A, 'pol_01JD8Y6K3W5T2Q9R7M4N0P1B2E'], 'pol_01JD8Y6K3W5T2Q9R7M4N0P1B2E'],
    ])('an unknown entry among known %s → 404 NOT_FOUND naming it (entityType %s)', async (member, entityType, values, unknown) => {
      const device = api.identity();
      const proof = await api.proof(device.did, device.key);
      const response = await withoutEvents(t, () => api.create(api.body(device.did, { identityProof: proof, [member]: values })));
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ entityType, id: unknown });
    });
  });
});
