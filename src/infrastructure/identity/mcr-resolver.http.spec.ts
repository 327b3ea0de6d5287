import { createServer } from 'node:net';
import { ControllableClock } from '../../../test/support/controllable-clock';
import { behaviour, McrTestServer, newControllerAccount } from '../../../test/support/mcr-server';
import { McrResult } from '../../application/ports/mcr-resolver.port';
import { HttpMcrResolver, HttpMcrResolverOptions } from './mcr-resolver.http';

describe('HttpMcrResolver (§4.3) against a local MCR server', () => {
  const mcr = new McrTestServer();
  let clock: ControllableClock;

  beforeAll(() => mcr.start());
  afterAll(() => mcr.stop());
  beforeEach(() => {
    clock = new ControllableClock();
    mcr.clearLog();
  });

  function resolver(options: Partial<HttpMcrResolverOptions> = {}): HttpMcrResolver {
    return new HttpMcrResolver({ baseUrl: mcr.url, timeoutMs: 1_000, cacheTtlMs: 60_000, clock, ...options });
  }

  function expectOk(result: McrResult) {
    if (!result.ok) throw new Error(`expected a resolution, got ${JSON.stringify(result.failure)}`);
    return result.value;
  }

  /** A fresh machine on the server with its own key. */
  function machine(options: { bondStatus?: string; operator?: string; machineId?: string; hasMachineRecord?: boolean } = {}) {
    const account = newControllerAccount();
    const did = mcr.addMachine({ address: account.address, bondStatus: 'bonded', ...options });
    return { account, did };
  }

  let nextMachineId = 1000;
  const newMachineId = () => String(nextMachineId++);

  describe('DID identityRef', () => {
    it('resolves a bonded DID with an operator address to DID address then operator, EIP-55', async () => {
      const operator = newControllerAccount();
      const { account, did } = machine({ operator: operator.address.toLowerCase() });

      const value = expectOk(await resolver().resolve(did));

      expect(value).toEqual({ did, bondStatus: 'bonded', controllerAddresses: [account.address, operator.address] });
      expect(mcr.requests.map((r) => r.path).sort()).toEqual([`/machine/${did}`, `/mcr/${did}`]);
    });

    it('sends GET with Accept: application/json, no credentials, the DID in the path as is', async () => {
      const { did } = machine();
      await resolver().resolve(did);
      for (const request of mcr.requests) {
        expect(request.method).toBe('GET');
        expect(request.headers.accept).toBe('application/json');
        expect(request.headers.authorization).toBeUndefined();
        expect(request.headers.cookie).toBeUndefined();
      }
      expect(mcr.count(`/mcr/${did}`)).toBe(1);
    });

    it('keeps a path prefix of PEAQOS_MCR_API_URL and drops a trailing slash', async () => {
      const { did } = machine();
      mcr.behave(`/api/mcr/${did}`, behaviour.json({ bond_status: 'bonded' }));
      mcr.behave(`/api/machine/${did}`, behaviour.json({ peaqos: {} }));
      const value = expectOk(await resolver({ baseUrl: `${mcr.url}/api/` }).resolve(did));
      expect(value.bondStatus).toBe('bonded');
      expect(mcr.count(`/api/mcr/${did}`)).toBe(1);
    });

    it('reports an unbonded machine as unbonded', async () => {
      const { did } = machine({ bondStatus: 'unbonded' });
      expect(expectOk(await resolver().resolve(did)).bondStatus).toBe('unbonded');
    });

    it('counts any other bond_status string as unbonded', async () => {
      const { did } = machine({ bondStatus: 'pending' });
      expect(expectOk(await resolver().resolve(did)).bondStatus).toBe('unbonded');
    });

    it('takes the operator address from an operator DID', async () => {
      const operator = newControllerAccount();
      const { account, did } = machine({ operator: `did:peaq:${operator.address.toLowerCase()}` });
      expect(expectOk(await resolver().resolve(did)).controllerAddresses).toEqual([account.address, operator.address]);
    });

    it('lists only the DID address when the operator equals it (case-insensitive)', async () => {
      const account = newControllerAccount();
      const did = mcr.addMachine({ address: account.address, bondStatus: 'bonded', operator: account.address.toLowerCase() });
      expect(expectOk(await resolver().resolve(did)).controllerAddresses).toEqual([account.address]);
    });

    it.each([
      ['missing', undefined],
      ['garbage text', 'not-an-address'],
      ['a too short address', '0x1234'],
      ['an Economics 2.0 DID', 'did:peaq:12345'],
    ])('has no operator when peaqos.operator is %s', async (_label, operator) => {
      const { account, did } = machine({ operator });
      expect(expectOk(await resolver().resolve(did)).controllerAddresses).toEqual([account.address]);
    });

    it('has no operator when peaqos.operator is not a string or peaqos is absent', async () => {
      const { account, did } = machine();
      mcr.behave(`/machine/${did}`, behaviour.json({ did, peaqos: { operator: 42 } }));
      expect(expectOk(await resolver().resolve(did)).controllerAddresses).toEqual([account.address]);
      mcr.behave(`/machine/${did}`, behaviour.incomplete());
      expect(expectOk(await resolver({ cacheTtlMs: 0 }).resolve(did)).controllerAddresses).toEqual([account.address]);
    });

    it('treats 404 on /machine/{did} as "no operator" (item 24)', async () => {
      const { account, did } = machine({ hasMachineRecord: false });
      expect(expectOk(await resolver().resolve(did))).toEqual({ did, bondStatus: 'bonded', controllerAddresses: [account.address] });
    });

    it('treats 400 on /machine/{did} as "no operator"', async () => {
      const { account, did } = machine({ operator: newControllerAccount().address });
      mcr.behave(`/machine/${did}`, behaviour.badRequest());
      expect(expectOk(await resolver().resolve(did)).controllerAddresses).toEqual([account.address]);
    });

    it('returns not_found when /mcr/{did} answers 404', async () => {
      const { did } = machine();
      mcr.behave(`/mcr/${did}`, behaviour.unknown());
      expect(await resolver().resolve(did)).toEqual({ ok: false, failure: { kind: 'not_found' } });
    });

    it('returns not_found for a DID MCR does not know', async () => {
      const did = `did:peaq:${newControllerAccount().address}`;
      expect(await resolver().resolve(did)).toEqual({ ok: false, failure: { kind: 'not_found' } });
    });

    it('returns not_found when /mcr/{did} answers 400 (item 24)', async () => {
      const { did } = machine();
      mcr.behave(`/mcr/${did}`, behaviour.badRequest());
      expect(await resolver().resolve(did)).toEqual({ ok: false, failure: { kind: 'not_found' } });
    });

    it.each([500, 502, 503, 429, 301])('returns unavailable/upstream_status with upstreamStatus %i', async (status) => {
      const { did } = machine();
      mcr.behave(`/mcr/${did}`, behaviour.status(status));
      expect(await resolver().resolve(did)).toEqual({
        ok: false,
        failure: { kind: 'unavailable', reason: 'upstream_status', upstreamStatus: status },
      });
    });

    it('returns upstream_status when only /machine/{did} fails with 5xx', async () => {
      const { did } = machine();
      mcr.behave(`/machine/${did}`, behaviour.status(502));
      expect(await resolver().resolve(did)).toEqual({
        ok: false,
        failure: { kind: 'unavailable', reason: 'upstream_status', upstreamStatus: 502 },
      });
    });

    it('lets a not_found bond record win over a failing operator lookup', async () => {
      const { did } = machine();
      mcr.behave(`/mcr/${did}`, behaviour.unknown());
      mcr.behave(`/machine/${did}`, behaviour.status(500));
      expect(await resolver().resolve(did)).toEqual({ ok: false, failure: { kind: 'not_found' } });
    });

    it('returns unavailable/timeout after PEAQOS_MCR_TIMEOUT_MS', async () => {
      const { did } = machine();
      mcr.behave(`/mcr/${did}`, behaviour.slow(2_000));
      const started = Date.now();
      expect(await resolver({ timeoutMs: 150 }).resolve(did)).toEqual({
        ok: false,
        failure: { kind: 'unavailable', reason: 'timeout' },
      });
      expect(Date.now() - started).toBeLessThan(1_500);
    });

    it('returns unavailable/network when the connection is closed without an answer', async () => {
      const { did } = machine();
      mcr.behave(`/mcr/${did}`, behaviour.closeConnection());
      expect(await resolver().resolve(did)).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'network' } });
    });

    it('returns unavailable/network when nothing listens on the port', async () => {
      const port = await unusedPort();
      const did = `did:peaq:${newControllerAccount().address}`;
      expect(await resolver({ baseUrl: `http://127.0.0.1:${port}` }).resolve(did)).toEqual({
        ok: false,
        failure: { kind: 'unavailable', reason: 'network' },
      });
    });

    it('returns unavailable/bad_response for a 2xx body that is not JSON', async () => {
      const { did } = machine();
      mcr.behave(`/mcr/${did}`, behaviour.garbage());
      expect(await resolver().resolve(did)).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'bad_response' } });
    });

    it('returns unavailable/bad_response for unparseable JSON from /machine/{did}', async () => {
      const { did } = machine();
      mcr.behave(`/machine/${did}`, behaviour.garbage());
      expect(await resolver().resolve(did)).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'bad_response' } });
    });

    it.each([
      ['without bond_status', 'incomplete'],
      ['with a numeric bond_status', { bond_status: 1 }],
      ['that is an array', ['bonded']],
      ['that is null', null],
    ])('returns unavailable/bad_response for /mcr/{did} JSON %s', async (_label, body) => {
      const { did } = machine();
      mcr.behave(`/mcr/${did}`, body === 'incomplete' ? behaviour.incomplete() : behaviour.json(body));
      expect(await resolver().resolve(did)).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'bad_response' } });
    });

    it('rejects an identityRef that is neither form as unsupported_did without calling MCR', async () => {
      expect(await resolver().resolve('did:peaq:12345')).toEqual({ ok: false, failure: { kind: 'unsupported_did' } });
      expect(mcr.count()).toBe(0);
    });
  });

  describe('peaqos:machine:<id> identityRef', () => {
    it('reads the Machine Card, then resolves its DID (normalised to EIP-55)', async () => {
      const machineId = newMachineId();
      const operator = newControllerAccount();
      const { account, did } = machine({ machineId, operator: operator.address });
      mcr.behave(`/machines/${machineId}`, behaviour.json({ machine_id: machineId, did: `did:peaq:${account.address.toLowerCase()}` }));

      const value = expectOk(await resolver().resolve(`peaqos:machine:${machineId}`));

      expect(value).toEqual({ did, bondStatus: 'bonded', controllerAddresses: [account.address, operator.address] });
      expect(mcr.count(`/machines/${machineId}`)).toBe(1);
      expect(mcr.count(`/mcr/${did}`)).toBe(1);
      expect(mcr.count(`/machine/${did}`)).toBe(1);
    });

    it('returns not_found when the Machine Card is 404 and asks nothing else', async () => {
      expect(await resolver().resolve(`peaqos:machine:${newMachineId()}`)).toEqual({ ok: false, failure: { kind: 'not_found' } });
      expect(mcr.count()).toBe(1);
    });

    it('returns not_found when the Machine Card is 400', async () => {
      const machineId = newMachineId();
      machine({ machineId });
      mcr.behave(`/machines/${machineId}`, behaviour.badRequest());
      expect(await resolver().resolve(`peaqos:machine:${machineId}`)).toEqual({ ok: false, failure: { kind: 'not_found' } });
    });

    it('returns not_found when the card resolves but its DID has no MCR record', async () => {
      const machineId = newMachineId();
      const { did } = machine({ machineId });
      mcr.behave(`/mcr/${did}`, behaviour.unknown());
      expect(await resolver().resolve(`peaqos:machine:${machineId}`)).toEqual({ ok: false, failure: { kind: 'not_found' } });
    });

    it.each([
      ['an Economics 2.0 DID', { did: 'did:peaq:123456' }],
      ['another DID method', { did: `did:key:z6Mk` }],
      ['a bare address', { did: '0x' + 'a'.repeat(40) }],
      ['a DID with 39 hex digits', { did: 'did:peaq:0x' + 'a'.repeat(39) }],
      ['no did field', { machine_id: '7' }],
      ['a numeric did', { did: 7 }],
    ])('returns unsupported_did when the card carries %s', async (_label, body) => {
      const machineId = newMachineId();
      mcr.behave(`/machines/${machineId}`, behaviour.json(body));
      expect(await resolver().resolve(`peaqos:machine:${machineId}`)).toEqual({ ok: false, failure: { kind: 'unsupported_did' } });
      expect(mcr.count()).toBe(1);
    });

    it('returns bad_response for an unparseable Machine Card', async () => {
      const machineId = newMachineId();
      mcr.behave(`/machines/${machineId}`, behaviour.garbage());
      expect(await resolver().resolve(`peaqos:machine:${machineId}`)).toEqual({
        ok: false,
        failure: { kind: 'unavailable', reason: 'bad_response' },
      });
    });

    it('returns upstream_status, timeout and network for the Machine Card like any call', async () => {
      const machineId = newMachineId();
      machine({ machineId });
      const ref = `peaqos:machine:${machineId}`;
      mcr.behave(`/machines/${machineId}`, behaviour.status(500));
      expect(await resolver().resolve(ref)).toEqual({
        ok: false,
        failure: { kind: 'unavailable', reason: 'upstream_status', upstreamStatus: 500 },
      });
      mcr.behave(`/machines/${machineId}`, behaviour.slow(2_000));
      expect(await resolver({ timeoutMs: 100 }).resolve(ref)).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'timeout' } });
      mcr.behave(`/machines/${machineId}`, behaviour.closeConnection());
      expect(await resolver().resolve(ref)).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'network' } });
    });
  });

  describe('caching (§4.3, item 24)', () => {
    it('serves a repeated read from the cache without a second request', async () => {
      const machineId = newMachineId();
      const { did } = machine({ machineId });
      const mcrResolver = resolver();
      const first = await mcrResolver.resolve(`peaqos:machine:${machineId}`);
      const second = await mcrResolver.resolve(`peaqos:machine:${machineId}`);
      expect(second).toEqual(first);
      expect(mcr.count()).toBe(3);
      // The same DID URLs are shared by the DID form of the identity.
      await mcrResolver.resolve(did);
      expect(mcr.count()).toBe(3);
    });

    it('fresh bypasses the cache and refreshes it', async () => {
      const { did } = machine({ bondStatus: 'unbonded' });
      const mcrResolver = resolver();
      expect(expectOk(await mcrResolver.resolve(did)).bondStatus).toBe('unbonded');

      mcr.updateMachine(did, { bondStatus: 'bonded' });
      expect(expectOk(await mcrResolver.resolve(did)).bondStatus).toBe('unbonded');
      expect(mcr.count(`/mcr/${did}`)).toBe(1);

      expect(expectOk(await mcrResolver.resolve(did, { fresh: true })).bondStatus).toBe('bonded');
      expect(mcr.count(`/mcr/${did}`)).toBe(2);

      // The refreshed answer now serves reads.
      expect(expectOk(await mcrResolver.resolve(did)).bondStatus).toBe('bonded');
      expect(mcr.count(`/mcr/${did}`)).toBe(2);
    });

    it('refetches once PEAQOS_MCR_CACHE_TTL_MS has passed', async () => {
      const { did } = machine();
      const mcrResolver = resolver({ cacheTtlMs: 10_000 });
      await mcrResolver.resolve(did);
      clock.advance(9_999);
      await mcrResolver.resolve(did);
      expect(mcr.count(`/mcr/${did}`)).toBe(1);
      clock.advance(1);
      await mcrResolver.resolve(did);
      expect(mcr.count(`/mcr/${did}`)).toBe(2);
      expect(mcr.count(`/machine/${did}`)).toBe(2);
    });

    it('never caches 404s', async () => {
      const { did } = machine();
      mcr.behave(`/mcr/${did}`, behaviour.unknown());
      const mcrResolver = resolver();
      await mcrResolver.resolve(did);
      await mcrResolver.resolve(did);
      expect(mcr.count(`/mcr/${did}`)).toBe(2);

      mcr.behave(`/mcr/${did}`, null);
      expect(expectOk(await mcrResolver.resolve(did)).bondStatus).toBe('bonded');
    });

    it('caches a 404 "no operator" never, but the 2xx bond record yes', async () => {
      const { did } = machine({ hasMachineRecord: false });
      const mcrResolver = resolver();
      await mcrResolver.resolve(did);
      await mcrResolver.resolve(did);
      expect(mcr.count(`/mcr/${did}`)).toBe(1);
      expect(mcr.count(`/machine/${did}`)).toBe(2);
    });

    it.each([
      ['5xx', behaviour.status(503)],
      ['garbage', behaviour.garbage()],
      ['incomplete JSON', behaviour.incomplete()],
      ['a closed connection', behaviour.closeConnection()],
    ])('never caches %s', async (_label, failing) => {
      const { did } = machine();
      mcr.behave(`/mcr/${did}`, failing);
      const mcrResolver = resolver();
      expect((await mcrResolver.resolve(did)).ok).toBe(false);
      expect((await mcrResolver.resolve(did)).ok).toBe(false);
      expect(mcr.count(`/mcr/${did}`)).toBe(2);
      mcr.behave(`/mcr/${did}`, null);
      expect((await mcrResolver.resolve(did)).ok).toBe(true);
    });

    it('does not cache a Machine Card with an unsupported DID', async () => {
      const machineId = newMachineId();
      mcr.behave(`/machines/${machineId}`, behaviour.json({ did: 'did:peaq:42' }));
      const mcrResolver = resolver();
      await mcrResolver.resolve(`peaqos:machine:${machineId}`);
      await mcrResolver.resolve(`peaqos:machine:${machineId}`);
      expect(mcr.count(`/machines/${machineId}`)).toBe(2);
    });

    it('drops a cached answer when a fresh read finds the record gone', async () => {
      const { did } = machine();
      const mcrResolver = resolver();
      expect((await mcrResolver.resolve(did)).ok).toBe(true);
      mcr.removeMachine(did);
      expect(await mcrResolver.resolve(did, { fresh: true })).toEqual({ ok: false, failure: { kind: 'not_found' } });
      expect(await mcrResolver.resolve(did)).toEqual({ ok: false, failure: { kind: 'not_found' } });
    });

    it('keeps the cached answer for reads when a fresh read meets an outage', async () => {
      const { did } = machine();
      const mcrResolver = resolver();
      await mcrResolver.resolve(did);
      mcr.behave(`/mcr/${did}`, behaviour.status(500));
      expect((await mcrResolver.resolve(did, { fresh: true })).ok).toBe(false);
      expect((await mcrResolver.resolve(did)).ok).toBe(true);
    });

    it('does not cache at all with PEAQOS_MCR_CACHE_TTL_MS = 0', async () => {
      const { did } = machine();
      const mcrResolver = resolver({ cacheTtlMs: 0 });
      await mcrResolver.resolve(did);
      await mcrResolver.resolve(did);
      expect(mcr.count(`/mcr/${did}`)).toBe(2);
      expect(mcr.count(`/machine/${did}`)).toBe(2);
    });

    it('bounds the cache, evicting the least recently used URL', async () => {
      const a = machine();
      const b = machine();
      const mcrResolver = resolver({ maxCacheEntries: 2 });
      await mcrResolver.resolve(a.did); // caches /mcr/a, /machine/a
      await mcrResolver.resolve(b.did); // evicts both of a
      mcr.clearLog();
      await mcrResolver.resolve(b.did);
      expect(mcr.count()).toBe(0);
      await mcrResolver.resolve(a.did);
      expect(mcr.count()).toBe(2);
    });
  });
});

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
