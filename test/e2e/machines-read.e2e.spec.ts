import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControllableClock } from '../support/controllable-clock';
import { expectError, expectValidationError } from '../support/http-expectations';
import {
  expectMachineShape,
  expectProofInvalid,
  Identity,
  idsOf,
  MachineApi,
  MCR_TIMEOUT_MS,
  useMachineApp,
  MachineItem,
  MACHINES_URL,
  UNKNOWN_MACHINE_ID,
  withoutEvents,
} from '../support/machine-api';
import { behaviour, McrTestServer, newControllerAccount } from '../support/mcr-server';
import { NOTES_URL, noteId } from '../support/probe/probe-requests';
import { TestApp, withTestApp } from '../support/test-app';

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A device whose machine was registered with a proof signed by its MCR operator (so the signer can stop being a controller). */
type OperatorSigned = { device: Identity; machine: MachineItem };

describe('machine reads in required mode: GET /machines (§4.6.2) and the read gate of GET /machines/:machineId (§1.4)', () => {
  let mcr: McrTestServer;
  let t: TestApp;
  let api: MachineApi;
  useMachineApp(
    {
      env: { PEAQOS_MCR_TIMEOUT_MS: String(MCR_TIMEOUT_MS), PEAQOS_MCR_CACHE_TTL_MS: '0' },
    },
    (app) => ({ mcr, t, api } = app),
  );

  /** Registers one machine per entry (oldest first) and moves it to that status; returns the final records. */
  async function seed(ownerId: string, statuses: string[]): Promise<Array<{ device: Identity; machine: MachineItem }>> {
    const seeded = [];
    for (const status of statuses) {
      const device = api.identity();
      let machine = await api.register(device, { ownerId, status: status === 'draft' ? 'draft' : 'active' });
      if (status !== 'draft' && status !== 'active') {
        const response = await api.patch(machine, device, { status });
        expect(response.status).toBe(200);
        machine = response.body.item;
      }
      seeded.push({ device, machine });
    }
    return seeded;
  }

  async function operatorSigned(ownerId = 'owner-operator'): Promise<OperatorSigned> {
    const device = api.identity({ withOperator: true });
    const machine = await api.register(device, { ownerId }, { signer: device.operator });
    expect(machine.identityProof!.signerAddress).toBe(device.operator!.address);
    return { device, machine };
  }

  const newestFirst = (seeded: Array<{ machine: MachineItem }>) => seeded.map((s) => s.machine.id).reverse();

  describe('membership, order and filters', () => {
    it('lists verified machines of every non-archived status, createdAt descending, each exactly as GET one returns it', async () => {
      const seeded = await seed('owner-mix', ['active', 'draft', 'degraded', 'blocked', 'archived']);
      const response = await api.list({ ownerId: 'owner-mix' });

      expect(response.status).toBe(200);
      expect(Object.keys(response.body)).toEqual(['items']);
      expect(idsOf([response])).toEqual(newestFirst(seeded.slice(0, 4)));
      for (const item of response.body.items as MachineItem[]) {
        expectMachineShape(item);
        expect((await api.read(item.id)).body.item).toEqual(item);
      }
      const created = response.body.items.map((i: MachineItem) => i.createdAt);
      expect([...created].sort().reverse()).toEqual(created);
    });

    it('status filters to that status; archived machines appear only with status=archived', async () => {
      const seeded = await seed('owner-status', ['active', 'draft', 'degraded', 'blocked', 'archived', 'active']);
      const byStatus = (status: string) => newestFirst(seeded.filter((s) => s.machine.status === status));
      for (const status of ['draft', 'active', 'degraded', 'blocked', 'archived']) {
        const response = await api.list({ ownerId: 'owner-status', status });
        expect({ status, ids: idsOf([response]) }).toEqual({ status, ids: byStatus(status) });
      }
    });

    it('ownerId is an exact, case-sensitive match; without it every owner is listed', async () => {
      const [a] = await seed('Owner-Exact', ['active']);
      const [b] = await seed('owner-exact', ['active']);
      expect(idsOf([await api.list({ ownerId: 'Owner-Exact' })])).toEqual([a.machine.id]);
      expect(idsOf([await api.list({ ownerId: 'owner-exact' })])).toEqual([b.machine.id]);
      expect(idsOf([await api.list({ ownerId: 'owner-exac' })])).toEqual([]);
      const all = idsOf(await api.walk({ limit: '500' }));
      expect(all).toEqual(expect.arrayContaining([a.machine.id, b.machine.id]));
      expect(new Set(all).size).toBe(all.length);
    });

    it('ignores unknown query parameters', async () => {
      const [a] = await seed('owner-unknown-param', ['active']);
      expect(idsOf([await api.list({ ownerId: 'owner-unknown-param', colour: 'blue' })])).toEqual([a.machine.id]);
    });

    it('a machine whose bond was lost is still listed and readable (the read gate does not check the bond)', async () => {
      const [{ device, machine }] = await seed('owner-unbonded', ['active']);
      mcr.updateMachine(device.did, { bondStatus: 'unbonded' });
      expect(idsOf([await api.list({ ownerId: 'owner-unbonded' })])).toEqual([machine.id]);
      expect((await api.read(machine.id)).status).toBe(200);
    });
  });

  describe('keyset pagination (§0.10)', () => {
    it('walks every machine exactly once across pages of 2, newest first; nextCursor is base64url and absent at the end', async () => {
      const seeded = await seed('owner-pages', ['active', 'active', 'draft', 'degraded', 'active']);
      const pages = await api.walk({ ownerId: 'owner-pages', limit: '2' });
      expect(idsOf(pages)).toEqual(newestFirst(seeded));
      for (const page of pages) expect(page.body.items.length).toBeLessThanOrEqual(2);
      for (const page of pages.slice(0, -1)) expect(page.body.nextCursor).toMatch(BASE64URL);
      expect(Object.keys(pages[pages.length - 1].body)).toEqual(['items']);
      expect(idsOf(await api.walk({ ownerId: 'owner-pages', limit: '1' }))).toEqual(newestFirst(seeded));
    });

    it('allows a changed limit with a cursor', async () => {
      const seeded = await seed('owner-limit', ['active', 'active', 'active', 'active']);
      const first = await api.list({ ownerId: 'owner-limit', limit: '1' });
      const rest = await api.list({ ownerId: 'owner-limit', limit: '3', cursor: first.body.nextCursor });
      expect(rest.status).toBe(200);
      expect([...idsOf([first]), ...idsOf([rest])]).toEqual(newestFirst(seeded));
    });

    it('does not return a machine registered after the first page was read (it sorts before the cursor)', async () => {
      const seeded = await seed('owner-insert', ['active', 'active', 'active']);
      const first = await api.list({ ownerId: 'owner-insert', limit: '1' });
      const [late] = await seed('owner-insert', ['active']);
      const rest = await api.walk({ ownerId: 'owner-insert', limit: '1', cursor: first.body.nextCursor });
      expect([...idsOf([first]), ...idsOf(rest)]).toEqual(newestFirst(seeded));
      expect(idsOf(await api.walk({ ownerId: 'owner-insert' }))[0]).toBe(late.machine.id);
    });
  });

  describe('live identity checks in the list', () => {
    it('leaves out machines that no longer resolve or whose signer is no longer a controller; pages may be short, none is lost', async () => {
      const ownerId = 'owner-live';
      const [first] = await seed(ownerId, ['active']);
      const changed = await operatorSigned(ownerId);
      const [gone, last] = await seed(ownerId, ['degraded', 'active']);

      mcr.behave(gone.device.did, behaviour.unknown());
      mcr.updateMachine(changed.device.did, { operator: newControllerAccount().address });
      try {
        for (const limit of ['1', '2', '100']) {
          const pages = await api.walk({ ownerId, limit });
          expect({ limit, ids: idsOf(pages) }).toEqual({ limit, ids: [last.machine.id, first.machine.id] });
          for (const page of pages) expect(page.body.items.length).toBeLessThanOrEqual(Number(limit));
        }
      } finally {
        mcr.behave(gone.device.did, null);
      }
      expect(idsOf([await api.list({ ownerId })])).toEqual([last.machine.id, gone.machine.id, first.machine.id]);
    });

    it('lists archived machines (status=archived) without identity checks', async () => {
      const [{ device, machine }] = await seed('owner-archived-gone', ['archived']);
      mcr.behave(device.did, behaviour.unknown());
      try {
        expect(idsOf([await api.list({ ownerId: 'owner-archived-gone', status: 'archived' })])).toEqual([machine.id]);
      } finally {
        mcr.behave(device.did, null);
      }
    });

    it.each([
      ['MCR answers 500', () => behaviour.status(500), { reason: 'upstream_status', upstreamStatus: 500 }],
      ['MCR is slower than PEAQOS_MCR_TIMEOUT_MS', () => behaviour.slow(MCR_TIMEOUT_MS * 5), { reason: 'timeout' }],
    ])('answers 503 PEAQOS_IDENTITY_UNAVAILABLE for the whole request when %s for one machine', async (_, answer, details) => {
      const ownerId = `owner-503-${details.reason}`;
      const [broken] = await seed(ownerId, ['active', 'active']);
      mcr.behave(broken.device.did, answer());
      try {
        const response = await api.list({ ownerId });
        expectError(response, 503, 'PEAQOS_IDENTITY_UNAVAILABLE');
        expect(response.body.error.details).toEqual(details);
        expect(response.headers['retry-after']).toBe('5');
      } finally {
        mcr.behave(broken.device.did, null);
      }
      expect((await api.list({ ownerId })).body.items).toHaveLength(2);
    });
  });

  describe('query validation: 400 VALIDATION_ERROR', () => {
    it.each([
      ['an unknown status', 'status=bogus', 'status'],
      ['a status in the wrong case', 'status=Active', 'status'],
      ['includeDrafts=yes', 'includeDrafts=yes', 'includeDrafts'],
      ['includeDrafts=TRUE', 'includeDrafts=TRUE', 'includeDrafts'],
      ['includeDrafts=1', 'includeDrafts=1', 'includeDrafts'],
      ['an empty includeDrafts', 'includeDrafts=', 'includeDrafts'],
      ['limit=0', 'limit=0', 'limit'],
      ['limit=501', 'limit=501', 'limit'],
      ['limit=abc', 'limit=abc', 'limit'],
      ['limit=1.5', 'limit=1.5', 'limit'],
      ['limit=-1', 'limit=-1', 'limit'],
      ['limit=1e2', 'limit=1e2', 'limit'],
      ['status given twice', 'status=active&status=draft', 'status'],
      ['limit given twice', 'limit=1&limit=1', 'limit'],
    ])('%s', async (_, query, path) => {
      const response = await t.inject({ method: 'GET', url: `${MACHINES_URL}?${query}` });
      expectValidationError(response, { location: 'query', path });
    });

    async function cursorOf(query: Record<string, string>): Promise<string> {
      const page = await api.list({ ...query, limit: '1' });
      expect(page.body.nextCursor).toEqual(expect.any(String));
      return page.body.nextCursor;
    }

    it.each([
      ['not base64url', async () => ({ cursor: 'not a cursor!' })],
      ['base64url that does not decode to a cursor', async () => ({ cursor: Buffer.from('{"hello":1}').toString('base64url') })],
      ['issued for another ownerId', async () => ({ cursor: await cursorOf({ ownerId: 'owner-cursor' }), ownerId: 'owner-other' })],
      [
        'issued for another status',
        async () => ({ cursor: await cursorOf({ ownerId: 'owner-cursor' }), ownerId: 'owner-cursor', status: 'draft' }),
      ],
      [
        'issued by another endpoint',
        async () => {
          await noteId(t, 'one');
          await noteId(t, 'two');
          const notes = await t.inject({ method: 'GET', url: `${NOTES_URL}?limit=1` });
          return { cursor: notes.body.nextCursor as string };
        },
      ],
    ])('reason invalid_cursor for a cursor %s', async (_, query) => {
      await seed('owner-cursor', ['active', 'active']);
      const response = await api.list(await query());
      expectValidationError(response, { location: 'query', path: 'cursor' });
      expect(response.body.error.details.reason).toBe('invalid_cursor');
    });
  });

  describe('GET /machines/:machineId read gate', () => {
    it('checks the stored proof against MCR on every read (no cache configured here)', async () => {
      const [{ device, machine }] = await seed('owner-read', ['active']);
      mcr.clearLog();
      expect((await api.read(machine.id)).status).toBe(200);
      expect((await api.read(machine.id)).status).toBe(200);
      expect(mcr.count(`/mcr/${device.did}`)).toBe(2);
    });

    it('409 MACHINE_NOT_ACTIVATED, reason controller_changed, once the signer is no longer a controller; a proof-only PATCH recovers', async () => {
      const { device, machine } = await operatorSigned();
      expect((await api.read(machine.id)).status).toBe(200);

      const newOperator = newControllerAccount();
      mcr.updateMachine(device.did, { operator: newOperator.address });
      const response = await api.read(machine.id);
      expectError(response, 409, 'MACHINE_NOT_ACTIVATED');
      expect(response.body.error.details).toEqual({ reason: 'controller_changed' });

      const recovered = await api.patch(machine, device, {}, newOperator);
      expect(recovered.status).toBe(200);
      expect(recovered.body.item.identityProof).toEqual(
        expect.objectContaining({ signerAddress: newOperator.address, controllerAddresses: [device.key.address, newOperator.address] }),
      );
      expect((await api.read(machine.id)).body).toEqual(recovered.body);
    });

    it.each([
      ['MCR 404', behaviour.unknown()],
      ['MCR 400', behaviour.badRequest()],
    ])('409 MACHINE_NOT_ACTIVATED, reason mcr_not_found, when the identity stops resolving (%s)', async (_, answer) => {
      const [{ device, machine }] = await seed('owner-read-gone', ['active']);
      mcr.behave(`/mcr/${device.did}`, answer);
      try {
        const response = await api.read(machine.id);
        expectError(response, 409, 'MACHINE_NOT_ACTIVATED');
        expect(response.body.error.details).toEqual({ reason: 'mcr_not_found' });
      } finally {
        mcr.behave(`/mcr/${device.did}`, null);
      }
      expect((await api.read(machine.id)).status).toBe(200);
    });

    it('409 MACHINE_NOT_ACTIVATED, reason unsupported_did, when the Machine Card stops naming a did:peaq:0x DID', async () => {
      const device = api.identity();
      const machine = await api.register(device, {}, { identityRef: device.machineRef });
      const card = `/machines/${device.onChainId}`;
      mcr.behave(card, behaviour.json({ machine_id: device.onChainId, did: 'did:peaq:123', name: 'e2' }));
      try {
        const response = await api.read(machine.id);
        expectError(response, 409, 'MACHINE_NOT_ACTIVATED');
        expect(response.body.error.details).toEqual({ reason: 'unsupported_did' });
      } finally {
        mcr.behave(card, null);
      }
    });

    it.each([
      ['MCR answers 502', () => behaviour.status(502), { reason: 'upstream_status', upstreamStatus: 502 }],
      ['MCR is slower than PEAQOS_MCR_TIMEOUT_MS', () => behaviour.slow(MCR_TIMEOUT_MS * 5), { reason: 'timeout' }],
    ])('503 PEAQOS_IDENTITY_UNAVAILABLE when %s', async (_, answer, details) => {
      const [{ device, machine }] = await seed('owner-read-503', ['active']);
      mcr.behave(device.did, answer());
      try {
        const response = await api.read(machine.id);
        expectError(response, 503, 'PEAQOS_IDENTITY_UNAVAILABLE');
        expect(response.body.error.details).toEqual(details);
        expect(response.headers['retry-after']).toBe('5');
      } finally {
        mcr.behave(device.did, null);
      }
    });

    it('reads an archived machine without asking MCR', async () => {
      const [{ device, machine }] = await seed('owner-read-archived', ['archived']);
      mcr.behave(device.did, behaviour.unknown());
      mcr.clearLog();
      try {
        const response = await api.read(machine.id);
        expect(response.status).toBe(200);
        expect(response.body.item).toEqual(machine);
        expect(mcr.count()).toBe(0);
      } finally {
        mcr.behave(device.did, null);
      }
    });

    it('404 NOT_FOUND for an unknown id, before any MCR call', async () => {
      mcr.clearLog();
      const response = await api.read(UNKNOWN_MACHINE_ID);
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ entityType: 'machine', id: UNKNOWN_MACHINE_ID });
      expect(mcr.count()).toBe(0);
    });
  });
});

describe('the read gate goes through the MCR cache (PEAQOS_MCR_CACHE_TTL_MS, §4.3)', () => {
  const CACHE_TTL_MS = 60_000;
  const clock = new ControllableClock('2026-03-01T00:00:00.000Z');
  let mcr: McrTestServer;
  let api: MachineApi;
  useMachineApp({ clock, env: { PEAQOS_MCR_CACHE_TTL_MS: String(CACHE_TTL_MS) } }, (app) => ({ mcr, api } = app));

  it('a write refreshes the cache; reads within the TTL do not ask MCR and see a controller change only after it', async () => {
    const device = api.identity({ withOperator: true });
    const machine = await api.register(device, {}, { signer: device.operator });
    mcr.clearLog();
    expect((await api.read(machine.id)).status).toBe(200);
    expect(mcr.count()).toBe(0);

    mcr.updateMachine(device.did, { operator: newControllerAccount().address });
    expect((await api.read(machine.id)).status).toBe(200);
    expect(idsOf([await api.list({ ownerId: machine.ownerId })])).toContain(machine.id);

    clock.advance(CACHE_TTL_MS);
    const response = await api.read(machine.id);
    expectError(response, 409, 'MACHINE_NOT_ACTIVATED');
    expect(response.body.error.details).toEqual({ reason: 'controller_changed' });
    expect(mcr.count(`/machine/${device.did}`)).toBeGreaterThan(0);
  });

  it('a 404 is not cached: once MCR knows the identity again, the next read passes', async () => {
    const device = api.identity();
    const machine = await api.register(device, { ownerId: 'owner-cache-404' });
    clock.advance(CACHE_TTL_MS);
    mcr.behave(device.did, behaviour.unknown());
    try {
      expectError(await api.read(machine.id), 409, 'MACHINE_NOT_ACTIVATED');
    } finally {
      mcr.behave(device.did, null);
    }
    expect((await api.read(machine.id)).status).toBe(200);
  });
});

describe('PEAQOS_MACHINE_IDENTITY_VERIFICATION=optional (§4.4)', () => {
  let mcr: McrTestServer;
  let t: TestApp;
  let api: MachineApi;
  useMachineApp(
    {
      env: { PEAQOS_MCR_CACHE_TTL_MS: '0', PEAQOS_MACHINE_IDENTITY_VERIFICATION: 'optional' },
    },
    (app) => ({ mcr, t, api } = app),
  );

  /** An unverified draft of a fresh device; MCR is not asked. */
  async function unverifiedDraft(ownerId: string, device = api.identity()): Promise<MachineItem> {
    const response = await api.create(api.body(device.did, { ownerId, status: 'draft' }));
    expect(response.status).toBe(201);
    return response.body.item;
  }

  it('creates a draft without proof, without asking MCR, even for an identity MCR does not know', async () => {
    const unknownDid = `did:peaq:${newControllerAccount().address}`;
    mcr.clearLog();
    const response = await api.create(api.body(unknownDid, { status: 'draft' }));
    expect(response.status).toBe(201);
    expectMachineShape(response.body.item);
    expect(response.body.item).toEqual(expect.objectContaining({ status: 'draft', identityProof: null, identityRef: unknownDid }));
    expect((await api.read(response.body.item.id)).body).toEqual(response.body);
    expect(mcr.count()).toBe(0);
  });

  it.each([
    ['status active', { status: 'active' }],
    ['the default status', {}],
  ])('refuses %s without proof: 409 MACHINE_NOT_ACTIVATED, reason identity_proof_missing', async (_, extra) => {
    const device = api.identity();
    const response = await withoutEvents(t, () => api.create(api.body(device.did, extra)));
    expectError(response, 409, 'MACHINE_NOT_ACTIVATED');
    expect(response.body.error.details).toEqual({ reason: 'identity_proof_missing' });
  });

  it('verifies a proof when present: active with the proof, and an invalid one is refused', async () => {
    const device = api.identity();
    const item = await api.register(device);
    expect(item.status).toBe('active');
    expect(item.identityProof).toEqual(expect.objectContaining({ signerAddress: device.key.address }));

    const other = api.identity();
    const challenge = await api.challenge(other.did);
    const signature = await newControllerAccount().signMessage({ message: challenge.message });
    const response = await withoutEvents(t, () =>
      api.create(api.body(other.did, { identityProof: { challengeId: challenge.challengeId, signature } })),
    );
    expectProofInvalid(response, 'signer_not_controller');
  });

  it('PATCHes without proof; draft → active needs a proof (identity_proof_missing), then activates with one', async () => {
    const device = api.identity();
    const draft = await unverifiedDraft('owner-opt-patch', device);
    const renamed = await api.update(draft.id, { displayName: 'Renamed draft' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.item.displayName).toBe('Renamed draft');

    const refused = await withoutEvents(t, () => api.update(draft.id, { status: 'active' }));
    expectError(refused, 409, 'MACHINE_NOT_ACTIVATED');
    expect(refused.body.error.details).toEqual({ reason: 'identity_proof_missing' });

    const activated = await api.patch(draft, device, { status: 'active' });
    expect(activated.status).toBe(200);
    expect(activated.body.item).toEqual(expect.objectContaining({ status: 'active', identityProof: expect.any(Object) }));
  });

  it('a PATCH that changes nothing returns the unchanged record and writes nothing', async () => {
    const draft = await unverifiedDraft('owner-opt-noop');
    const response = await withoutEvents(t, () =>
      api.update(draft.id, {
        displayName: draft.displayName,
        capabilities: [],
        labels: {},
        status: 'draft',
        identityRef: draft.identityRef,
      }),
    );
    expect(response.status).toBe(200);
    expect(response.body.item).toEqual(draft);
  });

  it('reactivates with the stored proof (fresh MCR) and refuses with controller_changed once its signer lost control', async () => {
    const device = api.identity({ withOperator: true });
    const machine = await api.register(device, {}, { signer: device.operator });
    expect((await api.update(machine.id, { status: 'degraded' })).status).toBe(200);
    expect((await api.update(machine.id, { status: 'active' })).body.item.status).toBe('active');
    expect((await api.update(machine.id, { status: 'blocked' })).status).toBe(200);

    mcr.updateMachine(device.did, { operator: newControllerAccount().address });
    const refused = await withoutEvents(t, () => api.update(machine.id, { status: 'active' }));
    expectError(refused, 409, 'MACHINE_NOT_ACTIVATED');
    expect(refused.body.error.details).toEqual({ reason: 'controller_changed' });

    const withFreshProof = await api.patch(machine, device, { status: 'active' });
    expect(withFreshProof.status).toBe(200);
  });

  it('reactivation with the stored proof still needs the bond: not_bonded', async () => {
    const device = api.identity();
    const machine = await api.register(device);
    expect((await api.update(machine.id, { status: 'degraded' })).status).toBe(200);
    mcr.updateMachine(device.did, { bondStatus: 'unbonded' });
    const refused = await api.update(machine.id, { status: 'active' });
    expectError(refused, 409, 'MACHINE_NOT_ACTIVATED');
    expect(refused.body.error.details).toEqual({ reason: 'not_bonded' });
  });

  it('uniqueness covers unverified drafts too: the same identityRef twice → 409 MACHINE_IDENTITY_EXISTS', async () => {
    const device = api.identity();
    const draft = await unverifiedDraft('owner-opt-dup', device);
    const response = await withoutEvents(t, () => api.create(api.body(device.did, { status: 'draft' })));
    expectError(response, 409, 'MACHINE_IDENTITY_EXISTS');
    expect(response.body.error.details).toEqual({ identityRef: device.did, machineId: draft.id });
  });

  it('PATCH adding a first proof whose DID a verified machine holds in its other form → 409 MACHINE_IDENTITY_EXISTS', async () => {
    const device = api.identity();
    const draft = await unverifiedDraft('owner-opt-first-proof', device);
    // Only verified machines resolve to a DID, so the other form can be registered with a proof.
    const verified = await api.register(device, {}, { identityRef: device.machineRef });

    const proof = await api.proof(device.did, device.key);
    const response = await withoutEvents(t, () => api.update(draft.id, { identityProof: proof }));
    expectError(response, 409, 'MACHINE_IDENTITY_EXISTS');
    expect(response.body.error.details).toEqual(expect.objectContaining({ machineId: verified.id }));
  });

  it('GET /machines hides unverified drafts unless includeDrafts=true; unverified non-drafts never appear', async () => {
    const ownerId = 'owner-opt-list';
    const verifiedDevice = api.identity();
    const draft = await unverifiedDraft(ownerId);
    const blocked = await unverifiedDraft(ownerId);
    expect((await api.update(blocked.id, { status: 'blocked' })).status).toBe(200);
    const archived = await unverifiedDraft(ownerId);
    expect((await api.update(archived.id, { status: 'archived' })).status).toBe(200);
    const verifiedDraft = await api.register(verifiedDevice, { ownerId, status: 'draft' });

    const ids = async (query: Record<string, string>) => idsOf(await api.walk({ ownerId, ...query }));
    expect(await ids({})).toEqual([verifiedDraft.id]);
    expect(await ids({ includeDrafts: 'false' })).toEqual([verifiedDraft.id]);
    expect(await ids({ includeDrafts: 'true' })).toEqual([verifiedDraft.id, draft.id]);
    expect(await ids({ includeDrafts: 'true', status: 'draft' })).toEqual([verifiedDraft.id, draft.id]);
    expect(await ids({ includeDrafts: 'true', status: 'active' })).toEqual([]);
    expect(await ids({ includeDrafts: 'true', status: 'blocked' })).toEqual([]);
    expect(await ids({ status: 'archived' })).toEqual([archived.id]);
  });

  it('GET /machines/:machineId of an unverified draft passes the read gate without asking MCR', async () => {
    const device = api.identity();
    const draft = await unverifiedDraft('owner-opt-read', device);
    mcr.behave(device.did, behaviour.unknown());
    mcr.clearLog();
    try {
      expect((await api.read(draft.id)).body.item).toEqual(draft);
      expect(mcr.count()).toBe(0);
    } finally {
      mcr.behave(device.did, null);
    }
  });
});

describe('PEAQOS_MACHINE_IDENTITY_VERIFICATION=disabled (§4.4)', () => {
  let mcr: McrTestServer;
  let t: TestApp;
  let api: MachineApi;
  useMachineApp({ env: { PEAQOS_MACHINE_IDENTITY_VERIFICATION: 'disabled' } }, (app) => ({ mcr, t, api } = app));

  const unknownDid = () => `did:peaq:${newControllerAccount().address}`;

  it('registers an active machine without proof and without MCR, even for an identity MCR does not know', async () => {
    mcr.clearLog();
    const response = await api.create(api.body(unknownDid()));
    expect(response.status).toBe(201);
    expectMachineShape(response.body.item);
    expect(response.body.item).toEqual(expect.objectContaining({ status: 'active', identityProof: null }));
    expect((await api.read(response.body.item.id)).status).toBe(200);
    expect(mcr.count()).toBe(0);
  });

  it('ignores a proof: never verified (even a bogus one), never stored, the challenge not consumed', async () => {
    const device = api.identity();
    const proof = await api.proof(device.did, device.key);
    const valid = await api.create(api.body(device.did, { identityProof: proof }));
    expect(valid.status).toBe(201);
    expect(valid.body.item.identityProof).toBeNull();
    expect((await api.machineEvents(valid.body.item.id)).map((e) => e.type)).toEqual(['machine.registered']);
    expect((await api.challengeEvents(proof.challengeId)).map((e) => e.type)).toEqual(['machine_identity_challenge.issued']);

    const bogus = await api.create(api.body(unknownDid(), { identityProof: { challengeId: 'nope', signature: 'not-a-signature' } }));
    expect(bogus.status).toBe(201);
    expect(bogus.body.item.identityProof).toBeNull();
  });

  it('activates without identity checks and PATCHes without proof', async () => {
    const draft = await api.create(api.body(unknownDid(), { status: 'draft' }));
    expect(draft.status).toBe(201);
    const activated = await api.update(draft.body.item.id, { status: 'active', displayName: 'Activated' });
    expect(activated.status).toBe(200);
    expect(activated.body.item).toEqual(expect.objectContaining({ status: 'active', displayName: 'Activated', identityProof: null }));
  });

  it('still enforces identityRef uniqueness', async () => {
    const did = unknownDid();
    const first = await api.create(api.body(did));
    const second = await withoutEvents(t, () => api.create(api.body(did)));
    expectError(second, 409, 'MACHINE_IDENTITY_EXISTS');
    expect(second.body.error.details).toEqual({ identityRef: did, machineId: first.body.item.id });
  });

  it('GET /machines lists every machine matching the filters (drafts included), without asking MCR; archived only with status=archived', async () => {
    const ownerId = 'owner-disabled-list';
    const draft = (await api.create(api.body(unknownDid(), { ownerId, status: 'draft' }))).body.item as MachineItem;
    const active = (await api.create(api.body(unknownDid(), { ownerId }))).body.item as MachineItem;
    const archived = (await api.create(api.body(unknownDid(), { ownerId }))).body.item as MachineItem;
    expect((await api.update(archived.id, { status: 'archived' })).status).toBe(200);

    mcr.clearLog();
    expect(idsOf(await api.walk({ ownerId }))).toEqual([active.id, draft.id]);
    expect(idsOf(await api.walk({ ownerId, status: 'draft' }))).toEqual([draft.id]);
    expect(idsOf(await api.walk({ ownerId, status: 'archived' }))).toEqual([archived.id]);
    expect(mcr.count()).toBe(0);
  });
});

describe('a challenge presented after the session secret changed: 403 nonce_mismatch (§4.5.1)', () => {
  let mcr: McrTestServer;
  let dir: string;

  beforeAll(async () => {
    mcr = await new McrTestServer().start();
    dir = mkdtempSync(join(tmpdir(), 'peaqos-machines-restart-'));
  });
  afterAll(async () => {
    await mcr?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails with nonce_mismatch under another secret, and the same challenge still works under the original one', async () => {
    const env = {
      PEAQOS_MCR_API_URL: mcr.url,
      PEAQOS_SQLITE_PATH: join(dir, 'events.db'),
      PEAQOS_READ_MODEL_PATH: join(dir, 'read-model.db'),
    };
    let registered!: MachineItem;
    let pending!: { device: Identity; proof: { challengeId: string; signature: string } };

    await withTestApp({ env }, async (first) => {
      const api = new MachineApi(first, mcr);
      registered = await api.register(api.identity());
      const device = api.identity();
      pending = { device, proof: await api.proof(device.did, device.key) };
    });

    await withTestApp(
      { env: { ...env, PEAQOS_AGENT_PAIRING_SESSION_SECRET: 'another-session-secret-0123456789abcdef-xyz' } },
      async (second) => {
        const api = new MachineApi(second, mcr);
        expect((await api.read(registered.id)).body.item).toEqual(registered);
        const response = await withoutEvents(second, () => api.create(api.body(pending.device.did, { identityProof: pending.proof })));
        expectProofInvalid(response, 'nonce_mismatch');
      },
    );

    await withTestApp({ env }, async (third) => {
      const api = new MachineApi(third, mcr);
      expect((await api.create(api.body(pending.device.did, { identityProof: pending.proof }))).status).toBe(201);
    });
  });
});

describe('machine routes with PEAQOS_REQUIRE_API_AUTH=true', () => {
  const KEY = 'api-key-machines-0123456789';
  let t: TestApp;
  useMachineApp({ env: { PEAQOS_REQUIRE_API_AUTH: 'true', PEAQOS_API_KEY: KEY } }, (app) => ({ t } = app));

  it.each([
    ['POST', MACHINES_URL],
    ['GET', MACHINES_URL],
    ['GET', `${MACHINES_URL}/${UNKNOWN_MACHINE_ID}`],
    ['PATCH', `${MACHINES_URL}/${UNKNOWN_MACHINE_ID}`],
  ] as const)('%s %s without x-api-key → 401 AUTH_REQUIRED', async (method, url) => {
    const response = await t.inject({ method, url, ...(method === 'GET' ? {} : { payload: { extra: 1 } }) });
    expectError(response, 401, 'AUTH_REQUIRED');
  });

  it('GET /machines with the key → 200', async () => {
    const response = await t.inject({ method: 'GET', url: MACHINES_URL, headers: { 'x-api-key': KEY } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ items: [] });
  });
});
