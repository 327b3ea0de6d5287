import { createHmac } from 'node:crypto';
import { expectError, expectValidationError } from '../support/http-expectations';
import { behaviour, McrTestServer, newControllerAccount } from '../support/mcr-server';
import { startTestApp, TEST_SESSION_SECRET, TestApp, TestResponse } from '../support/test-app';

const URL = '/api/v1/machine-identity/challenges';
const TTL_MS = 60_000;
const MCR_TIMEOUT_MS = 300;
const CHALLENGE_ID = /^chl_[0-9A-HJKMNP-TV-Z]{26}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** §4.5.2, rebuilt here from the template rather than imported from the code under test. */
function expectedMessage(c: { identityRef: string; challengeId: string; nonce: string; issuedAt: string; expiresAt: string }): string {
  return (
    'peaqOS Machine Markets signature request\n' +
    'Service: peaqos-machine-markets\n' +
    'Action: machine-identity-proof\n' +
    `Identity Ref: ${c.identityRef}\n` +
    `Challenge ID: ${c.challengeId}\n` +
    `Nonce: ${c.nonce}\n` +
    `Issued At: ${c.issuedAt}\n` +
    `Expires At: ${c.expiresAt}`
  );
}

/** §4.5.1, recomputed here with the test secret. */
function expectedNonce(c: { challengeId: string; identityRef: string; issuedAt: string; expiresAt: string }): string {
  return createHmac('sha256', TEST_SESSION_SECRET)
    .update(`machine-identity\n${c.challengeId}\n${c.identityRef}\n${c.issuedAt}\n${c.expiresAt}`, 'utf8')
    .digest('hex');
}

/** Flips the case of one hex letter of an EIP-55 address: still mixed case, no longer a valid checksum. */
function breakChecksum(address: string): string {
  const i = [...address].findIndex((ch, index) => index > 1 && /[a-fA-F]/.test(ch));
  const ch = address[i];
  return address.slice(0, i) + (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()) + address.slice(i + 1);
}

describe('POST /api/v1/machine-identity/challenges (§4.6.1)', () => {
  let mcr: McrTestServer;
  let t: TestApp;
  let nextMachineId = 1000;

  beforeAll(async () => {
    mcr = await new McrTestServer().start();
    t = await startTestApp({
      env: {
        PEAQOS_MCR_API_URL: mcr.url,
        PEAQOS_MCR_TIMEOUT_MS: String(MCR_TIMEOUT_MS),
        PEAQOS_MACHINE_IDENTITY_CHALLENGE_TTL_MS: String(TTL_MS),
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await mcr?.stop();
  });

  const issue = (body: unknown, headers: Record<string, string> = {}): Promise<TestResponse> =>
    t.inject({ method: 'POST', url: URL, payload: body as Record<string, unknown>, headers });

  function addMachine(options: { bondStatus?: string; operator?: string } = {}) {
    const key = newControllerAccount();
    const machineId = String(nextMachineId++);
    const did = mcr.addMachine({ address: key.address, bondStatus: options.bondStatus ?? 'bonded', operator: options.operator, machineId });
    return { key, machineId, did };
  }

  /** Runs `request` and asserts it appended no event. */
  async function withoutEvents(request: () => Promise<TestResponse>): Promise<TestResponse> {
    const before = (await t.storedEvents()).length;
    const response = await request();
    expect(await t.storedEvents()).toHaveLength(before);
    return response;
  }

  function expectChallenge(response: TestResponse, identityRef: string, controllerAddresses: string[]) {
    expect(response.status).toBe(201);
    expect(Object.keys(response.body)).toEqual(['item']);
    const item = response.body.item;
    expect(Object.keys(item).sort()).toEqual(
      ['challengeId', 'controllerAddresses', 'expiresAt', 'identityRef', 'issuedAt', 'message', 'nonce'].sort(),
    );
    expect(item.challengeId).toMatch(CHALLENGE_ID);
    expect(item.identityRef).toBe(identityRef);
    expect(item.controllerAddresses).toEqual(controllerAddresses);
    expect(item.issuedAt).toMatch(ISO_MS);
    expect(item.expiresAt).toMatch(ISO_MS);
    expect(Date.parse(item.expiresAt) - Date.parse(item.issuedAt)).toBe(TTL_MS);
    expect(item.nonce).toMatch(/^[0-9a-f]{64}$/);
    expect(item.nonce).toBe(expectedNonce(item));
    expect(item.message).toBe(expectedMessage(item));
    return item;
  }

  describe('issues a challenge', () => {
    it('for a did:peaq DID given in lower case, normalised to EIP-55', async () => {
      const { key, did } = addMachine();
      const lower = `did:peaq:${key.address.toLowerCase()}`;
      expect(lower).not.toBe(did);

      const item = expectChallenge(await issue({ identityRef: lower }), did, [key.address]);
      expect(item.message).toContain(`Identity Ref: ${did}\n`);
    });

    it('for a peaqos:machine:<id>, kept as given, with the DID address and a distinct operator as controllers', async () => {
      const operator = newControllerAccount();
      const { key, machineId } = addMachine({ operator: operator.address.toLowerCase() });
      const identityRef = `peaqos:machine:${machineId}`;

      expectChallenge(await issue({ identityRef }), identityRef, [key.address, operator.address]);
    });

    it('for an unbonded identity (bond status is not checked)', async () => {
      const { key, did } = addMachine({ bondStatus: 'unbonded' });
      expectChallenge(await issue({ identityRef: did }), did, [key.address]);
    });

    it('issues a new challenge, with a new id and nonce, on every request', async () => {
      const { did } = addMachine();
      const first = (await issue({ identityRef: did })).body.item;
      const second = (await issue({ identityRef: did })).body.item;
      expect(second.challengeId).not.toBe(first.challengeId);
      expect(second.nonce).not.toBe(first.nonce);
    });

    it('always resolves through MCR fresh: two issuances request MCR twice', async () => {
      const { did } = addMachine();
      mcr.clearLog();
      expect((await issue({ identityRef: did })).status).toBe(201);
      expect((await issue({ identityRef: did })).status).toBe(201);
      expect(mcr.count(`/mcr/${did}`)).toBe(2);
      expect(mcr.count(`/machine/${did}`)).toBe(2);
    });

    it('stores machine_identity_challenge.issued with the request correlation id and no secret', async () => {
      const { key, did } = addMachine();
      const correlationId = 'chl-e2e-correlation-1';
      const item = (await issue({ identityRef: did }, { 'x-correlation-id': correlationId })).body.item;

      const events = (await t.storedEvents()).filter((e) => e.streamId === `machine-identity-challenge-${item.challengeId}`);
      expect(events).toHaveLength(1);
      const [event] = events;
      expect(event.type).toBe('machine_identity_challenge.issued');
      expect(event.metadata.correlationId).toBe(correlationId);
      expect(event.data).toEqual({
        challengeId: item.challengeId,
        identityRef: did,
        message: item.message,
        nonce: item.nonce,
        issuedAt: item.issuedAt,
        expiresAt: item.expiresAt,
        controllerAddresses: [key.address],
      });
      expect(JSON.stringify(event)).not.toContain(TEST_SESSION_SECRET);
    });
  });

  describe('request shape (400 VALIDATION_ERROR)', () => {
    it.each([
      ['identityRef is missing', {}],
      ['identityRef is not a string', { identityRef: 42 }],
      ['identityRef is null', { identityRef: null }],
    ])('%s', async (_, body) => {
      const response = await withoutEvents(() => issue(body));
      expectValidationError(response, { location: 'body', path: '/identityRef' });
    });

    it('rejects an unknown member', async () => {
      const { did } = addMachine();
      const response = await withoutEvents(() => issue({ identityRef: did, extra: true }));
      expectValidationError(response, { location: 'body', path: '/extra' });
    });
  });

  describe('identityRef form (§4.2): 400 VALIDATION_ERROR, reason unsupported_identity_ref', () => {
    const KNOWN_CHECKSUMMED = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';

    it.each([
      ['an Economics 2.0 DID', 'did:peaq:123'],
      ['a DID with a bad EIP-55 checksum', `did:peaq:${breakChecksum(KNOWN_CHECKSUMMED)}`],
      ['a machine id with a leading zero', 'peaqos:machine:0123'],
      ['an upper-case prefix', `DID:PEAQ:${KNOWN_CHECKSUMMED}`],
      ['an empty string', ''],
    ])('rejects %s without calling MCR', async (_, identityRef) => {
      mcr.clearLog();
      const response = await withoutEvents(() => issue({ identityRef }));
      expectValidationError(response, { location: 'body', path: '/identityRef' });
      expect(response.body.error.details.reason).toBe('unsupported_identity_ref');
      expect(mcr.count()).toBe(0);
    });
  });

  describe('MCR failures (§4.3, "on challenge issuance")', () => {
    it('MCR 404 → 409 MACHINE_NOT_ACTIVATED, reason mcr_not_found', async () => {
      const unknown = newControllerAccount();
      const response = await withoutEvents(() => issue({ identityRef: `did:peaq:${unknown.address}` }));
      expectError(response, 409, 'MACHINE_NOT_ACTIVATED');
      expect(response.body.error.details).toEqual({ reason: 'mcr_not_found' });
    });

    it('an unknown machine id → 409 MACHINE_NOT_ACTIVATED, reason mcr_not_found', async () => {
      const response = await withoutEvents(() => issue({ identityRef: 'peaqos:machine:999999999' }));
      expectError(response, 409, 'MACHINE_NOT_ACTIVATED');
      expect(response.body.error.details).toEqual({ reason: 'mcr_not_found' });
    });

    it('a Machine Card whose did is not a did:peaq:0x DID → 409 MACHINE_NOT_ACTIVATED, reason unsupported_did', async () => {
      const machineId = String(nextMachineId++);
      mcr.behave(`/machines/${machineId}`, behaviour.json({ machine_id: machineId, did: 'did:peaq:123', name: 'e2' }));
      try {
        const response = await withoutEvents(() => issue({ identityRef: `peaqos:machine:${machineId}` }));
        expectError(response, 409, 'MACHINE_NOT_ACTIVATED');
        expect(response.body.error.details).toEqual({ reason: 'unsupported_did' });
      } finally {
        mcr.behave(`/machines/${machineId}`, null);
      }
    });

    it('MCR 500 → 503 PEAQOS_IDENTITY_UNAVAILABLE, reason upstream_status, upstreamStatus 500, Retry-After 5', async () => {
      const { did } = addMachine();
      mcr.behave(did, behaviour.status(500));
      try {
        const response = await withoutEvents(() => issue({ identityRef: did }));
        expectError(response, 503, 'PEAQOS_IDENTITY_UNAVAILABLE');
        expect(response.body.error.details).toEqual({ reason: 'upstream_status', upstreamStatus: 500 });
        expect(response.headers['retry-after']).toBe('5');
      } finally {
        mcr.behave(did, null);
      }
    });

    it('a slow MCR → 503 PEAQOS_IDENTITY_UNAVAILABLE, reason timeout', async () => {
      const { did } = addMachine();
      mcr.behave(did, behaviour.slow(MCR_TIMEOUT_MS * 5));
      try {
        const response = await withoutEvents(() => issue({ identityRef: did }));
        expectError(response, 503, 'PEAQOS_IDENTITY_UNAVAILABLE');
        expect(response.body.error.details).toEqual({ reason: 'timeout' });
        expect(response.headers['retry-after']).toBe('5');
      } finally {
        mcr.behave(did, null);
      }
    });

    it('a fresh read after a success sees the failure (no cached answer is used)', async () => {
      const { did } = addMachine();
      expect((await issue({ identityRef: did })).status).toBe(201);
      mcr.behave(did, behaviour.status(500));
      try {
        expectError(await issue({ identityRef: did }), 503, 'PEAQOS_IDENTITY_UNAVAILABLE');
      } finally {
        mcr.behave(did, null);
      }
    });
  });
});

describe('POST /api/v1/machine-identity/challenges with PEAQOS_REQUIRE_API_AUTH=true (§0.14 step 2)', () => {
  const KEY = 'api-key-identity-0123456789';
  let mcr: McrTestServer;
  let t: TestApp;

  beforeAll(async () => {
    mcr = await new McrTestServer().start();
    t = await startTestApp({ env: { PEAQOS_MCR_API_URL: mcr.url, PEAQOS_REQUIRE_API_AUTH: 'true', PEAQOS_API_KEY: KEY } });
  });
  afterAll(async () => {
    await t?.close();
    await mcr?.stop();
  });

  it('answers a request without x-api-key with 401 AUTH_REQUIRED, before body validation and without calling MCR', async () => {
    const response = await t.inject({ method: 'POST', url: URL, payload: { identityRef: 'did:peaq:123', extra: 1 } });
    expectError(response, 401, 'AUTH_REQUIRED');
    expect(mcr.count()).toBe(0);
  });

  it('answers an unknown key with 401 AUTH_INVALID', async () => {
    const response = await t.inject({
      method: 'POST',
      url: URL,
      payload: { identityRef: 'did:peaq:123' },
      headers: { 'x-api-key': `${KEY}x` },
    });
    expectError(response, 401, 'AUTH_INVALID');
  });

  it('issues with a valid key and stamps the API-key actor on the event', async () => {
    const key = newControllerAccount();
    const did = mcr.addMachine({ address: key.address, bondStatus: 'bonded' });
    const response = await t.inject({ method: 'POST', url: URL, payload: { identityRef: did }, headers: { 'x-api-key': KEY } });
    expect(response.status).toBe(201);
    const [event] = (await t.storedEvents()).filter((e) => e.streamId === `machine-identity-challenge-${response.body.item.challengeId}`);
    expect(event.metadata.actor).toEqual({ type: 'api-key', id: expect.stringMatching(/^sha256:[0-9a-f]{16}$/) });
  });
});
