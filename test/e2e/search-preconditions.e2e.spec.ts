import { ControllableClock } from '../support/controllable-clock';
import { expectError, expectValidationError } from '../support/http-expectations';
import { Identity, MachineApi, MachineItem, UNKNOWN_MACHINE_ID } from '../support/machine-api';
import { behaviour, McrTestServer, newControllerAccount } from '../support/mcr-server';
import {
  decodeJwt,
  expectAuthInvalid,
  expectInactive,
  handMadeJwt,
  newAgent,
  Paired,
  PairingApi,
  TOKEN_HEADER,
  UNKNOWN_PAIRING_ID,
} from '../support/pairing-api';
import { expectBodyIssue, refusedWithoutEvents, SEARCH_URL, SearchApi, useSearchApp } from '../support/search-api';
import { TEST_SESSION_SECRET, TestApp, TestResponse, withTestApp } from '../support/test-app';

/** The §6.4.3 preconditions, in order, each with its code; a refused search stores nothing. */

const T0 = '2026-04-01T10:00:00.000Z';
const SESSION_TTL_MS = 3_600_000;
const UNKNOWN_SKILL = 'no.such-skill';

describe('API key first (§1.1, §0.14 step 2)', () => {
  const KEY = 'search-api-key-0123456789abcdef';
  const search = (t: TestApp, headers: Record<string, string>, payload: unknown = { machineId: UNKNOWN_MACHINE_ID }) =>
    t.inject({ method: 'POST', url: SEARCH_URL, payload: payload as Record<string, unknown>, headers });

  it('401 AUTH_REQUIRED without (or with an empty) x-api-key, AUTH_INVALID with a wrong one, before any agent check', async () => {
    await withTestApp({ env: { PEAQOS_REQUIRE_API_AUTH: 'true', PEAQOS_API_KEY: KEY } }, async (t) => {
      const before = (await t.storedEvents()).length;
      // Neither a bad pairing token nor a bad body is looked at before the key.
      expectError(await search(t, { [TOKEN_HEADER]: 'not-a-jwt' }, { maxResults: 0 }), 401, 'AUTH_REQUIRED');
      expectError(await search(t, {}), 401, 'AUTH_REQUIRED');
      expectError(await search(t, { 'x-api-key': '' }), 401, 'AUTH_REQUIRED');
      expectError(await search(t, { 'x-api-key': `${KEY}x`, [TOKEN_HEADER]: 'not-a-jwt' }), 401, 'AUTH_INVALID');
      expectError(await search(t, { 'x-api-key': 'wrong' }), 401, 'AUTH_INVALID');
      const broken = await t.inject({
        method: 'POST',
        url: SEARCH_URL,
        payload: '{"machineId":',
        headers: { 'content-type': 'application/json' },
      });
      expectError(broken, 401, 'AUTH_REQUIRED');
      // The right key reaches the agent credential check (required by default).
      expectError(await search(t, { 'x-api-key': KEY }, { maxResults: 0 }), 401, 'AGENT_AUTH_REQUIRED');
      expectAuthInvalid(await search(t, { 'x-api-key': KEY, [TOKEN_HEADER]: 'not-a-jwt' }), 'malformed');
      expect(await t.storedEvents()).toHaveLength(before);
    });
  });
});

describe('with the pairing token required (default, §1.2)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let mcr: McrTestServer;
  let machines: MachineApi;
  let pairings: PairingApi;
  let api: SearchApi;
  useSearchApp({ clock, env: { PEAQOS_AGENT_PAIRING_SESSION_TTL_MS: String(SESSION_TTL_MS) } }, (app) => {
    ({ t, mcr, machines, pairings, search: api } = app);
  });

  type Agent = Paired & { device: Identity };
  async function paired(): Promise<Agent> {
    const { machine, device } = await pairings.activeMachine();
    return { ...(await pairings.pair(machine, newAgent())), device };
  }
  /**
   * The search of `body` (machineId defaulting to the agent's) with `token` (default the agent's; `null`:
   * none), which must be refused.
   */
  const refused = (agent: Pick<Paired, 'machine' | 'token'>, body: Record<string, unknown> = {}, token: string | null = agent.token) =>
    refusedWithoutEvents(t, () => api.search({ machineId: agent.machine.id, ...body }, token ?? undefined));

  describe('agent credential (§1.2 steps 1–8, before body validation)', () => {
    let agent: Agent;
    beforeAll(async () => {
      agent = await paired();
    });

    it('401 AGENT_AUTH_REQUIRED without a token (or with an empty one), even for an invalid body', async () => {
      expectError(await refused(agent, {}, null), 401, 'AGENT_AUTH_REQUIRED');
      expectError(await refused(agent, {}, ''), 401, 'AGENT_AUTH_REQUIRED');
      expectError(await refused(agent, { maxResults: 0, unknownMember: true }, null), 401, 'AGENT_AUTH_REQUIRED');
    });

    it('parses the body (400, 413) before checking the token (§0.14 step 3)', async () => {
      const raw = (payload: string, contentType = 'application/json') =>
        refusedWithoutEvents(t, () => t.inject({ method: 'POST', url: SEARCH_URL, payload, headers: { 'content-type': contentType } }));
      expectError(await raw('{"machineId":'), 400, 'VALIDATION_ERROR');
      expectError(await raw(JSON.stringify({ machineId: agent.machine.id }), 'text/plain'), 400, 'VALIDATION_ERROR');
      const large = await raw(JSON.stringify({ machineId: agent.machine.id, operation: 'x'.repeat(1_048_576) }));
      expectError(large, 413, 'PAYLOAD_TOO_LARGE');
      expect(large.body.error.details).toEqual({ limitBytes: 1_048_576 });
    });

    it('401 AGENT_AUTH_INVALID for malformed, forged and unknown-pairing tokens, even for an invalid body', async () => {
      const { header, claims } = decodeJwt(agent.token);
      expectAuthInvalid(await refused(agent, {}, 'not-a-jwt'), 'malformed');
      expectAuthInvalid(await refused(agent, { maxResults: 0 }, 'a.b.c'), 'malformed');
      expectAuthInvalid(await refused(agent, {}, handMadeJwt(header, claims, { secret: `${TEST_SESSION_SECRET}-other` })), 'bad_signature');
      expectAuthInvalid(await refused(agent, {}, handMadeJwt(header, { ...claims, pairingId: UNKNOWN_PAIRING_ID })), 'unknown_pairing');
    });

    it('401 AGENT_AUTH_EXPIRED once now >= exp, with details.expiredAt', async () => {
      const fresh = await paired();
      const { claims } = decodeJwt(fresh.token);
      const expiredAt = new Date(claims.exp * 1000).toISOString();
      expect(expiredAt).toBe(fresh.pairing.sessionExpiresAt);
      // One second before exp: still valid.
      clock.set(new Date((claims.exp - 1) * 1000));
      expect((await api.search({ machineId: fresh.machine.id }, fresh.token)).status).toBe(201);
      clock.set(expiredAt);
      const response = await refused(fresh, {});
      expectError(response, 401, 'AGENT_AUTH_EXPIRED');
      expect(response.body.error.details).toEqual({ expiredAt });
      // The other agents of this describe get fresh tokens from here on.
      agent = await paired();
    });

    it('403 AGENT_PAIRING_INACTIVE for a paused pairing (valid again once resumed); revoked and rotated tokens are invalid', async () => {
      const fresh = await paired();
      expect((await pairings.update(fresh.machine.id, fresh.pairing.id, { status: 'paused' })).status).toBe(200);
      expectInactive(await refused(fresh, {}), fresh.pairing.id, 'paused');
      expectInactive(await refused(fresh, { maxResults: 0 }), fresh.pairing.id, 'paused');
      expect((await pairings.update(fresh.machine.id, fresh.pairing.id, { status: 'active' })).status).toBe(200);
      expect((await api.search({ machineId: fresh.machine.id }, fresh.token)).status).toBe(201);

      const rotated = await pairings.rotateWithProof(fresh);
      expect(rotated.status).toBe(201);
      expectAuthInvalid(await refused(fresh, {}), 'session_rotated');
      expect((await pairings.revoke(fresh.machine.id, fresh.pairing.id)).status).toBe(200);
      expectAuthInvalid(await refused(fresh, {}, rotated.body.item.pairingToken), 'pairing_revoked');
    });
  });

  describe('body validation (§6.4.1, §0.2) after the token, before any lookup', () => {
    let agent: Agent;
    beforeAll(async () => {
      agent = await paired();
    });
    const invalid = (body: Record<string, unknown>) => refused(agent, body);
    const providers = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`provider-${i}`, { apiKey: 'k' }]));

    it('rejects unknown members at every typed level', async () => {
      expectBodyIssue(await invalid({ unknownMember: 1 }), '/unknownMember');
      expectBodyIssue(await invalid({ budget: { amount: 1, ceiling: 2 } }), '/budget/ceiling');
      expectBodyIssue(await invalid({ requirements: { capabilities: [], skills: [] } }), '/requirements/skills');
      expectBodyIssue(await invalid({ preferences: { nativeOnly: true, fastest: true } }), '/preferences/fastest');
      expectBodyIssue(await refused(agent, { machineId: undefined }), '/machineId');
      expectBodyIssue(await refused(agent, { machineId: 42 }), '/machineId');
      expectBodyIssue(await invalid({ agentPairingId: 7 }), '/agentPairingId');
      expectBodyIssue(await invalid({ budget: [1] }), '/budget');
      expectBodyIssue(await invalid({ requirements: { capabilities: 'gpu' } }), '/requirements/capabilities');
    });

    it('checks serviceType, operation, capabilities and region', async () => {
      expectBodyIssue(await invalid({ serviceType: 'oracle.pricefeed' }), '/serviceType');
      expectBodyIssue(await invalid({ operation: 'x'.repeat(129) }), '/operation');
      expectBodyIssue(await invalid({ operation: '' }), '/operation');
      expectBodyIssue(
        await invalid({ requirements: { capabilities: Array.from({ length: 51 }, (_, i) => `cap-${i}`) } }),
        '/requirements/capabilities',
      );
      expectBodyIssue(await invalid({ requirements: { capabilities: ['ok', 'c'.repeat(101)] } }), '/requirements/capabilities');
      expectBodyIssue(await invalid({ requirements: { capabilities: [''] } }), '/requirements/capabilities');
      expectBodyIssue(await invalid({ requirements: { capabilities: [7] } }), '/requirements/capabilities');
      expectBodyIssue(await invalid({ region: 'r'.repeat(65) }), '/region');
      expectBodyIssue(await invalid({ region: '' }), '/region');
    });

    it('checks budget amounts (finite numbers >= 0, amount <= maxAmount: budget_inconsistent) and currency', async () => {
      expectBodyIssue(await invalid({ budget: { amount: -1 } }), '/budget/amount');
      expectBodyIssue(await invalid({ budget: { maxAmount: -0.5 } }), '/budget/maxAmount');
      // JSON has no NaN or Infinity: a string is the non-number that can be sent.
      expectBodyIssue(await invalid({ budget: { amount: '5' } }), '/budget/amount');
      expectBodyIssue(await invalid({ budget: { maxAmount: 'Infinity' } }), '/budget/maxAmount');
      expectBodyIssue(await invalid({ budget: { currency: 'X' } }), '/budget/currency');
      const inconsistent = await invalid({ budget: { amount: 2, maxAmount: 1.5 } });
      expectBodyIssue(inconsistent, '/budget', 'budget_inconsistent');
    });

    it('checks maxResults (an integer 1..50) and preferences', async () => {
      for (const maxResults of [0, 51, 1.5, -1, '10']) expectBodyIssue(await invalid({ maxResults }), '/maxResults');
      expectBodyIssue(await invalid({ preferences: { nativeOnly: 'yes' } }), '/preferences/nativeOnly');
      expectBodyIssue(await invalid({ preferences: { allowExternalHandoff: 1 } }), '/preferences/allowExternalHandoff');
      expectBodyIssue(await invalid({ preferences: { preferredProviderKeys: ['not a key'] } }), '/preferences/preferredProviderKeys');
      expectBodyIssue(await invalid({ preferences: { preferredProviderKeys: ['-dash-first'] } }), '/preferences/preferredProviderKeys');
      const tooMany = Array.from({ length: 51 }, (_, i) => `p${i}`);
      expectBodyIssue(await invalid({ preferences: { preferredProviderKeys: tooMany } }), '/preferences/preferredProviderKeys');
    });

    it('checks providerCredentials: at most 20 providers keyed by catalogue keys, string values of at most 4096 characters', async () => {
      expectBodyIssue(await invalid({ providerCredentials: providers(21) }), '/providerCredentials');
      expectBodyIssue(await invalid({ providerCredentials: { pyth: { apiKey: 5 } } }), '/providerCredentials');
      expectBodyIssue(await invalid({ providerCredentials: { pyth: { apiKey: true } } }), '/providerCredentials');
      expectBodyIssue(await invalid({ providerCredentials: { pyth: { apiKey: 'k'.repeat(4097) } } }), '/providerCredentials');
      expectBodyIssue(await invalid({ providerCredentials: { pyth: 'secret' } }), '/providerCredentials');
      expectBodyIssue(await invalid({ providerCredentials: { 'not a key': { apiKey: 'k' } } }), '/providerCredentials');
      const fields = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`field${i}`, 'v']));
      expectBodyIssue(await invalid({ providerCredentials: { pyth: fields } }), '/providerCredentials');
      expectBodyIssue(await invalid({ providerCredentials: ['pyth'] }), '/providerCredentials');
    });

    it('accepts every limit itself', async () => {
      const limits = {
        operation: 'o'.repeat(128),
        region: 'r'.repeat(64),
        requirements: { capabilities: Array.from({ length: 50 }, (_, i) => `${i}`.padEnd(100, 'c')) },
        budget: { amount: 1.5, maxAmount: 1.5, currency: 'usdt' },
        preferences: { preferredProviderKeys: Array.from({ length: 50 }, (_, i) => `P${i}`) },
        maxResults: 50,
        providerCredentials: {
          ...providers(19),
          PYTH: { apiKey: 'k'.repeat(4096), ...Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`f${i}`, ''])) },
        },
      };
      const response = await api.search({ machineId: agent.machine.id, ...limits }, agent.token);
      expect(response.status).toBe(201);
      expect(response.body.item).toEqual(expect.objectContaining({ quotes: [], excluded: [] }));
      for (const maxResults of [1, 50])
        expect((await api.search({ machineId: agent.machine.id, maxResults }, agent.token)).status).toBe(201);
    });

    it('has no length rule for skillKey (§6.4.1): a 201-character key names no skill, 404 NOT_FOUND', async () => {
      const skillKey = 's'.repeat(201);
      const response = await refused(agent, { skillKey });
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ entityType: 'skill', id: skillKey });
    });

    it('accepts any capability string of 1–100 characters (§6.4.1 forbids no characters)', async () => {
      const response = await api.search(
        { machineId: agent.machine.id, requirements: { capabilities: ['tab\tseparated', 'bell\u0007'] } },
        agent.token,
      );
      expect(response.status).toBe(201);
      expect(response.body.item.quotes).toEqual([]);
    });

    it('validates before looking anything up', async () => {
      expectValidationError(await refused(agent, { machineId: UNKNOWN_MACHINE_ID, maxResults: 0 }), {
        location: 'body',
        path: '/maxResults',
      });
      expectBodyIssue(await refused(agent, { skillKey: UNKNOWN_SKILL, agentPairingId: UNKNOWN_PAIRING_ID, maxResults: 51 }), '/maxResults');
    });
  });

  describe('existence (§0.14 step 7), then token binding (step 8), then the active gate (step 9)', () => {
    let agent: Agent;
    let other: Agent;
    beforeAll(async () => {
      agent = await paired();
      other = await paired();
    });
    const expectNotFound = (response: TestResponse, entityType: string, id: string) => {
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ entityType, id });
    };

    it('404 NOT_FOUND for an unknown machineId, agentPairingId or skillKey, in that order', async () => {
      expectNotFound(await refused(agent, { machineId: UNKNOWN_MACHINE_ID }), 'machine', UNKNOWN_MACHINE_ID);
      expectNotFound(
        await refused(agent, { machineId: UNKNOWN_MACHINE_ID, agentPairingId: UNKNOWN_PAIRING_ID, skillKey: UNKNOWN_SKILL }),
        'machine',
        UNKNOWN_MACHINE_ID,
      );
      expectNotFound(await refused(agent, { agentPairingId: UNKNOWN_PAIRING_ID }), 'agent-pairing', UNKNOWN_PAIRING_ID);
      expectNotFound(
        await refused(agent, { agentPairingId: UNKNOWN_PAIRING_ID, skillKey: UNKNOWN_SKILL }),
        'agent-pairing',
        UNKNOWN_PAIRING_ID,
      );
      expectNotFound(await refused(agent, { skillKey: UNKNOWN_SKILL }), 'skill', UNKNOWN_SKILL);
      // Existence comes before the binding: another machine's unknown skill is still a 404.
      expectNotFound(await refused(agent, { machineId: other.machine.id, skillKey: UNKNOWN_SKILL }), 'skill', UNKNOWN_SKILL);
    });

    it('401 AGENT_AUTH_INVALID machine_mismatch and pairing_mismatch when the body names another machine or pairing', async () => {
      expectAuthInvalid(await refused(agent, { machineId: other.machine.id }), 'machine_mismatch');
      expectAuthInvalid(await refused(agent, { agentPairingId: other.pairing.id }), 'pairing_mismatch');
      const second = await pairings.pair(agent.machine, newAgent('openai', 'ops'));
      expectAuthInvalid(await refused(agent, { agentPairingId: second.pairing.id }), 'pairing_mismatch');
      expectAuthInvalid(await refused(second, { agentPairingId: agent.pairing.id }), 'pairing_mismatch');
      // Naming its own pairing is fine; the acting pairing is the token's.
      const own = await api.as(agent, { agentPairingId: agent.pairing.id, maxResults: 1 });
      expect(own.agentPairingId).toBe(agent.pairing.id);
      expect((await api.as(second, { maxResults: 1 })).agentPairingId).toBe(second.pairing.id);
    });

    it('409 MACHINE_NOT_ACTIVE for a degraded or blocked machine: its pairing tokens still pass, the active gate refuses', async () => {
      for (const status of ['degraded', 'blocked']) {
        const fresh = await paired();
        const patched = await machines.patch(fresh.machine, fresh.device, { status });
        expect(patched.status).toBe(200);
        const response = await refused(fresh, {});
        expectError(response, 409, 'MACHINE_NOT_ACTIVE');
        expect(response.body.error.details).toEqual({ machineId: fresh.machine.id, status });
        // The binding is checked before the gate.
        expectAuthInvalid(await refused(agent, { machineId: fresh.machine.id }), 'machine_mismatch');
        // Back to active (activation checks pass): searching works again with the same token.
        expect((await machines.patch(fresh.machine, fresh.device, { status: 'active' })).status).toBe(200);
        expect((await api.search({ machineId: fresh.machine.id }, fresh.token)).status).toBe(201);
      }
    });

    it('409 MACHINE_NOT_ACTIVATED when MCR no longer reports the identity as bonded (not_bonded) or known (mcr_not_found)', async () => {
      const fresh = await paired();
      mcr.updateMachine(fresh.device.did, { bondStatus: 'unbonded' });
      const unbonded = await refused(fresh, {});
      expectError(unbonded, 409, 'MACHINE_NOT_ACTIVATED');
      expect(unbonded.body.error.details).toEqual(expect.objectContaining({ reason: 'not_bonded' }));
      mcr.updateMachine(fresh.device.did, { bondStatus: 'bonded' });
      expect((await api.search({ machineId: fresh.machine.id }, fresh.token)).status).toBe(201);

      mcr.behave(fresh.device.did, behaviour.unknown());
      const unknown = await refused(fresh, {});
      expectError(unknown, 409, 'MACHINE_NOT_ACTIVATED');
      expect(unknown.body.error.details).toEqual(expect.objectContaining({ reason: 'mcr_not_found' }));
      mcr.behave(fresh.device.did, null);
    });

    it('409 MACHINE_NOT_ACTIVATED controller_changed when the proof signer is no longer a controller', async () => {
      const device = machines.identity({ withOperator: true });
      const machine = await machines.register(device, {}, { signer: device.operator });
      const fresh = await pairings.pair(machine, newAgent());
      mcr.updateMachine(device.did, { operator: newControllerAccount().address });
      const response = await refused(fresh, {});
      expectError(response, 409, 'MACHINE_NOT_ACTIVATED');
      expect(response.body.error.details).toEqual(expect.objectContaining({ reason: 'controller_changed' }));
    });

    it('503 PEAQOS_IDENTITY_UNAVAILABLE with Retry-After when MCR answers 5xx; the status gate needs no MCR', async () => {
      const fresh = await paired();
      mcr.behave(fresh.device.did, behaviour.status(502));
      const response = await refused(fresh, {});
      expectError(response, 503, 'PEAQOS_IDENTITY_UNAVAILABLE');
      expect(response.body.error.details).toEqual(expect.objectContaining({ reason: 'upstream_status', upstreamStatus: 502 }));
      expect(response.headers['retry-after']).toBe('5');
      mcr.behave(fresh.device.did, null);
      const patched = await machines.patch(fresh.machine, fresh.device, { status: 'degraded' });
      expect(patched.status).toBe(200);
      mcr.behave(fresh.device.did, behaviour.status(502));
      expectError(await refused(fresh, {}), 409, 'MACHINE_NOT_ACTIVE');
      mcr.behave(fresh.device.did, null);
    });
  });
});

describe('with the pairing token optional (PEAQOS_REQUIRE_AGENT_PAIRING_AUTH=false, §1.3)', () => {
  let t: TestApp;
  let machines: MachineApi;
  let pairings: PairingApi;
  let api: SearchApi;
  useSearchApp({ env: { PEAQOS_REQUIRE_AGENT_PAIRING_AUTH: 'false' } }, (app) => {
    ({ t, machines, pairings, search: api } = app);
  });
  const noToken = (body: Record<string, unknown>) => refusedWithoutEvents(t, () => api.search(body));

  async function machineWith(
    statuses: Array<'active' | 'paused' | 'revoked'>,
  ): Promise<{ machine: MachineItem; device: Identity; paired: Paired[] }> {
    const { machine, device } = await pairings.activeMachine();
    const paired: Paired[] = [];
    for (const status of statuses) {
      const one = await pairings.pair(machine, newAgent());
      if (status === 'paused') expect((await pairings.update(machine.id, one.pairing.id, { status: 'paused' })).status).toBe(200);
      if (status === 'revoked') expect((await pairings.revoke(machine.id, one.pairing.id)).status).toBe(200);
      paired.push(one);
    }
    return { machine, device, paired };
  }

  it('reaches 404 machine without a token', async () => {
    const response = await noToken({ machineId: UNKNOWN_MACHINE_ID });
    expectError(response, 404, 'NOT_FOUND');
    expect(response.body.error.details).toEqual({ entityType: 'machine', id: UNKNOWN_MACHINE_ID });
  });

  it('acts for the single active pairing (anonymous actor); a token sent is still verified', async () => {
    const { machine, paired } = await machineWith(['revoked', 'active', 'paused']);
    const response = await api.search({ machineId: machine.id, maxResults: 1 });
    expect(response.status).toBe(201);
    expect(response.body.item.agentPairingId).toBe(paired[1].pairing.id);
    const [event] = (await t.storedEvents()).filter((e) => e.streamId === `market-search-${response.body.item.searchId}`);
    expect(event.metadata.actor).toEqual({ type: 'anonymous', id: null });

    expectAuthInvalid(await refusedWithoutEvents(t, () => api.search({ machineId: machine.id }, 'not-a-jwt')), 'malformed');
    const withToken = await api.search({ machineId: machine.id }, paired[1].token);
    expect(withToken.status).toBe(201);
    const [tokenEvent] = (await t.storedEvents()).filter((e) => e.streamId === `market-search-${withToken.body.item.searchId}`);
    expect(tokenEvent.metadata.actor).toEqual({ type: 'agent-pairing', id: paired[1].pairing.id });
  });

  it('403 AGENT_PAIRING_REQUIRED when the machine has no active pairing', async () => {
    for (const statuses of [[], ['paused', 'revoked']] as Array<Array<'paused' | 'revoked'>>) {
      const { machine } = await machineWith(statuses);
      const response = await noToken({ machineId: machine.id });
      expectError(response, 403, 'AGENT_PAIRING_REQUIRED');
      expect(response.body.error.details).toEqual({ machineId: machine.id });
    }
  });

  it('400 VALIDATION_ERROR agent_pairing_ambiguous with two active pairings; naming one resolves it', async () => {
    const { machine, paired } = await machineWith(['active', 'active']);
    const response = await noToken({ machineId: machine.id });
    expectError(response, 400, 'VALIDATION_ERROR');
    expect(response.body.error.details.reason).toBe('agent_pairing_ambiguous');
    expectValidationError(response);
    for (const one of paired) {
      const named = await api.search({ machineId: machine.id, agentPairingId: one.pairing.id });
      expect(named.status).toBe(201);
      expect(named.body.item.agentPairingId).toBe(one.pairing.id);
    }
  });

  it('a named agentPairingId must belong to the machine (404) and be active (403 AGENT_PAIRING_INACTIVE)', async () => {
    const { machine, paired } = await machineWith(['active', 'paused', 'revoked']);
    const elsewhere = await machineWith(['active']);
    expectInactive(await noToken({ machineId: machine.id, agentPairingId: paired[1].pairing.id }), paired[1].pairing.id, 'paused');
    expectInactive(await noToken({ machineId: machine.id, agentPairingId: paired[2].pairing.id }), paired[2].pairing.id, 'revoked');
    const foreign = await noToken({ machineId: machine.id, agentPairingId: elsewhere.paired[0].pairing.id });
    expectError(foreign, 404, 'NOT_FOUND');
    expect(foreign.body.error.details).toEqual({ entityType: 'agent-pairing', id: elsewhere.paired[0].pairing.id });
    const unknown = await noToken({ machineId: machine.id, agentPairingId: UNKNOWN_PAIRING_ID });
    expect(unknown.body.error.details).toEqual({ entityType: 'agent-pairing', id: UNKNOWN_PAIRING_ID });
  });

  it('resolves the acting pairing before the active gate', async () => {
    const lone = await machineWith([]);
    expect((await machines.patch(lone.machine, lone.device, { status: 'degraded' })).status).toBe(200);
    expectError(await noToken({ machineId: lone.machine.id }), 403, 'AGENT_PAIRING_REQUIRED');

    const pairedMachine = await machineWith(['active']);
    expect((await machines.patch(pairedMachine.machine, pairedMachine.device, { status: 'blocked' })).status).toBe(200);
    const response = await noToken({ machineId: pairedMachine.machine.id });
    expectError(response, 409, 'MACHINE_NOT_ACTIVE');
    expect(response.body.error.details).toEqual({ machineId: pairedMachine.machine.id, status: 'blocked' });
  });
});
