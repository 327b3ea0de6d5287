import { ControllableClock } from '../support/controllable-clock';
import { expectError, expectValidationError, UUID_V4 } from '../support/http-expectations';
import {
  dataFilesText,
  MachineApi,
  MachineItem,
  requiredModeOverrides,
  signatureFingerprint,
  UNKNOWN_MACHINE_ID,
  useMachineApp,
} from '../support/machine-api';
import {
  AgentProof,
  breakChecksum,
  CHALLENGE_ID,
  CLAIM_NAMES,
  decodeJwt,
  DEFAULT_POLICY,
  DEFAULT_POLICY_HASH,
  expectAccepted,
  expectAgentProofInvalid,
  expectAuthInvalid,
  expectedMessage,
  expectedNonce,
  expectInactive,
  expectPairingShape,
  newAgent,
  PAIRING_ID,
  PairingApi,
  PairingChallenge,
  PairingItem,
  policyHash,
  SESSION_ID,
  TOKEN_HEADER,
  UNKNOWN_PAIRING_ID,
  VECTOR_POLICY_HASH,
  VECTOR_POLICY_INPUT,
  withoutToken,
} from '../support/pairing-api';
import { TestApp, TestResponse } from '../support/test-app';

const T0 = '2026-03-01T08:00:00.000Z';
/** exp - iat = floor(120500 / 1000) = 120 seconds (§1.2). */
const SESSION_TTL_MS = 120_500;
const SESSION_TTL_S = 120;
const PAIRING_CHALLENGE_TTL_MS = 30_000;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

describe('agent pairings: the walk, shapes, sessions, PATCH, list, audit and redaction (§5)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let machines: MachineApi;
  let api: PairingApi;
  const base = requiredModeOverrides(clock);
  useMachineApp(
    {
      ...base,
      env: {
        ...base.env,
        PEAQOS_AGENT_PAIRING_SESSION_TTL_MS: String(SESSION_TTL_MS),
        PEAQOS_AGENT_PAIRING_CHALLENGE_TTL_MS: String(PAIRING_CHALLENGE_TTL_MS),
      },
    },
    (app) => {
      ({ t } = app);
      machines = app.api;
      api = new PairingApi(app.t, app.api);
    },
  );

  const now = () => clock.now().toISOString();
  /** Moves the clock on by a whole second plus `ms`, so the next write has a timestamp of its own. */
  const tick = (ms = 0) => {
    clock.advance(1000 + ms);
    return now();
  };
  const isoOfSeconds = (seconds: number) => new Date(seconds * 1000).toISOString();

  describe('the walk: challenge → sign → pair → use → repolicy → rotate → pause → resume → revoke', () => {
    it('walks every step with the token accepted or refused exactly as §1.2 says', async () => {
      const { machine } = await api.activeMachine();
      const agent = newAgent('anthropic', 'ops');

      // Challenge and sign.
      const challenge = await api.challenge(machine.id, agent);
      const signature = await agent.key.signMessage({ message: challenge.message });
      // Not on a whole second: iat = floor(now / 1000) (§5.5).
      const pairedAt = tick(700);
      const created = await api.create(machine.id, api.body(agent, { agentProof: { challengeId: challenge.challengeId, signature } }));

      // Pair: 201 with the token, once.
      expect(created.status).toBe(201);
      expect(created.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(Object.keys(created.body)).toEqual(['item']);
      const pairing: PairingItem = created.body.item;
      expectPairingShape(pairing, true);
      const token = pairing.pairingToken!;
      const { header, claims, signature: jws } = decodeJwt(token);
      const iat = Math.floor(clock.now().getTime() / 1000);
      expect(pairing).toEqual({
        id: expect.stringMatching(PAIRING_ID),
        machineId: machine.id,
        status: 'active',
        agentAddress: agent.key.address,
        agentDid: `did:pkh:eip155:1:${agent.key.address}`,
        agentProvider: 'anthropic',
        agentRole: 'ops',
        description: null,
        verification: { method: 'eip191', signerAddress: agent.key.address, verifiedAt: pairedAt, challengeExpiresAt: challenge.expiresAt },
        delegationPolicy: DEFAULT_POLICY,
        hasAuthToken: true,
        tokenLastFour: token.slice(-4),
        sessionId: expect.stringMatching(SESSION_ID),
        sessionTokenId: claims.jti,
        sessionIssuedAt: isoOfSeconds(iat),
        sessionExpiresAt: isoOfSeconds(iat + SESSION_TTL_S),
        pairingToken: token,
        createdAt: pairedAt,
        updatedAt: pairedAt,
      });
      expect(pairing.sessionIssuedAt).not.toBe(pairedAt);

      // The JWT: exact header, exactly the nine claims, mirrored by the pairing (§1.2, §5.5, §5.6).
      expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(jws).toMatch(BASE64URL);
      expect(Object.keys(claims).sort()).toEqual(CLAIM_NAMES);
      expect(claims).toEqual({
        machineId: machine.id,
        pairingId: pairing.id,
        sessionId: pairing.sessionId,
        agentAddress: agent.key.address,
        agentDid: pairing.agentDid,
        delegationPolicyHash: DEFAULT_POLICY_HASH,
        iat,
        exp: iat + SESSION_TTL_S,
        jti: expect.stringMatching(UUID_V4),
      });

      // Never again: not in GET, not in the list.
      const read = await api.read(machine.id, pairing.id);
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ item: withoutToken(pairing) });
      expectPairingShape(read.body.item, false);
      const listed = await api.list(machine.id);
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual({ items: [withoutToken(pairing)] });
      for (const response of [read, listed]) expect(response.text).not.toContain(token);

      // Use the token.
      expectAccepted(await api.probe(token, { machineId: machine.id }), { machine, pairing });
      expectAccepted(await api.probe(token, { machineId: machine.id, agentPairingId: pairing.id }), { machine, pairing });

      // Repolicy: the old token is refused with policy_changed.
      const repolicyAt = tick();
      const repolicied = await api.update(machine.id, pairing.id, { delegationPolicy: { ...VECTOR_POLICY_INPUT, currency: 'usdt' } });
      expect(repolicied.status).toBe(200);
      const policy = { ...DEFAULT_POLICY, ...VECTOR_POLICY_INPUT };
      expect(repolicied.body).toEqual({ item: { ...withoutToken(pairing), delegationPolicy: policy, updatedAt: repolicyAt } });
      expect(policyHash(policy)).toBe(VECTOR_POLICY_HASH);
      expectAuthInvalid(await api.probe(token, { machineId: machine.id }), 'policy_changed');

      // Rotate with a fresh challenge: the new token works, the old one is session_rotated.
      const rotationChallenge = await api.challenge(machine.id, agent);
      const rotatedAt = tick(250);
      const rotated = await api.rotate(machine.id, pairing.id, {
        agentProof: {
          challengeId: rotationChallenge.challengeId,
          signature: await agent.key.signMessage({ message: rotationChallenge.message }),
        },
      });
      expect(rotated.status).toBe(201);
      const second: PairingItem = rotated.body.item;
      expectPairingShape(second, true);
      const newToken = second.pairingToken!;
      const newClaims = decodeJwt(newToken).claims;
      const newIat = Math.floor(clock.now().getTime() / 1000);
      expect(newClaims).toEqual({
        ...claims,
        sessionId: second.sessionId,
        delegationPolicyHash: VECTOR_POLICY_HASH,
        iat: newIat,
        exp: newIat + SESSION_TTL_S,
        jti: second.sessionTokenId,
      });
      expect(second).toEqual({
        ...repolicied.body.item,
        verification: {
          method: 'eip191',
          signerAddress: agent.key.address,
          verifiedAt: rotatedAt,
          challengeExpiresAt: rotationChallenge.expiresAt,
        },
        tokenLastFour: newToken.slice(-4),
        sessionId: expect.stringMatching(SESSION_ID),
        sessionTokenId: expect.stringMatching(UUID_V4),
        sessionIssuedAt: isoOfSeconds(newIat),
        sessionExpiresAt: isoOfSeconds(newIat + SESSION_TTL_S),
        pairingToken: newToken,
        updatedAt: rotatedAt,
      });
      expect(second.sessionId).not.toBe(pairing.sessionId);
      expect(second.sessionTokenId).not.toBe(pairing.sessionTokenId);
      const current = { machine, pairing: second };
      expectAccepted(await api.probe(newToken, { machineId: machine.id }), current);
      expectAuthInvalid(await api.probe(token, { machineId: machine.id }), 'session_rotated');
      expect((await api.read(machine.id, pairing.id)).body.item).toEqual(withoutToken(second));

      // Pause: every token is AGENT_PAIRING_INACTIVE (step 6 comes before steps 7 and 8); no rotation.
      const pausedAt = tick();
      const paused = await api.update(machine.id, pairing.id, { status: 'paused' });
      expect(paused.status).toBe(200);
      expect(paused.body).toEqual({ item: { ...withoutToken(second), status: 'paused', updatedAt: pausedAt } });
      expectInactive(await api.probe(newToken, { machineId: machine.id }), pairing.id, 'paused');
      expectInactive(await api.probe(token, { machineId: machine.id }), pairing.id, 'paused');
      const refusedRotation = await api.rotate(machine.id, pairing.id, { agentProof: await api.proof(machine.id, agent) });
      expectInactive(refusedRotation, pairing.id, 'paused');

      // Resume: the unexpired token of the current session works again.
      const resumedAt = tick();
      const resumed = await api.update(machine.id, pairing.id, { status: 'active' });
      expect(resumed.status).toBe(200);
      expect(resumed.body).toEqual({ item: { ...withoutToken(second), updatedAt: resumedAt } });
      expectAccepted(await api.probe(newToken, { machineId: machine.id }), current);
      expectAuthInvalid(await api.probe(token, { machineId: machine.id }), 'session_rotated');

      // Revoke: final, the session is cleared, every token is pairing_revoked.
      const revokedAt = tick();
      const revoked = await api.revoke(machine.id, pairing.id);
      expect(revoked.status).toBe(200);
      expectPairingShape(revoked.body.item, false);
      expect(revoked.body).toEqual({
        item: {
          ...withoutToken(second),
          status: 'revoked',
          hasAuthToken: false,
          tokenLastFour: null,
          sessionId: null,
          sessionTokenId: null,
          sessionIssuedAt: null,
          sessionExpiresAt: null,
          updatedAt: revokedAt,
        },
      });
      expectAuthInvalid(await api.probe(newToken, { machineId: machine.id }), 'pairing_revoked');
      expectAuthInvalid(await api.probe(token, { machineId: machine.id }), 'pairing_revoked');

      // Revoke again: 200 with the unchanged pairing, nothing appended.
      const eventsBefore = (await t.storedEvents()).length;
      tick();
      const again = await api.revoke(machine.id, pairing.id);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(revoked.body);
      expect(await t.storedEvents()).toHaveLength(eventsBefore);
      expect((await api.read(machine.id, pairing.id)).body).toEqual(revoked.body);

      // The audit trail (§8.7.2).
      expect((await api.pairingEvents(pairing.id)).map((e) => e.type)).toEqual([
        'agent_pairing.created',
        'agent_pairing.session_issued',
        'agent_pairing.policy_changed',
        'agent_pairing.session_issued',
        'agent_pairing.status_changed',
        'agent_pairing.status_changed',
        'agent_pairing.revoked',
      ]);
      for (const used of [challenge, rotationChallenge]) {
        expect((await api.challengeEvents(used.challengeId)).map((e) => e.type)).toEqual([
          'agent_pairing_challenge.issued',
          'agent_pairing_challenge.consumed',
        ]);
      }
    });
  });

  describe('POST …/agent-pairings/challenges (§5.8.3, §5.4)', () => {
    it('answers 201 with the exact §5.4.2 message, the §5.4.1 nonce and expiresAt = issuedAt + TTL', async () => {
      const { machine } = await api.activeMachine();
      const agent = newAgent('openai', 'trader');
      const issuedAt = tick(123);
      const response = await api.requestChallenge(machine.id, {
        agentAddress: agent.key.address.toLowerCase(),
        agentProvider: 'openai',
        agentRole: 'trader',
      });
      expect(response.status).toBe(201);
      expect(Object.keys(response.body)).toEqual(['item']);
      const challenge: PairingChallenge = response.body.item;
      expect(challenge).toEqual({
        challengeId: expect.stringMatching(CHALLENGE_ID),
        machineId: machine.id,
        agentAddress: agent.key.address,
        agentDid: `did:pkh:eip155:1:${agent.key.address}`,
        agentProvider: 'openai',
        agentRole: 'trader',
        message: expectedMessage(challenge, machine.identityRef),
        nonce: expectedNonce(challenge),
        issuedAt,
        expiresAt: new Date(clock.now().getTime() + PAIRING_CHALLENGE_TTL_MS).toISOString(),
      });
      expect(challenge.nonce).toMatch(/^[0-9a-f]{64}$/);
      expect(challenge.message.endsWith('\n')).toBe(false);
      expect((await api.challengeEvents(challenge.challengeId)).map((e) => e.type)).toEqual(['agent_pairing_challenge.issued']);
    });

    it('returns a supplied agentDid with its address EIP-55 checksummed, in the challenge, the message, the pairing and the token', async () => {
      const { machine } = await api.activeMachine();
      const agent = newAgent();
      const lowerDid = `did:pkh:eip155:3338:${agent.key.address.toLowerCase()}`;
      const did = `did:pkh:eip155:3338:${agent.key.address}`;
      const challenge = await api.challenge(machine.id, agent, { agentDid: lowerDid });
      expect(challenge.agentDid).toBe(did);
      expect(challenge.message).toContain(`\nAgent DID: ${did}\n`);

      const agentProof = { challengeId: challenge.challengeId, signature: await agent.key.signMessage({ message: challenge.message }) };
      const created = await api.create(machine.id, api.body(agent, { agentDid: lowerDid, agentProof }));
      expect(created.status).toBe(201);
      expect(created.body.item.agentDid).toBe(did);
      expect(decodeJwt(created.body.item.pairingToken).claims.agentDid).toBe(did);
    });

    it('issues a new challenge (new id and nonce) on every call', async () => {
      const { machine } = await api.activeMachine();
      const agent = newAgent();
      const a = await api.challenge(machine.id, agent);
      const b = await api.challenge(machine.id, agent);
      expect(a.challengeId).not.toBe(b.challengeId);
      expect(a.nonce).not.toBe(b.nonce);
    });
  });

  describe('POST …/agent-pairings: what is stored and returned (§5.1, §5.8.4)', () => {
    it('normalises the delegation policy: all seven members, currency upper-cased, lists kept as given; the hash claim follows §5.6', async () => {
      const { machine } = await api.activeMachine();
      const lists = { allowedSkillKeys: ['b.skill', 'a.skill', 'b.skill'], deniedServiceIds: ['svc.z', 'svc.a'] };
      const paired = await api.pair(machine, newAgent(), { delegationPolicy: { ...lists, currency: 'eur', perTransactionLimit: 0 } });
      const policy = { ...DEFAULT_POLICY, ...lists, currency: 'EUR', perTransactionLimit: 0 };
      expect(paired.pairing.delegationPolicy).toEqual(policy);
      expect(decodeJwt(paired.token).claims.delegationPolicyHash).toBe(policyHash(policy));

      const vector = await api.pair(machine, newAgent(), { delegationPolicy: { ...VECTOR_POLICY_INPUT, currency: 'usdt' } });
      expect(decodeJwt(vector.token).claims.delegationPolicyHash).toBe(VECTOR_POLICY_HASH);
    });

    it('keeps a description with line feeds; treats optional members sent as null as absent', async () => {
      const { machine } = await api.activeMachine();
      const withText = await api.pair(machine, newAgent(), { description: 'line one\nline two' });
      expect(withText.pairing.description).toBe('line one\nline two');
      const nulls = await api.pair(machine, newAgent(), { description: null, agentDid: null, delegationPolicy: null });
      expect(nulls.pairing).toEqual(expect.objectContaining({ description: null, delegationPolicy: DEFAULT_POLICY }));
      expect(nulls.pairing.agentDid).toBe(`did:pkh:eip155:1:${nulls.agent.key.address}`);
    });

    it('accepts the boundary values of the §5.1 field rules', async () => {
      const { machine } = await api.activeMachine();
      const keys = Array.from({ length: 200 }, (_, i) => `skill.k${i}`);
      const agent = newAgent('p'.repeat(64), 'r'.repeat(64));
      const description = `${'d'.repeat(998)}\nx`;
      const delegationPolicy = {
        allowedSkillKeys: keys,
        deniedSkillKeys: keys,
        allowedServiceIds: keys,
        deniedServiceIds: keys,
        perTransactionLimit: 0,
        dailySpendLimit: 123456789.125,
        currency: 'A1b2C3d4E5f6G7h8',
      };
      const paired = await api.pair(machine, agent, { description, delegationPolicy });
      expect(paired.pairing).toEqual(
        expect.objectContaining({
          agentProvider: 'p'.repeat(64),
          agentRole: 'r'.repeat(64),
          description,
          delegationPolicy: { ...delegationPolicy, currency: 'A1B2C3D4E5F6G7H8' },
        }),
      );
    });

    it('allows several pairings per machine and per agentAddress (§10.1 item 30); each token acts for its own pairing', async () => {
      const { machine } = await api.activeMachine();
      const agent = newAgent();
      const first = await api.pair(machine, agent);
      const second = await api.pair(machine, agent);
      expect(second.pairing.id).not.toBe(first.pairing.id);
      expectAccepted(await api.use(first), first);
      expectAccepted(await api.use(second), second);
      expectAuthInvalid(await api.probe(first.token, { machineId: machine.id, agentPairingId: second.pairing.id }), 'pairing_mismatch');
    });

    it('ignores an x-agent-pairing-token header on the pairing endpoints (they are not agent endpoints, §1.2)', async () => {
      const { machine } = await api.activeMachine();
      const agent = newAgent();
      const garbage = { [TOKEN_HEADER]: 'not-a-token' };
      const challenge = await api.requestChallenge(machine.id, api.body(agent), garbage);
      expect(challenge.status).toBe(201);
      const agentProof = {
        challengeId: challenge.body.item.challengeId,
        signature: await agent.key.signMessage({ message: challenge.body.item.message }),
      };
      const created = await api.create(machine.id, api.body(agent, { agentProof }), garbage);
      expect(created.status).toBe(201);
      const pairingId = created.body.item.id;
      expect((await api.read(machine.id, pairingId, garbage)).status).toBe(200);
      expect((await api.update(machine.id, pairingId, { agentRole: 'x' }, garbage)).status).toBe(200);
      expect((await api.rotate(machine.id, pairingId, { agentProof: await api.proof(machine.id, agent) }, garbage)).status).toBe(201);
    });
  });

  describe('PATCH …/agent-pairings/:pairingId (§5.8.6)', () => {
    it('merges the policy member by member; null clears a limit or the currency; lists are replaced as a whole', async () => {
      const { machine } = await api.activeMachine();
      const paired = await api.pair(machine, newAgent(), { delegationPolicy: VECTOR_POLICY_INPUT });
      const first = await api.update(machine.id, paired.pairing.id, {
        delegationPolicy: { dailySpendLimit: null, deniedSkillKeys: ['x.y'] },
      });
      expect(first.status).toBe(200);
      expect(first.body.item.delegationPolicy).toEqual({
        ...DEFAULT_POLICY,
        ...VECTOR_POLICY_INPUT,
        dailySpendLimit: null,
        deniedSkillKeys: ['x.y'],
      });
      const second = await api.update(machine.id, paired.pairing.id, {
        delegationPolicy: { currency: null, perTransactionLimit: null, allowedSkillKeys: [] },
      });
      expect(second.body.item.delegationPolicy).toEqual({ ...DEFAULT_POLICY, deniedSkillKeys: ['x.y'], deniedServiceIds: ['svc.bad'] });
      expect((await api.read(machine.id, paired.pairing.id)).body).toEqual(second.body);
      const changes = (await api.pairingEvents(paired.pairing.id)).filter((e) => e.type === 'agent_pairing.policy_changed');
      expect(changes).toHaveLength(2);
    });

    it('a PATCH that leaves the normalised policy unchanged keeps the token valid and appends no policy_changed (§5.6)', async () => {
      const { machine } = await api.activeMachine();
      const paired = await api.pair(machine, newAgent(), { delegationPolicy: { currency: 'USDT', perTransactionLimit: 5 } });
      const response = await api.update(machine.id, paired.pairing.id, {
        delegationPolicy: { currency: 'usdt', perTransactionLimit: 5, allowedSkillKeys: [] },
      });
      expect(response.status).toBe(200);
      expect(response.body.item).toEqual(withoutToken(paired.pairing));
      expectAccepted(await api.use(paired), paired);
      expect((await api.pairingEvents(paired.pairing.id)).map((e) => e.type)).not.toContain('agent_pairing.policy_changed');
    });

    it('replaces agentRole and description (null clears) without touching the token', async () => {
      const { machine } = await api.activeMachine();
      const paired = await api.pair(machine, newAgent('anthropic', 'buyer'), { description: 'first' });
      const at = tick();
      const response = await api.update(machine.id, paired.pairing.id, { agentRole: 'seller', description: null });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ item: { ...withoutToken(paired.pairing), agentRole: 'seller', description: null, updatedAt: at } });
      expectAccepted(await api.use(paired), paired);
      const updated = (await api.pairingEvents(paired.pairing.id)).filter((e) => e.type === 'agent_pairing.updated');
      expect(updated.map((e) => e.data.changes)).toEqual([{ agentRole: 'seller', description: null }]);
    });

    it('setting the current status, or sending an empty body, changes nothing', async () => {
      const { machine } = await api.activeMachine();
      const paired = await api.pair(machine, newAgent());
      const before = (await api.pairingEvents(paired.pairing.id)).length;
      tick();
      for (const body of [{ status: 'active' }, {}]) {
        const response = await api.update(machine.id, paired.pairing.id, body);
        expect(response.status).toBe(200);
        expect(response.body.item).toEqual(withoutToken(paired.pairing));
      }
      expect(await api.pairingEvents(paired.pairing.id)).toHaveLength(before);
    });
  });

  describe('GET …/agent-pairings (§5.8.1)', () => {
    let machine: MachineItem;
    /** Oldest first: active, paused, revoked, active, paused. */
    let seeded: PairingItem[];
    const newestFirst = (items: PairingItem[]) => items.map((p) => p.id).reverse();

    beforeAll(async () => {
      ({ machine } = await api.activeMachine());
      seeded = [];
      for (const status of ['active', 'paused', 'revoked', 'active', 'paused']) {
        tick();
        const { pairing } = await api.pair(machine, newAgent());
        if (status === 'paused') expect((await api.update(machine.id, pairing.id, { status })).status).toBe(200);
        if (status === 'revoked') expect((await api.revoke(machine.id, pairing.id)).status).toBe(200);
        seeded.push((await api.read(machine.id, pairing.id)).body.item);
      }
    });

    const ids = (response: TestResponse) => response.body.items.map((p: PairingItem) => p.id);

    it('lists every pairing of the machine, createdAt descending, as GET returns them, without pairingToken', async () => {
      const response = await api.list(machine.id);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ items: [...seeded].reverse() });
      for (const item of response.body.items) expectPairingShape(item, false);
    });

    it.each(['active', 'paused', 'revoked'])('filters by status=%s', async (status) => {
      const response = await api.list(machine.id, { status });
      expect(response.status).toBe(200);
      expect(ids(response)).toEqual(newestFirst(seeded.filter((p) => p.status === status)));
    });

    it('pages with nextCursor (base64url, omitted on the last page), keeping the filter', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await api.list(machine.id, { limit: '2', cursor });
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...ids(page));
        cursor = page.body.nextCursor;
        if (cursor !== undefined) expect(cursor).toMatch(BASE64URL);
        else expect(Object.keys(page.body)).toEqual(['items']);
        pages += 1;
      } while (cursor !== undefined && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual(newestFirst(seeded));

      const first = await api.list(machine.id, { status: 'paused', limit: '1' });
      const rest = await api.list(machine.id, { status: 'paused', limit: '1', cursor: first.body.nextCursor });
      expect([...ids(first), ...ids(rest)]).toEqual(newestFirst(seeded.filter((p) => p.status === 'paused')));
      expect(rest.body.nextCursor).toBeUndefined();
    });

    it('does not list the pairings of another machine; a machine without pairings lists none', async () => {
      const other = await api.activeMachine();
      expect((await api.list(other.machine.id)).body).toEqual({ items: [] });
    });

    it.each([
      ['an unknown status', { status: 'bogus' }, 'status'],
      ['status in the wrong case', { status: 'Active' }, 'status'],
      ['limit=0', { limit: '0' }, 'limit'],
      ['limit=501', { limit: '501' }, 'limit'],
    ])('rejects %s: 400 VALIDATION_ERROR', async (_, query, path) => {
      expectValidationError(await api.list(machine.id, query), { location: 'query', path });
    });

    it('rejects a cursor issued for another filter or by another endpoint: reason invalid_cursor', async () => {
      const paused = await api.list(machine.id, { status: 'paused', limit: '1' });
      const withOther = await api.list(machine.id, { status: 'active', cursor: paused.body.nextCursor });
      expectValidationError(withOther);
      expect(withOther.body.error.details.reason).toBe('invalid_cursor');

      await api.activeMachine({ ownerId: 'owner-pairing-cursor' });
      await api.activeMachine({ ownerId: 'owner-pairing-cursor' });
      const machinesPage = await machines.list({ ownerId: 'owner-pairing-cursor', limit: '1' });
      expect(machinesPage.body.nextCursor).toEqual(expect.any(String));
      const foreign = await api.list(machine.id, { cursor: machinesPage.body.nextCursor });
      expectValidationError(foreign);
      expect(foreign.body.error.details.reason).toBe('invalid_cursor');
    });

    it('404 NOT_FOUND (entityType machine) for an unknown machine', async () => {
      const response = await api.list(UNKNOWN_MACHINE_ID);
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ entityType: 'machine', id: UNKNOWN_MACHINE_ID });
    });
  });

  describe('GET …/agent-pairings/:pairingId: 404 NOT_FOUND (§5.8.2)', () => {
    it.each([
      ['an unknown pairing id', UNKNOWN_PAIRING_ID],
      ['an id with another prefix', 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2C'],
      ['a free-form string', 'pairing-1'],
    ])('%s → entityType agent-pairing', async (_, id) => {
      const { machine } = await api.activeMachine();
      const response = await api.read(machine.id, id);
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.details).toEqual({ entityType: 'agent-pairing', id });
    });

    it('a pairing of another machine is not found, on every pairing route', async () => {
      const { machine } = await api.activeMachine();
      const paired = await api.pair(machine);
      const other = (await api.activeMachine()).machine;
      const notFound = { entityType: 'agent-pairing', id: paired.pairing.id };
      const responses = [
        await api.read(other.id, paired.pairing.id),
        await api.update(other.id, paired.pairing.id, { agentRole: 'x' }),
        await api.revoke(other.id, paired.pairing.id),
        await api.rotate(other.id, paired.pairing.id, { agentProof: await api.proof(other.id, paired.agent) }),
      ];
      for (const response of responses) {
        expectError(response, 404, 'NOT_FOUND');
        expect(response.body.error.details).toEqual(notFound);
      }
      expect((await api.read(machine.id, paired.pairing.id)).body.item).toEqual(withoutToken(paired.pairing));
      expectAccepted(await api.use(paired), paired);
    });

    it('an unknown machine is 404 machine on every pairing route', async () => {
      const agent = newAgent();
      const responses = [
        await api.read(UNKNOWN_MACHINE_ID, UNKNOWN_PAIRING_ID),
        await api.requestChallenge(UNKNOWN_MACHINE_ID, api.body(agent)),
        await api.create(UNKNOWN_MACHINE_ID, api.body(agent)),
        await api.rotate(UNKNOWN_MACHINE_ID, UNKNOWN_PAIRING_ID, {}),
        await api.update(UNKNOWN_MACHINE_ID, UNKNOWN_PAIRING_ID, { agentRole: 'x' }),
        await api.revoke(UNKNOWN_MACHINE_ID, UNKNOWN_PAIRING_ID),
      ];
      for (const response of responses) {
        expectError(response, 404, 'NOT_FOUND');
        expect(response.body.error.details).toEqual({ entityType: 'machine', id: UNKNOWN_MACHINE_ID });
      }
    });
  });

  describe('Idempotency-Key: replays never carry the token (§0.11, §5.1)', () => {
    it('replays create and rotate without pairingToken and without a second session', async () => {
      const { machine } = await api.activeMachine();
      const agent = newAgent();
      const body = api.body(agent, { agentProof: await api.proof(machine.id, agent) });
      const first = await api.create(machine.id, body, { 'idempotency-key': 'pairings-create-1' });
      expect(first.status).toBe(201);
      const replay = await api.create(machine.id, body, { 'idempotency-key': 'pairings-create-1' });
      expect(replay.status).toBe(201);
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(replay.body).toEqual({ item: withoutToken(first.body.item) });
      expect((await api.list(machine.id)).body.items).toHaveLength(1);

      const pairingId = first.body.item.id;
      const rotation = { agentProof: await api.proof(machine.id, agent) };
      const rotated = await api.rotate(machine.id, pairingId, rotation, { 'idempotency-key': 'pairings-rotate-1' });
      expect(rotated.status).toBe(201);
      const rotatedReplay = await api.rotate(machine.id, pairingId, rotation, { 'idempotency-key': 'pairings-rotate-1' });
      expect(rotatedReplay.status).toBe(201);
      expect(rotatedReplay.headers['idempotency-replayed']).toBe('true');
      expect(rotatedReplay.body).toEqual({ item: withoutToken(rotated.body.item) });
      expect(rotatedReplay.text).not.toContain(rotated.body.item.pairingToken);
      expectAccepted(await api.probe(rotated.body.item.pairingToken, { machineId: machine.id }), { machine, pairing: rotated.body.item });
      const sessions = (await api.pairingEvents(pairingId)).filter((e) => e.type === 'agent_pairing.session_issued');
      expect(sessions).toHaveLength(2);
    });
  });

  describe('redaction (§9): no pairingToken and no agent proof signature is ever persisted', () => {
    it('leaves neither in the event store, the read model or the idempotency records; only fingerprints', async () => {
      const { machine } = await api.activeMachine();
      const agent = newAgent();
      const tokens: string[] = [];
      const signatures: string[] = [];
      const signed = async (): Promise<AgentProof> => {
        const proof = await api.proof(machine.id, agent);
        signatures.push(proof.signature);
        return proof;
      };

      const created = await api.create(machine.id, api.body(agent, { agentProof: await signed() }), {
        'idempotency-key': 'redaction-create',
      });
      expect(created.status).toBe(201);
      const pairing: PairingItem = created.body.item;
      tokens.push(pairing.pairingToken!);
      expect((await api.update(machine.id, pairing.id, { delegationPolicy: { currency: 'usdt' } })).status).toBe(200);
      const rotated = await api.rotate(machine.id, pairing.id, { agentProof: await signed() }, { 'idempotency-key': 'redaction-rotate' });
      expect(rotated.status).toBe(201);
      tokens.push(rotated.body.item.pairingToken);
      // A failed attempt carrying a signature must not leave it behind either.
      const stranger = newAgent();
      const stray = await api.proof(machine.id, agent, { signer: stranger.key });
      signatures.push(stray.signature);
      expectAgentProofInvalid(await api.rotate(machine.id, pairing.id, { agentProof: stray }), 'signer_mismatch');
      expectAccepted(await api.probe(tokens[1], { machineId: machine.id }), { machine, pairing });
      expect((await api.update(machine.id, pairing.id, { status: 'paused' })).status).toBe(200);
      expect((await api.revoke(machine.id, pairing.id)).status).toBe(200);

      const events = await api.pairingEvents(pairing.id);
      const fingerprints = signatures.slice(0, 2).map(signatureFingerprint);
      expect(JSON.stringify(events)).toContain(fingerprints[0]);
      expect(JSON.stringify(events)).toContain(fingerprints[1]);

      const stored = dataFilesText(t);
      // Positive control: the files read are the ones holding this pairing.
      expect(stored).toContain(pairing.id);
      expect(stored).toContain(pairing.tokenLastFour);
      const everyEvent = JSON.stringify(await t.storedEvents({ includeInternal: true }));
      for (const token of tokens) {
        const jws = decodeJwt(token).signature;
        for (const haystack of [stored, everyEvent]) {
          expect(haystack.includes(token)).toBe(false);
          expect(haystack.includes(jws)).toBe(false);
        }
      }
      const lowerStored = stored.toLowerCase();
      const lowerEvents = everyEvent.toLowerCase();
      for (const signature of signatures) {
        const hex = signature.slice(2).toLowerCase();
        expect(lowerStored.includes(hex)).toBe(false);
        expect(lowerEvents.includes(hex)).toBe(false);
        // r alone (what any re-encoding of the signature contains).
        expect(lowerStored.includes(hex.slice(0, 64))).toBe(false);
      }
    });
  });

  describe('agentAddress spellings', () => {
    it('pairs with a lower-case agentAddress (returned EIP-55); a broken checksum is refused', async () => {
      const { machine } = await api.activeMachine();
      const agent = newAgent();
      const lower = agent.key.address.toLowerCase();
      const challenge = await api.challenge(machine.id, agent, { agentAddress: lower });
      const agentProof = { challengeId: challenge.challengeId, signature: await agent.key.signMessage({ message: challenge.message }) };
      const created = await api.create(machine.id, api.body(agent, { agentAddress: lower, agentProof }));
      expect(created.status).toBe(201);
      expect(created.body.item.agentAddress).toBe(agent.key.address);
      expect(decodeJwt(created.body.item.pairingToken).claims.agentAddress).toBe(agent.key.address);

      const broken = breakChecksum(agent.key.address);
      expect(broken.toLowerCase()).toBe(lower);
      expectValidationError(await api.requestChallenge(machine.id, api.body(agent, { agentAddress: broken })), {
        location: 'body',
        path: '/agentAddress',
      });
    });
  });
});
