import { SignJWT } from 'jose';
import { OPEN_MARKET_ORDERS } from '../../src/application/ports/open-market-orders.port';
import { ControllableClock } from '../support/controllable-clock';
import { expectError, expectValidationError } from '../support/http-expectations';
import { MachineApi, requiredModeOverrides, useMachineApp, withoutEvents } from '../support/machine-api';
import {
  Claims,
  decodeJwt,
  expectAccepted,
  expectAuthInvalid,
  expectInactive,
  handMadeJwt,
  newAgent,
  OpenOrdersDouble,
  Paired,
  PairingApi,
  PairingItem,
  pairingOutageStore,
  UNKNOWN_PAIRING_ID,
  withoutToken,
} from '../support/pairing-api';
import { TestApp, TestResponse } from '../support/test-app';

const T0 = '2026-05-01T06:00:00.000Z';
/** exp - iat = floor(60500 / 1000) = 60 seconds, the shortest session TTL allowed (§2.2). */
const SESSION_TTL_MS = 60_500;
const SESSION_TTL_S = 60;
const ORDER_IDS = ['ord_01JD8Y6K3W5T2Q9R7M4N0P1B2C', 'ord_01JD8Y6K3W5T2Q9R7M4N0P1B2D'];
const HS256 = { alg: 'HS256', typ: 'JWT' };

/** A token over `claims` signed with HS256 under another secret. */
async function signedElsewhere(claims: Claims, secret = 'another-secret-that-is-long-enough-0123456789'): Promise<string> {
  return new SignJWT({ ...claims }).setProtectedHeader(HS256).sign(new TextEncoder().encode(secret));
}

/** A token with the given claims signed with the test app's own secret (a forgery only a secret holder can make). */
function forged(claims: Record<string, unknown>): string {
  return handMadeJwt(HS256, claims);
}

const without = (claims: Claims, name: keyof Claims) => {
  const copy: Record<string, unknown> = { ...claims };
  delete copy[name];
  return copy;
};

describe('agent pairing tokens and the pairing lifecycle (§1.2, §5.5, §5.8.5–§5.8.7, §4.7)', () => {
  const clock = new ControllableClock(T0);
  const openOrders = new OpenOrdersDouble();
  const outage = { down: false };
  let t: TestApp;
  let machines: MachineApi;
  let api: PairingApi;
  const base = requiredModeOverrides(clock);
  useMachineApp(
    {
      ...base,
      env: { ...base.env, PEAQOS_AGENT_PAIRING_SESSION_TTL_MS: String(SESSION_TTL_MS) },
      providers: [{ provide: OPEN_MARKET_ORDERS, useValue: openOrders }],
      wrapEventStore: (store) => pairingOutageStore(store, outage),
    },
    (app) => {
      ({ t } = app);
      machines = app.api;
      api = new PairingApi(app.t, app.api);
    },
  );

  const pairOnNewMachine = async (overrides: Record<string, unknown> = {}): Promise<Paired> =>
    api.pair((await api.activeMachine()).machine, newAgent(), overrides);

  describe('§1.2 verification on an agent endpoint (the probe), step by step', () => {
    let paired: Paired;
    let claims: Claims;
    beforeAll(async () => {
      paired = await pairOnNewMachine();
      claims = decodeJwt(paired.token).claims;
    });
    const act = (token: string | undefined, body?: Record<string, unknown>) => api.probe(token, body ?? { machineId: paired.machine.id });

    it('accepts the token and acts as its pairing', async () => {
      expectAccepted(await act(paired.token), paired);
      expectAccepted(await act(paired.token, { machineId: paired.machine.id, agentPairingId: null }), paired);
    });

    it('step 1: header absent or empty → 401 AGENT_AUTH_REQUIRED, before body validation', async () => {
      for (const response of [await act(undefined), await act(''), await act(undefined, {}), await act(undefined, { machineId: 42 })]) {
        expectError(response, 401, 'AGENT_AUTH_REQUIRED');
        expect(response.body.error.details).toBeUndefined();
      }
    });

    it('body validation runs after steps 1–8: a valid token with a bad body is 400, a bad token with a bad body is 401', async () => {
      expectValidationError(await act(paired.token, {}));
      expectValidationError(await act(paired.token, { machineId: 42 }), { location: 'body', path: '/machineId' });
      expectAuthInvalid(await act('not-a-token', {}), 'malformed');
    });

    it('step 2: not three base64url segments → malformed', async () => {
      const [h, p, s] = paired.token.split('.');
      for (const token of ['not-a-token', `${h}.${p}`, `${h}.${p}.${s}.${s}`, `${h}.${p}.${s}+/`, `Bearer ${paired.token}`, 'a.b.c']) {
        expectAuthInvalid(await act(token), 'malformed');
      }
    });

    it('step 2: a header other than exactly {"alg":"HS256","typ":"JWT"} → malformed, even when signed with the right secret', async () => {
      const signature = decodeJwt(paired.token).signature;
      for (const token of [
        handMadeJwt({ alg: 'none', typ: 'JWT' }, claims, { signature: '' }),
        handMadeJwt({ alg: 'none', typ: 'JWT' }, claims, { signature }),
        handMadeJwt({ alg: 'none' }, claims),
        handMadeJwt({ alg: 'HS512', typ: 'JWT' }, claims),
        handMadeJwt({ alg: 'HS256' }, claims),
        handMadeJwt({ alg: 'HS256', typ: 'jwt' }, claims),
        handMadeJwt({ alg: 'HS256', typ: 'JWT', kid: 'k1' }, claims),
        handMadeJwt('not json', claims),
      ]) {
        expectAuthInvalid(await act(token), 'malformed');
      }
    });

    it('step 2: a claim missing or of the wrong type → malformed, even when signed with the right secret', async () => {
      for (const token of [
        forged(without(claims, 'jti')),
        forged(without(claims, 'delegationPolicyHash')),
        forged(without(claims, 'exp')),
        forged({ ...claims, iat: String(claims.iat) }),
        forged({ ...claims, exp: claims.exp + 0.5 }),
        forged({ ...claims, pairingId: 7 }),
        forged({ ...claims, machineId: null }),
        handMadeJwt(HS256, 'not json'),
        handMadeJwt(HS256, [claims]),
      ]) {
        expectAuthInvalid(await act(token), 'malformed');
      }
    });

    it('ignores unknown claims (a forged extra claim with the right secret verifies)', async () => {
      expectAccepted(await act(forged({ ...claims, role: 'admin', scope: ['*'] })), paired);
    });

    it('step 3: HMAC mismatch → bad_signature (another secret, a tampered payload, another token’s signature)', async () => {
      const [h, , s] = paired.token.split('.');
      const other = await pairOnNewMachine();
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 3600 })).toString('base64url')}.${s}`;
      for (const token of [
        await signedElsewhere(claims),
        tampered,
        `${paired.token.split('.').slice(0, 2).join('.')}.${other.token.split('.')[2]}`,
      ]) {
        expectAuthInvalid(await act(token), 'bad_signature');
      }
    });

    it('step 5: a pairing that does not exist, or not for the claimed machine → unknown_pairing', async () => {
      const other = await pairOnNewMachine();
      expectAuthInvalid(await act(forged({ ...claims, pairingId: UNKNOWN_PAIRING_ID })), 'unknown_pairing');
      // The claim names another (existing) machine than the pairing's; the body acts on that machine.
      const crossed = forged({ ...claims, machineId: other.machine.id });
      expectAuthInvalid(await api.probe(crossed, { machineId: other.machine.id }), 'unknown_pairing');
    });

    it('step 7: another sessionId or jti than the current session → session_rotated', async () => {
      expectAuthInvalid(await act(forged({ ...claims, jti: '0f8fad5b-d9cb-469f-a165-70867728950e' })), 'session_rotated');
      expectAuthInvalid(await act(forged({ ...claims, sessionId: 'sess_01JD8Y6K3W5T2Q9R7M4N0P1B2C' })), 'session_rotated');
    });

    it('step 8: another delegationPolicyHash than the current policy’s → policy_changed', async () => {
      expectAuthInvalid(await act(forged({ ...claims, delegationPolicyHash: 'f'.repeat(64) })), 'policy_changed');
    });

    it('step 9: the body’s machine must be the token’s (machine_mismatch), a named pairing the token’s (pairing_mismatch)', async () => {
      const otherMachine = await pairOnNewMachine();
      const sibling = await api.pair(paired.machine, newAgent());
      expectAuthInvalid(await act(paired.token, { machineId: otherMachine.machine.id }), 'machine_mismatch');
      expectAuthInvalid(
        await act(paired.token, { machineId: otherMachine.machine.id, agentPairingId: otherMachine.pairing.id }),
        'machine_mismatch',
      );
      expectAuthInvalid(await act(paired.token, { machineId: paired.machine.id, agentPairingId: sibling.pairing.id }), 'pairing_mismatch');
      expectAccepted(await act(sibling.token, { machineId: paired.machine.id, agentPairingId: sibling.pairing.id }), sibling);
    });
  });

  describe('step 4: expiry on the test clock (no leeway, whole seconds)', () => {
    it('works until exp - 1 s, then 401 AGENT_AUTH_EXPIRED with expiredAt; the pairing still has its (expired) session; rotation revives', async () => {
      const paired = await pairOnNewMachine();
      const { claims } = decodeJwt(paired.token);
      expect(claims.exp - claims.iat).toBe(SESSION_TTL_S);
      expect(paired.pairing.sessionExpiresAt).toBe(new Date(claims.exp * 1000).toISOString());

      clock.advance(SESSION_TTL_S * 1000 - 1);
      expectAccepted(await api.use(paired), paired);
      clock.advance(1);
      const expired = await api.use(paired);
      expectError(expired, 401, 'AGENT_AUTH_EXPIRED');
      expect(expired.body.error.details).toEqual({ expiredAt: paired.pairing.sessionExpiresAt });

      expect((await api.read(paired.machine.id, paired.pairing.id)).body.item).toEqual(
        expect.objectContaining({ hasAuthToken: true, sessionId: paired.pairing.sessionId, tokenLastFour: paired.token.slice(-4) }),
      );
      const rotated = await api.rotateWithProof(paired);
      expect(rotated.status).toBe(201);
      expectAccepted(await api.probe(rotated.body.item.pairingToken, { machineId: paired.machine.id }), paired);
    });

    it('expiry (step 4) is judged before the pairing (steps 5–8), and after the signature (step 3)', async () => {
      const revoked = await pairOnNewMachine();
      const rotated = await pairOnNewMachine();
      expect((await api.revoke(revoked.machine.id, revoked.pairing.id)).status).toBe(200);
      expect((await api.rotateWithProof(rotated)).status).toBe(201);
      expectAuthInvalid(await api.use(revoked), 'pairing_revoked');
      expectAuthInvalid(await api.use(rotated), 'session_rotated');

      clock.advance(SESSION_TTL_S * 1000);
      for (const paired of [revoked, rotated]) {
        const response = await api.use(paired);
        expectError(response, 401, 'AGENT_AUTH_EXPIRED');
        expect(response.body.error.details).toEqual({ expiredAt: paired.pairing.sessionExpiresAt });
      }
      expectAuthInvalid(await api.use(revoked, await signedElsewhere(decodeJwt(revoked.token).claims)), 'bad_signature');
    });
  });

  describe('rotation and PATCH of inactive pairings', () => {
    it('rotation of a paused pairing → 403 AGENT_PAIRING_INACTIVE paused (before the proof is required); the challenge survives', async () => {
      const paired = await pairOnNewMachine();
      const { machine, pairing } = paired;
      expect((await api.update(machine.id, pairing.id, { status: 'paused' })).status).toBe(200);
      const agentProof = await api.proof(machine.id, paired.agent);
      expectInactive(await withoutEvents(t, () => api.rotate(machine.id, pairing.id, { agentProof })), pairing.id, 'paused');
      expectInactive(await withoutEvents(t, () => api.rotate(machine.id, pairing.id, {})), pairing.id, 'paused');

      expect((await api.update(machine.id, pairing.id, { status: 'active' })).status).toBe(200);
      const rotated = await api.rotate(machine.id, pairing.id, { agentProof });
      expect(rotated.status).toBe(201);
      expectAuthInvalid(await api.use(paired), 'session_rotated');
    });

    it('rotation of a revoked pairing → 403 AGENT_PAIRING_INACTIVE revoked', async () => {
      const paired = await pairOnNewMachine();
      expect((await api.revoke(paired.machine.id, paired.pairing.id)).status).toBe(200);
      const agentProof = await api.proof(paired.machine.id, paired.agent);
      const response = await withoutEvents(t, () => api.rotate(paired.machine.id, paired.pairing.id, { agentProof }));
      expectInactive(response, paired.pairing.id, 'revoked');
      expectAuthInvalid(await api.use(paired), 'pairing_revoked');
    });

    it.each([
      ['status active', { status: 'active' }],
      ['status paused', { status: 'paused' }],
      ['a delegation policy', { delegationPolicy: { currency: 'USDT' } }],
      ['a description', { description: 'again' }],
      ['an agentRole', { agentRole: 'ops' }],
    ])('PATCH of a revoked pairing with %s → 409 STATE_CONFLICT, reason pairing_revoked', async (_, body) => {
      const paired = await pairOnNewMachine();
      const revoked = await api.revoke(paired.machine.id, paired.pairing.id);
      const response = await withoutEvents(t, () => api.update(paired.machine.id, paired.pairing.id, body));
      expectError(response, 409, 'STATE_CONFLICT');
      expect(response.body.error.details).toEqual(
        expect.objectContaining({ entityType: 'agent-pairing', id: paired.pairing.id, status: 'revoked', reason: 'pairing_revoked' }),
      );
      expect((await api.read(paired.machine.id, paired.pairing.id)).body).toEqual(revoked.body);
    });
  });

  describe('revoke and open market orders (§5.8.7)', () => {
    afterEach(() => openOrders.byPairing.clear());

    it('without force, open orders block: 409 OPEN_MARKET_ORDERS { orderIds, count }; nothing changes', async () => {
      const paired = await pairOnNewMachine();
      openOrders.byPairing.set(paired.pairing.id, { orderIds: ORDER_IDS, executingOrderIds: [] });
      for (const query of ['', 'force=false']) {
        const response = await withoutEvents(t, () => api.revoke(paired.machine.id, paired.pairing.id, query));
        expectError(response, 409, 'OPEN_MARKET_ORDERS');
        expect(response.body.error.details).toEqual({ orderIds: ORDER_IDS, count: 2 });
      }
      expect(openOrders.pairingQueries).toContain(paired.pairing.id);
      expect((await api.read(paired.machine.id, paired.pairing.id)).body.item).toEqual(withoutToken(paired.pairing));
      expectAccepted(await api.use(paired), paired);
    });

    it('force=true with an executing order: 409 OPEN_MARKET_ORDERS, reason orders_executing, with that order', async () => {
      const paired = await pairOnNewMachine();
      openOrders.byPairing.set(paired.pairing.id, { orderIds: ORDER_IDS, executingOrderIds: [ORDER_IDS[1]] });
      const response = await withoutEvents(t, () => api.revoke(paired.machine.id, paired.pairing.id, 'force=true'));
      expectError(response, 409, 'OPEN_MARKET_ORDERS');
      expect(response.body.error.details).toEqual(expect.objectContaining({ reason: 'orders_executing', orderIds: [ORDER_IDS[1]] }));
      expectAccepted(await api.use(paired), paired);
    });

    it('force=true without executing orders: 200 revoked', async () => {
      const paired = await pairOnNewMachine();
      openOrders.byPairing.set(paired.pairing.id, { orderIds: ORDER_IDS, executingOrderIds: [] });
      const response = await api.revoke(paired.machine.id, paired.pairing.id, 'force=true');
      expect(response.status).toBe(200);
      expect(response.body.item).toEqual(expect.objectContaining({ status: 'revoked', hasAuthToken: false, sessionId: null }));
      expectAuthInvalid(await api.use(paired), 'pairing_revoked');
      const revokedEvents = (await api.pairingEvents(paired.pairing.id)).filter((e) => e.type === 'agent_pairing.revoked');
      expect(revokedEvents).toHaveLength(1);
    });

    it('an already revoked pairing answers 200 unchanged even with open orders; a paused pairing can be revoked', async () => {
      const paired = await pairOnNewMachine();
      const first = await api.revoke(paired.machine.id, paired.pairing.id);
      expect(first.status).toBe(200);
      openOrders.byPairing.set(paired.pairing.id, { orderIds: ORDER_IDS, executingOrderIds: [ORDER_IDS[0]] });
      const again = await withoutEvents(t, () => api.revoke(paired.machine.id, paired.pairing.id, 'force=true'));
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);

      const paused = await pairOnNewMachine();
      expect((await api.update(paused.machine.id, paused.pairing.id, { status: 'paused' })).status).toBe(200);
      const revoked = await api.revoke(paused.machine.id, paused.pairing.id);
      expect(revoked.body.item.status).toBe('revoked');
      expectAuthInvalid(await api.use(paused), 'pairing_revoked');
    });
  });

  describe('concurrency (§0.15)', () => {
    it('two concurrent rotations: afterwards exactly one of the new tokens works, the other is session_rotated', async () => {
      for (let round = 0; round < 3; round += 1) {
        const paired = await pairOnNewMachine();
        const proofs = [await api.proof(paired.machine.id, paired.agent), await api.proof(paired.machine.id, paired.agent)];
        const responses = await Promise.all(proofs.map((agentProof) => api.rotate(paired.machine.id, paired.pairing.id, { agentProof })));
        for (const response of responses) {
          if (response.status !== 201) expectError(response, 409, 'CONCURRENCY_CONFLICT');
        }
        const tokens: string[] = responses.filter((r) => r.status === 201).map((r) => r.body.item.pairingToken);
        expect(tokens.length).toBeGreaterThanOrEqual(1);

        const outcomes = await Promise.all(tokens.map((token) => api.use(paired, token)));
        const working = outcomes.filter((r) => r.status === 200);
        expect(working).toHaveLength(1);
        for (const refused of outcomes.filter((r) => r.status !== 200)) expectAuthInvalid(refused, 'session_rotated');
        const current = tokens[outcomes.findIndex((r) => r.status === 200)];
        expect((await api.read(paired.machine.id, paired.pairing.id)).body.item.sessionId).toBe(decodeJwt(current).claims.sessionId);
        expectAuthInvalid(await api.use(paired), 'session_rotated');
      }
    });

    it('concurrent revoke and rotation: afterwards the pairing is revoked and no token works', async () => {
      for (let round = 0; round < 3; round += 1) {
        const paired = await pairOnNewMachine();
        const agentProof = await api.proof(paired.machine.id, paired.agent);
        const [revoked, rotated] = await Promise.all([
          api.revoke(paired.machine.id, paired.pairing.id),
          api.rotate(paired.machine.id, paired.pairing.id, { agentProof }),
        ]);
        expect(revoked.status).toBe(200);
        const tokens = [paired.token];
        if (rotated.status === 201) tokens.push(rotated.body.item.pairingToken);
        else expectInactive(rotated, paired.pairing.id, 'revoked');

        const after: PairingItem = (await api.read(paired.machine.id, paired.pairing.id)).body.item;
        expect(after).toEqual(expect.objectContaining({ status: 'revoked', hasAuthToken: false, sessionId: null, sessionTokenId: null }));
        for (const token of tokens) expectAuthInvalid(await api.use(paired, token), 'pairing_revoked');
      }
    });
  });

  describe('archiving the machine revokes its active and paused pairings (§4.7)', () => {
    it('revokes them as system follow-ups caused by the machine.status_changed event; revoked ones are left alone', async () => {
      const { machine, device } = await api.activeMachine();
      const active = await api.pair(machine, newAgent());
      const paused = await api.pair(machine, newAgent());
      const revoked = await api.pair(machine, newAgent());
      expect((await api.update(machine.id, paused.pairing.id, { status: 'paused' })).status).toBe(200);
      const revokedBefore = (await api.revoke(machine.id, revoked.pairing.id)).body.item;
      const revokedEventsBefore = await api.pairingEvents(revoked.pairing.id);
      clock.advance(1000);

      const archived = await machines.patch(machine, device, { status: 'archived' });
      expect(archived.status).toBe(200);
      expect(archived.body.item.status).toBe('archived');

      const statusChanged = (await machines.machineEvents(machine.id)).filter(
        (e) => e.type === 'machine.status_changed' && e.data.to === 'archived',
      );
      expect(statusChanged).toHaveLength(1);
      for (const paired of [active, paused]) {
        const item: PairingItem = (await api.read(machine.id, paired.pairing.id)).body.item;
        expect(item).toEqual({
          ...withoutToken(paired.pairing),
          status: 'revoked',
          hasAuthToken: false,
          tokenLastFour: null,
          sessionId: null,
          sessionTokenId: null,
          sessionIssuedAt: null,
          sessionExpiresAt: null,
          updatedAt: clock.now().toISOString(),
        });
        expectAuthInvalid(await api.use(paired), 'pairing_revoked');
        const events = (await api.pairingEvents(paired.pairing.id)).filter((e) => e.type === 'agent_pairing.revoked');
        expect(events).toHaveLength(1);
        expect(events[0].metadata.actor).toEqual({ type: 'system', id: null });
        expect(events[0].metadata.causationId).toBe(statusChanged[0].id);
      }
      expect((await api.read(machine.id, revoked.pairing.id)).body.item).toEqual(revokedBefore);
      expect(await api.pairingEvents(revoked.pairing.id)).toHaveLength(revokedEventsBefore.length);

      // The history stays readable (existence gate); nothing can be paired or changed any more.
      const listed = await api.list(machine.id);
      expect(listed.body.items.map((p: PairingItem) => p.status)).toEqual(['revoked', 'revoked', 'revoked']);
      const challenge = await api.requestChallenge(machine.id, api.body(newAgent()));
      expectError(challenge, 409, 'MACHINE_NOT_ACTIVE');
      expect(challenge.body.error.details).toEqual({ machineId: machine.id, status: 'archived' });
      expectError(await api.update(machine.id, paused.pairing.id, { status: 'active' }), 409, 'STATE_CONFLICT');
      expect((await api.revoke(machine.id, active.pairing.id)).status).toBe(200);
    });

    it('an archive refused for open machine orders revokes nothing', async () => {
      const { machine, device } = await api.activeMachine();
      const paired = await api.pair(machine, newAgent());
      openOrders.byMachine.set(machine.id, ORDER_IDS);
      try {
        expectError(await machines.patch(machine, device, { status: 'archived' }), 409, 'OPEN_MARKET_ORDERS');
      } finally {
        openOrders.byMachine.delete(machine.id);
      }
      expect((await api.read(machine.id, paired.pairing.id)).body.item).toEqual(withoutToken(paired.pairing));
      expectAccepted(await api.use(paired), paired);
    });
  });

  describe('503 AGENT_PAIRING_UNAVAILABLE while pairing state cannot be read or written (§0.9, §10.1 item 20)', () => {
    afterEach(() => {
      outage.down = false;
    });

    const expectUnavailable = (response: TestResponse) => {
      expectError(response, 503, 'AGENT_PAIRING_UNAVAILABLE');
      expect(response.headers['retry-after']).toBe('5');
    };

    it('challenge, create, rotate and token verification answer 503; token checks that need no state still answer 401', async () => {
      const paired = await pairOnNewMachine();
      const agent = newAgent();
      const createProof = await api.proof(paired.machine.id, agent);
      const rotateProof = await api.proof(paired.machine.id, paired.agent);

      outage.down = true;
      expectUnavailable(await api.requestChallenge(paired.machine.id, api.body(agent)));
      expectUnavailable(await api.create(paired.machine.id, api.body(agent, { agentProof: createProof })));
      expectUnavailable(await api.rotate(paired.machine.id, paired.pairing.id, { agentProof: rotateProof }));
      expectUnavailable(await api.use(paired));
      expectError(await api.probe(undefined, { machineId: paired.machine.id }), 401, 'AGENT_AUTH_REQUIRED');
      expectAuthInvalid(await api.use(paired, 'not-a-token'), 'malformed');
      expectAuthInvalid(await api.use(paired, await signedElsewhere(decodeJwt(paired.token).claims)), 'bad_signature');

      outage.down = false;
      expectAccepted(await api.use(paired), paired);
      const created = await api.create(paired.machine.id, api.body(agent, { agentProof: createProof }));
      expect(created.status).toBe(201);
      const rotated = await api.rotate(paired.machine.id, paired.pairing.id, { agentProof: rotateProof });
      expect(rotated.status).toBe(201);
      expectAccepted(await api.probe(rotated.body.item.pairingToken, { machineId: paired.machine.id }), paired);
    });
  });
});

describe('PEAQOS_REQUIRE_AGENT_PAIRING_AUTH=false: the token is optional on agent endpoints, but verified when sent (§1.2)', () => {
  let api: PairingApi;
  useMachineApp({ env: { PEAQOS_MCR_CACHE_TTL_MS: '0', PEAQOS_REQUIRE_AGENT_PAIRING_AUTH: 'false' } }, (app) => {
    api = new PairingApi(app.t, app.api);
  });

  it('without a token (absent or empty header) the request acts anonymously, with no pairing from the token', async () => {
    const { machine } = await api.activeMachine();
    for (const token of [undefined, '']) {
      const response = await api.probe(token, { machineId: machine.id });
      expect({ status: response.status, body: response.body }).toEqual({
        status: 200,
        body: { item: { machineId: machine.id, pairingId: null, actor: { type: 'anonymous', id: null } } },
      });
    }
  });

  it('a sent token is verified completely: good → the pairing; bad, revoked or mismatched → 401', async () => {
    const { machine } = await api.activeMachine();
    const paired = await api.pair(machine, newAgent());
    expectAccepted(await api.use(paired), paired);
    expectAuthInvalid(await api.use(paired, 'not-a-token'), 'malformed');
    expectAuthInvalid(await api.use(paired, await signedElsewhere(decodeJwt(paired.token).claims)), 'bad_signature');
    const other = (await api.activeMachine()).machine;
    expectAuthInvalid(await api.probe(paired.token, { machineId: other.id }), 'machine_mismatch');
    expect((await api.revoke(machine.id, paired.pairing.id)).status).toBe(200);
    expectAuthInvalid(await api.use(paired), 'pairing_revoked');
  });
});
