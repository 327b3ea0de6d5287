import { ControllableClock } from '../support/controllable-clock';
import { expectError, expectValidationError } from '../support/http-expectations';
import {
  MachineApi,
  MachineItem,
  requiredModeOverrides,
  UNKNOWN_CHALLENGE_ID,
  useMachineApp,
  withoutEvents,
  withV,
} from '../support/machine-api';
import { behaviour, McrTestServer, newControllerAccount } from '../support/mcr-server';
import {
  Agent,
  AgentProof,
  breakChecksum,
  DEFAULT_POLICY,
  expectAccepted,
  expectAgentProofInvalid,
  newAgent,
  PairingApi,
  withoutToken,
} from '../support/pairing-api';
import { TestApp, TestResponse } from '../support/test-app';

const T0 = '2026-04-01T10:00:00.000Z';
const PAIRING_CHALLENGE_TTL_MS = 30_000;
/** A valid EIP-55 address no test agent uses. */
const OTHER_ADDRESS = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const DUMMY_PROOF = { challengeId: UNKNOWN_CHALLENGE_ID, signature: `0x${'1'.repeat(130)}` };

/** §0.8: a body error at `path` or below it. */
function expectBodyError(response: TestResponse, path: string): void {
  expectValidationError(response);
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  expect(response.body.error.details.errors).toContainEqual(
    expect.objectContaining({ location: 'body', path: expect.stringMatching(new RegExp(`^${escaped}(/.*)?$`)) }),
  );
}

const range = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => make(i));

describe('agent pairing proofs, validation and machine gates in required mode (§5.3, §5.4.3, §5.1, §1.4)', () => {
  const clock = new ControllableClock(T0);
  let mcr: McrTestServer;
  let t: TestApp;
  let machines: MachineApi;
  let api: PairingApi;
  const base = requiredModeOverrides(clock);
  useMachineApp({ ...base, env: { ...base.env, PEAQOS_AGENT_PAIRING_CHALLENGE_TTL_MS: String(PAIRING_CHALLENGE_TTL_MS) } }, (app) => {
    ({ mcr, t } = app);
    machines = app.api;
    api = new PairingApi(app.t, app.api);
  });

  const activeMachine = async () => (await api.activeMachine()).machine;

  describe('400 AGENT_PAIRING_PROOF_REQUIRED (required mode)', () => {
    it.each([
      ['without agentProof', {}],
      ['with agentProof null', { agentProof: null }],
    ])('create %s: nothing is written', async (_, extra) => {
      const machine = await activeMachine();
      const response = await withoutEvents(t, () => api.create(machine.id, api.body(newAgent(), extra)));
      expectError(response, 400, 'AGENT_PAIRING_PROOF_REQUIRED');
      expect((await api.list(machine.id)).body.items).toEqual([]);
    });

    it.each([
      ['without agentProof', {}],
      ['with agentProof null', { agentProof: null }],
    ])('rotation %s: the session is unchanged', async (_, body) => {
      const machine = await activeMachine();
      const paired = await api.pair(machine);
      const response = await withoutEvents(t, () => api.rotate(machine.id, paired.pairing.id, body));
      expectError(response, 400, 'AGENT_PAIRING_PROOF_REQUIRED');
      expect((await api.read(machine.id, paired.pairing.id)).body.item).toEqual(withoutToken(paired.pairing));
      expectAccepted(await api.use(paired), paired);
    });
  });

  describe('403 AGENT_PAIRING_PROOF_INVALID and _EXPIRED (§5.4.3)', () => {
    type Kind = 'create' | 'rotate';
    /** A request of `kind` on `machine` for `agent` that carries the given proof (rotate: of a pairing made beforehand). */
    async function writer(kind: Kind, machine: MachineItem, agent: Agent): Promise<(agentProof: unknown) => Promise<TestResponse>> {
      if (kind === 'create') return (agentProof) => api.create(machine.id, api.body(agent, { agentProof }));
      const { pairing } = await api.pair(machine, agent);
      return (agentProof) => api.rotate(machine.id, pairing.id, { agentProof });
    }
    const succeeded = (kind: Kind, response: TestResponse) =>
      expect({ status: response.status, text: response.status === 201 ? '' : response.text }).toEqual({ status: 201, text: '' });

    describe.each<Kind>(['create', 'rotate'])('%s', (kind) => {
      it('challenge_not_found: never issued, not a challenge id, or a machine identity challenge (same chl_ prefix)', async () => {
        const machine = await activeMachine();
        const agent = newAgent();
        const write = await writer(kind, machine, agent);
        const { signature } = await api.proof(machine.id, agent);
        const identityChallenge = await machines.challenge(machine.identityRef);
        for (const challengeId of [UNKNOWN_CHALLENGE_ID, 'not-a-challenge', identityChallenge.challengeId]) {
          expectAgentProofInvalid(await withoutEvents(t, () => write({ challengeId, signature })), 'challenge_not_found');
        }
      });

      it('challenge_mismatch: a challenge issued for another machine', async () => {
        const machine = await activeMachine();
        const other = await activeMachine();
        const agent = newAgent();
        const write = await writer(kind, machine, agent);
        const proof = await api.proof(other.id, agent);
        expectAgentProofInvalid(await withoutEvents(t, () => write(proof)), 'challenge_mismatch');
      });

      it('challenge_mismatch: a challenge issued for another agentAddress (checked before the signer)', async () => {
        const machine = await activeMachine();
        const agent = newAgent();
        const write = await writer(kind, machine, agent);
        const stranger = newAgent(agent.provider, agent.role);
        for (const signer of [stranger.key, agent.key]) {
          const proof = await api.proof(machine.id, stranger, { signer });
          expectAgentProofInvalid(await withoutEvents(t, () => write(proof)), 'challenge_mismatch');
        }
      });

      it('challenge_used: a challenge that already served a successful request', async () => {
        const machine = await activeMachine();
        const agent = newAgent();
        const write = await writer(kind, machine, agent);
        const proof = await api.proof(machine.id, agent);
        succeeded(kind, await write(proof));
        expectAgentProofInvalid(await withoutEvents(t, () => write(proof)), 'challenge_used');
        // Used by a creation, it cannot serve a rotation either (and vice versa).
        const { pairing } = await api.pair(machine, agent);
        expectAgentProofInvalid(await api.rotate(machine.id, pairing.id, { agentProof: proof }), 'challenge_used');
        expectAgentProofInvalid(await api.create(machine.id, api.body(agent, { agentProof: proof })), 'challenge_used');
      });

      it('malformed_signature: v outside {0, 1, 27, 28}, 64 bytes, not hex', async () => {
        const machine = await activeMachine();
        const agent = newAgent();
        const write = await writer(kind, machine, agent);
        const proof = await api.proof(machine.id, agent);
        for (const signature of [withV(proof.signature, 29), proof.signature.slice(0, 130), `0x${'zz'.repeat(65)}`]) {
          expectAgentProofInvalid(await withoutEvents(t, () => write({ ...proof, signature })), 'malformed_signature');
        }
        succeeded(kind, await write(proof));
      });

      it('accepts v as 0/1 as well as 27/28', async () => {
        const machine = await activeMachine();
        const agent = newAgent();
        const write = await writer(kind, machine, agent);
        const proof = await api.proof(machine.id, agent);
        const v = Number.parseInt(proof.signature.slice(130), 16);
        succeeded(kind, await write({ ...proof, signature: withV(proof.signature, v - 27) }));
      });

      it('signer_mismatch: signed by another key, or over another text; the challenge stays usable', async () => {
        const machine = await activeMachine();
        const agent = newAgent();
        const write = await writer(kind, machine, agent);
        const challenge = await api.challenge(machine.id, agent);
        const byStranger = await newControllerAccount().signMessage({ message: challenge.message });
        const otherText = await agent.key.signMessage({ message: `${challenge.message}\n` });
        for (const signature of [byStranger, otherText]) {
          expectAgentProofInvalid(
            await withoutEvents(t, () => write({ challengeId: challenge.challengeId, signature })),
            'signer_mismatch',
          );
        }
        succeeded(
          kind,
          await write({ challengeId: challenge.challengeId, signature: await agent.key.signMessage({ message: challenge.message }) }),
        );
        expect((await api.challengeEvents(challenge.challengeId)).map((e) => e.type)).toEqual([
          'agent_pairing_challenge.issued',
          'agent_pairing_challenge.consumed',
        ]);
      });

      it('403 AGENT_PAIRING_PROOF_EXPIRED once now >= expiresAt (one millisecond earlier it still works)', async () => {
        const machine = await activeMachine();
        const agent = newAgent();
        const write = await writer(kind, machine, agent);
        const early = await api.proof(machine.id, agent);
        const late = await api.proof(machine.id, agent);
        const expiresAt = new Date(clock.now().getTime() + PAIRING_CHALLENGE_TTL_MS).toISOString();
        clock.advance(PAIRING_CHALLENGE_TTL_MS - 1);
        succeeded(kind, await write(early));
        clock.advance(1);
        const response = await withoutEvents(t, () => write(late));
        expectError(response, 403, 'AGENT_PAIRING_PROOF_EXPIRED');
        expect(response.body.error.details).toEqual({ challengeId: late.challengeId, expiresAt });
      });
    });

    describe('creation compares provider, role and DID with the challenge; rotation does not (§10.1 item 31)', () => {
      it.each<[string, (agent: Agent) => Record<string, unknown>]>([
        ['agentProvider', () => ({ agentProvider: 'openai' })],
        ['agentRole', () => ({ agentRole: 'seller' })],
        ['agentDid', (agent) => ({ agentDid: `did:pkh:eip155:3338:${agent.key.address}` })],
      ])('create with another %s than the challenge → challenge_mismatch', async (_, change) => {
        const machine = await activeMachine();
        const agent = newAgent('anthropic', 'buyer');
        const proof = await api.proof(machine.id, agent);
        const overrides = change(agent);
        const response = await withoutEvents(t, () => api.create(machine.id, api.body(agent, { ...overrides, agentProof: proof })));
        expectAgentProofInvalid(response, 'challenge_mismatch');
        succeeded('create', await api.create(machine.id, api.body(agent, { agentProof: proof })));
      });

      it('rotation accepts a challenge for the same agentAddress with another provider, role and DID; the pairing keeps its own', async () => {
        const machine = await activeMachine();
        const agent = newAgent('anthropic', 'buyer');
        const paired = await api.pair(machine, agent);
        const agentProof = await api.proof(machine.id, agent, {
          challenge: { agentProvider: 'virtuals', agentRole: 'ops', agentDid: `did:pkh:eip155:10:${agent.key.address}` },
        });
        const response = await api.rotate(machine.id, paired.pairing.id, { agentProof });
        expect(response.status).toBe(201);
        expect(response.body.item).toEqual(
          expect.objectContaining({ agentProvider: 'anthropic', agentRole: 'buyer', agentDid: paired.pairing.agentDid }),
        );
      });
    });

    it('of two concurrent creations with one challenge, exactly one succeeds; the other is challenge_used', async () => {
      const machine = await activeMachine();
      const agent = newAgent();
      const agentProof = await api.proof(machine.id, agent);
      const body = api.body(agent, { agentProof });
      const responses = await Promise.all([api.create(machine.id, body), api.create(machine.id, body)]);
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 403]);
      expectAgentProofInvalid(
        responses.find((r) => r.status === 403)!,
        'challenge_used',
      );
      expect((await api.list(machine.id)).body.items).toHaveLength(1);
    });
  });

  describe('request validation: 400 VALIDATION_ERROR, nothing written, MCR not called', () => {
    let machine: MachineItem;
    const agent = newAgent();
    beforeAll(async () => {
      machine = await activeMachine();
    });
    const createBody = (overrides: Record<string, unknown>) => ({ ...api.body(agent), agentProof: DUMMY_PROOF, ...overrides });
    const without = (member: string) => {
      const body: Record<string, unknown> = createBody({});
      delete body[member];
      return body;
    };
    const policy = (member: string, value: unknown) => createBody({ delegationPolicy: { [member]: value } });
    const keys = (n: number) => range(n, (i) => `skill.k${i}`);

    it.each<[string, () => Record<string, unknown>, string]>([
      ['agentAddress missing', () => without('agentAddress'), '/agentAddress'],
      ['agentAddress not a string', () => createBody({ agentAddress: 42 }), '/agentAddress'],
      ['agentAddress of 39 hex characters', () => createBody({ agentAddress: OTHER_ADDRESS.slice(0, -1) }), '/agentAddress'],
      ['agentAddress without 0x', () => createBody({ agentAddress: OTHER_ADDRESS.slice(2) }), '/agentAddress'],
      ['agentAddress with a bad EIP-55 checksum', () => createBody({ agentAddress: breakChecksum(OTHER_ADDRESS) }), '/agentAddress'],
      ['agentAddress with non-hex characters', () => createBody({ agentAddress: `0x${'g'.repeat(40)}` }), '/agentAddress'],
      ['agentProvider missing', () => without('agentProvider'), '/agentProvider'],
      ['agentProvider empty', () => createBody({ agentProvider: '' }), '/agentProvider'],
      ['agentProvider of 65 characters', () => createBody({ agentProvider: 'p'.repeat(65) }), '/agentProvider'],
      ['agentProvider with a NUL', () => createBody({ agentProvider: 'open\u0000ai' }), '/agentProvider'],
      ['agentProvider with a line feed', () => createBody({ agentProvider: 'open\nai' }), '/agentProvider'],
      ['agentProvider not a string', () => createBody({ agentProvider: ['openai'] }), '/agentProvider'],
      ['agentRole missing', () => without('agentRole'), '/agentRole'],
      ['agentRole of 65 characters', () => createBody({ agentRole: 'r'.repeat(65) }), '/agentRole'],
      ['agentRole with a tab', () => createBody({ agentRole: 'ops\tlead' }), '/agentRole'],
      ['agentRole with DEL', () => createBody({ agentRole: 'ops\u007f' }), '/agentRole'],
      ['agentDid not a string', () => createBody({ agentDid: 42 }), '/agentDid'],
      ['description of 1001 characters', () => createBody({ description: 'd'.repeat(1001) }), '/description'],
      ['description with a bell', () => createBody({ description: 'ding\u0007' }), '/description'],
      ['description with a carriage return', () => createBody({ description: 'a\r\nb' }), '/description'],
      ['description not a string', () => createBody({ description: 5 }), '/description'],
      ['delegationPolicy not an object', () => createBody({ delegationPolicy: 'none' }), '/delegationPolicy'],
      ['delegationPolicy as an array', () => createBody({ delegationPolicy: [] }), '/delegationPolicy'],
      ['an unknown member in delegationPolicy', () => policy('maxOrderAmount', 5), '/delegationPolicy'],
      ['201 allowedSkillKeys', () => policy('allowedSkillKeys', keys(201)), '/delegationPolicy/allowedSkillKeys'],
      ['201 deniedSkillKeys', () => policy('deniedSkillKeys', keys(201)), '/delegationPolicy/deniedSkillKeys'],
      ['201 allowedServiceIds', () => policy('allowedServiceIds', keys(201)), '/delegationPolicy/allowedServiceIds'],
      ['201 deniedServiceIds', () => policy('deniedServiceIds', keys(201)), '/delegationPolicy/deniedServiceIds'],
      ['a list entry with upper case', () => policy('allowedSkillKeys', ['Oracle.price-feed']), '/delegationPolicy/allowedSkillKeys'],
      ['an empty list entry', () => policy('deniedSkillKeys', ['']), '/delegationPolicy/deniedSkillKeys'],
      ['a list entry of 129 characters', () => policy('allowedServiceIds', ['s'.repeat(129)]), '/delegationPolicy/allowedServiceIds'],
      ['a list entry that is not a string', () => policy('deniedServiceIds', [1]), '/delegationPolicy/deniedServiceIds'],
      ['a list that is not an array', () => policy('allowedSkillKeys', 'oracle.price-feed'), '/delegationPolicy/allowedSkillKeys'],
      ['a negative perTransactionLimit', () => policy('perTransactionLimit', -1), '/delegationPolicy/perTransactionLimit'],
      ['a negative dailySpendLimit', () => policy('dailySpendLimit', -0.01), '/delegationPolicy/dailySpendLimit'],
      ['a limit sent as a string', () => policy('perTransactionLimit', '5'), '/delegationPolicy/perTransactionLimit'],
      ['a currency of 1 character', () => policy('currency', 'U'), '/delegationPolicy/currency'],
      ['a currency of 17 characters', () => policy('currency', 'U'.repeat(17)), '/delegationPolicy/currency'],
      ['a currency with a hyphen', () => policy('currency', 'US-D'), '/delegationPolicy/currency'],
      ['a currency that is not a string', () => policy('currency', 840), '/delegationPolicy/currency'],
      ['agentProof not an object', () => createBody({ agentProof: 'proof' }), '/agentProof'],
      ['agentProof without signature', () => createBody({ agentProof: { challengeId: UNKNOWN_CHALLENGE_ID } }), '/agentProof'],
      ['agentProof without challengeId', () => createBody({ agentProof: { signature: DUMMY_PROOF.signature } }), '/agentProof'],
      ['an unknown member inside agentProof', () => createBody({ agentProof: { ...DUMMY_PROOF, nonce: 'x' } }), '/agentProof'],
      ['an unknown top-level member', () => createBody({ extra: true }), '/extra'],
      ['status (not a creation member)', () => createBody({ status: 'active' }), '/status'],
      ['a server-set member (id)', () => createBody({ id: 'pair_01JD8Y6K3W5T2Q9R7M4N0P1B2C' }), '/id'],
      ['a snake_case spelling', () => createBody({ agent_role: 'ops' }), '/agent_role'],
    ])('create rejects %s', async (_, body, path) => {
      mcr.clearLog();
      const response = await withoutEvents(t, () => api.create(machine.id, body()));
      expectBodyError(response, path);
      expect(mcr.count()).toBe(0);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['agentAddress missing', { agentAddress: undefined }, '/agentAddress'],
      ['agentAddress with a bad checksum', { agentAddress: breakChecksum(OTHER_ADDRESS) }, '/agentAddress'],
      ['agentProvider of 65 characters', { agentProvider: 'p'.repeat(65) }, '/agentProvider'],
      ['agentRole with a control character', { agentRole: 'a\u001bb' }, '/agentRole'],
      ['description (not a challenge member)', { description: 'x' }, '/description'],
      ['delegationPolicy (not a challenge member)', { delegationPolicy: {} }, '/delegationPolicy'],
      ['agentProof (not a challenge member)', { agentProof: DUMMY_PROOF }, '/agentProof'],
    ])('challenge rejects %s', async (_, overrides, path) => {
      mcr.clearLog();
      const body = JSON.parse(JSON.stringify({ ...api.body(agent), ...overrides }));
      const response = await withoutEvents(t, () => api.requestChallenge(machine.id, body));
      expectBodyError(response, path);
      expect(mcr.count()).toBe(0);
    });

    describe('agentDid (§5.2), on the challenge and on creation', () => {
      const address = agent.key.address;
      it.each([
        ['chain id 0', `did:pkh:eip155:0:${address}`],
        ['a chain id with a leading zero', `did:pkh:eip155:01:${address}`],
        ['a chain id above 2^53 - 1', `did:pkh:eip155:9007199254740992:${address}`],
        ['no chain id', `did:pkh:eip155:${address}`],
        ['an address of 39 hex characters', `did:pkh:eip155:1:${address.slice(0, -1)}`],
        ['an address with a bad checksum', `did:pkh:eip155:1:${breakChecksum(address)}`],
        ['another DID method', `did:ethr:${address}`],
        ['an upper-case prefix', `DID:PKH:EIP155:1:${address}`],
        ['a trailing segment', `did:pkh:eip155:1:${address}:x`],
        ['a non-EVM namespace', `did:pkh:solana:1:${address}`],
      ])('%s → reason invalid_agent_did', async (_, agentDid) => {
        for (const request of [
          () => api.requestChallenge(machine.id, api.body(agent, { agentDid })),
          () => api.create(machine.id, createBody({ agentDid })),
        ]) {
          const response = await withoutEvents(t, request);
          expectValidationError(response, { location: 'body', path: '/agentDid' });
          expect(response.body.error.details.reason).toBe('invalid_agent_did');
        }
      });

      it('a DID of another address → reason agent_did_mismatch', async () => {
        const agentDid = `did:pkh:eip155:1:${OTHER_ADDRESS}`;
        for (const request of [
          () => api.requestChallenge(machine.id, api.body(agent, { agentDid })),
          () => api.create(machine.id, createBody({ agentDid })),
        ]) {
          const response = await withoutEvents(t, request);
          expectValidationError(response, { location: 'body', path: '/agentDid' });
          expect(response.body.error.details.reason).toBe('agent_did_mismatch');
        }
      });

      it('accepts the largest chain id and a lower-case address', async () => {
        const response = await api.requestChallenge(
          machine.id,
          api.body(agent, { agentDid: `did:pkh:eip155:9007199254740991:${address.toLowerCase()}` }),
        );
        expect(response.status).toBe(201);
        expect(response.body.item.agentDid).toBe(`did:pkh:eip155:9007199254740991:${address}`);
      });
    });

    describe('PATCH', () => {
      let pairingId: string;
      beforeAll(async () => {
        pairingId = (await api.pair(machine)).pairing.id;
      });

      it.each<[string, Record<string, unknown>, string]>([
        ['status revoked (only through the revoke endpoint)', { status: 'revoked' }, '/status'],
        ['an unknown status', { status: 'suspended' }, '/status'],
        ['status not a string', { status: 1 }, '/status'],
        ['an unknown member in delegationPolicy', { delegationPolicy: { limit: 5 } }, '/delegationPolicy'],
        ['a negative perTransactionLimit', { delegationPolicy: { perTransactionLimit: -5 } }, '/delegationPolicy/perTransactionLimit'],
        ['201 deniedServiceIds', { delegationPolicy: { deniedServiceIds: keys(201) } }, '/delegationPolicy/deniedServiceIds'],
        ['a currency of 1 character', { delegationPolicy: { currency: 'x' } }, '/delegationPolicy/currency'],
        ['description of 1001 characters', { description: 'd'.repeat(1001) }, '/description'],
        ['description with a control character', { description: 'a\u0000' }, '/description'],
        ['an empty agentRole', { agentRole: '' }, '/agentRole'],
        ['agentRole of 65 characters', { agentRole: 'r'.repeat(65) }, '/agentRole'],
        ['agentAddress (not changeable)', { agentAddress: OTHER_ADDRESS }, '/agentAddress'],
        ['agentProvider (not changeable)', { agentProvider: 'openai' }, '/agentProvider'],
        ['agentDid (not changeable)', { agentDid: `did:pkh:eip155:1:${OTHER_ADDRESS}` }, '/agentDid'],
        ['an unknown member', { extra: true }, '/extra'],
      ])('rejects %s', async (_, body, path) => {
        const before = (await api.read(machine.id, pairingId)).body;
        const response = await withoutEvents(t, () => api.update(machine.id, pairingId, body));
        expectBodyError(response, path);
        expect((await api.read(machine.id, pairingId)).body).toEqual(before);
      });
    });

    describe('revoke: no body, force is a boolean (§5.8.7, §0.2)', () => {
      it.each([
        ['force=yes', 'force=yes'],
        ['force=1', 'force=1'],
        ['force=TRUE', 'force=TRUE'],
        ['an empty force', 'force='],
        ['force given twice', 'force=true&force=false'],
      ])('rejects %s: 400 in the query, the pairing stays active', async (_, query) => {
        const { pairing } = await api.pair(machine);
        const response = await withoutEvents(t, () => api.revoke(machine.id, pairing.id, query));
        expectValidationError(response, { location: 'query', path: 'force' });
        expect((await api.read(machine.id, pairing.id)).body.item.status).toBe('active');
      });

      it('rejects a body other than {}; accepts {} and force=false', async () => {
        const { pairing } = await api.pair(machine);
        expectValidationError(await withoutEvents(t, () => api.revoke(machine.id, pairing.id, '', { reason: 'bye' })));
        const revoked = await api.revoke(machine.id, pairing.id, 'force=false', {});
        expect(revoked.status).toBe(200);
        expect(revoked.body.item.status).toBe('revoked');
      });
    });
  });

  describe('machine gates (§1.4, §1.5): challenge, create and rotate need an active machine; PATCH and revoke only an existing one', () => {
    it('a draft machine: 409 MACHINE_NOT_ACTIVE on challenge and create', async () => {
      const device = machines.identity();
      const draft = await machines.register(device, { status: 'draft' });
      const agent = newAgent();
      for (const response of [
        await api.requestChallenge(draft.id, api.body(agent)),
        await api.create(draft.id, api.body(agent, { agentProof: DUMMY_PROOF })),
      ]) {
        expectError(response, 409, 'MACHINE_NOT_ACTIVE');
        expect(response.body.error.details).toEqual({ machineId: draft.id, status: 'draft' });
      }
      expect((await api.list(draft.id)).body).toEqual({ items: [] });
    });

    it('a blocked machine: create, rotate and resume refused; reads, pause and revoke work; an unused challenge survives', async () => {
      const { machine, device } = await api.activeMachine();
      const agent = newAgent();
      const paused = await api.pair(machine, agent);
      const revoked = await api.pair(machine, agent);
      expect((await api.update(machine.id, paused.pairing.id, { status: 'paused' })).status).toBe(200);
      const pending = await api.proof(machine.id, agent);
      const rotation = await api.proof(machine.id, agent);
      expect((await machines.patch(machine, device, { status: 'blocked' })).status).toBe(200);

      const notActive = { machineId: machine.id, status: 'blocked' };
      for (const response of [
        await api.requestChallenge(machine.id, api.body(agent)),
        await api.create(machine.id, api.body(agent, { agentProof: pending })),
        await api.rotate(machine.id, revoked.pairing.id, { agentProof: rotation }),
        await api.update(machine.id, paused.pairing.id, { status: 'active' }),
      ]) {
        expectError(response, 409, 'MACHINE_NOT_ACTIVE');
        expect(response.body.error.details).toEqual(notActive);
      }
      expect((await api.read(machine.id, paused.pairing.id)).body.item.status).toBe('paused');
      expect((await api.list(machine.id)).body.items).toHaveLength(2);
      const repolicied = await api.update(machine.id, paused.pairing.id, { agentRole: 'holder', description: 'held' });
      expect(repolicied.status).toBe(200);
      expect(repolicied.body.item.status).toBe('paused');
      expect((await api.revoke(machine.id, revoked.pairing.id)).body.item.status).toBe('revoked');

      expect((await machines.patch(machine, device, { status: 'active' })).status).toBe(200);
      const created = await api.create(machine.id, api.body(agent, { agentProof: pending }));
      expect(created.status).toBe(201);
      expect((await api.update(machine.id, paused.pairing.id, { status: 'active' })).body.item.status).toBe('active');
      expectAccepted(await api.use(paused), paused);
    });

    it.each<[string, string, (did: string) => void, (did: string) => void]>([
      [
        'not bonded',
        'not_bonded',
        (did: string) => mcr.updateMachine(did, { bondStatus: 'unbonded' }),
        (did: string) => mcr.updateMachine(did, { bondStatus: 'bonded' }),
      ],
      ['not resolvable', 'mcr_not_found', (did: string) => mcr.behave(did, behaviour.unknown()), (did: string) => mcr.behave(did, null)],
    ])(
      'a machine %s: 409 MACHINE_NOT_ACTIVATED (%s) on challenge, create, rotate and resume; pause and revoke work',
      async (_, reason, breakIt, repair) => {
        const { machine, device } = await api.activeMachine();
        const agent = newAgent();
        const paired = await api.pair(machine, agent);
        const other = await api.pair(machine, agent);
        const pending = await api.proof(machine.id, agent);
        const rotation = await api.proof(machine.id, agent);
        expect((await api.update(machine.id, other.pairing.id, { status: 'paused' })).status).toBe(200);
        breakIt(device.did);
        try {
          for (const response of [
            await api.requestChallenge(machine.id, api.body(agent)),
            await api.create(machine.id, api.body(agent, { agentProof: pending })),
            await api.rotate(machine.id, paired.pairing.id, { agentProof: rotation }),
            await api.update(machine.id, other.pairing.id, { status: 'active' }),
          ]) {
            expectError(response, 409, 'MACHINE_NOT_ACTIVATED');
            expect(response.body.error.details).toEqual({ reason });
          }
          expect((await api.update(machine.id, paired.pairing.id, { status: 'paused' })).body.item.status).toBe('paused');
          expect((await api.revoke(machine.id, paired.pairing.id)).body.item.status).toBe('revoked');
        } finally {
          repair(device.did);
        }
        expect((await api.create(machine.id, api.body(agent, { agentProof: pending }))).status).toBe(201);
      },
    );

    it('a machine whose proof signer is no longer a controller: 409 MACHINE_NOT_ACTIVATED (controller_changed)', async () => {
      const device = machines.identity({ withOperator: true });
      const machine = await machines.register(device, {}, { signer: device.operator });
      mcr.updateMachine(device.did, { operator: newControllerAccount().address });
      const response = await api.requestChallenge(machine.id, api.body(newAgent()));
      expectError(response, 409, 'MACHINE_NOT_ACTIVATED');
      expect(response.body.error.details).toEqual({ reason: 'controller_changed' });
    });

    it('MCR down: 503 PEAQOS_IDENTITY_UNAVAILABLE with Retry-After on challenge, create and rotate; nothing written', async () => {
      const { machine, device } = await api.activeMachine();
      const agent = newAgent();
      const paired = await api.pair(machine, agent);
      const pending = await api.proof(machine.id, agent);
      mcr.behave(device.did, behaviour.status(502));
      try {
        for (const request of [
          () => api.requestChallenge(machine.id, api.body(agent)),
          () => api.create(machine.id, api.body(agent, { agentProof: pending })),
          () => api.rotate(machine.id, paired.pairing.id, { agentProof: pending }),
        ]) {
          const response = await withoutEvents(t, request);
          expectError(response, 503, 'PEAQOS_IDENTITY_UNAVAILABLE');
          expect(response.body.error.details).toEqual({ reason: 'upstream_status', upstreamStatus: 502 });
          expect(response.headers['retry-after']).toBe('5');
        }
      } finally {
        mcr.behave(device.did, null);
      }
      expect((await api.rotate(machine.id, paired.pairing.id, { agentProof: pending })).status).toBe(201);
    });
  });
});

describe('PEAQOS_AGENT_PAIRING_VERIFICATION=optional (§5.3)', () => {
  let api: PairingApi;
  useMachineApp({ env: { PEAQOS_MCR_CACHE_TTL_MS: '0', PEAQOS_AGENT_PAIRING_VERIFICATION: 'optional' } }, (app) => {
    api = new PairingApi(app.t, app.api);
  });

  it('creates without a proof (verification null, a working token); a later rotation with a proof sets verification', async () => {
    const { machine } = await api.activeMachine();
    const agent = newAgent();
    const created = await api.create(machine.id, api.body(agent));
    expect(created.status).toBe(201);
    const pairing = created.body.item;
    expect(pairing).toEqual(expect.objectContaining({ verification: null, hasAuthToken: true, delegationPolicy: DEFAULT_POLICY }));
    expectAccepted(await api.probe(pairing.pairingToken, { machineId: machine.id }), { machine, pairing });

    const unverified = await api.rotate(machine.id, pairing.id, {});
    expect(unverified.status).toBe(201);
    expect(unverified.body.item.verification).toBeNull();

    const challenge = await api.challenge(machine.id, agent);
    const agentProof: AgentProof = {
      challengeId: challenge.challengeId,
      signature: await agent.key.signMessage({ message: challenge.message }),
    };
    const verified = await api.rotate(machine.id, pairing.id, { agentProof });
    expect(verified.status).toBe(201);
    expect(verified.body.item.verification).toEqual(
      expect.objectContaining({ method: 'eip191', signerAddress: agent.key.address, challengeExpiresAt: challenge.expiresAt }),
    );
    // A rotation without a proof keeps the last verification.
    const kept = await api.rotate(machine.id, pairing.id, {});
    expect(kept.body.item.verification).toEqual(verified.body.item.verification);
  });

  it('verifies a proof when one is sent: a bad one is refused, a good one sets verification', async () => {
    const { machine } = await api.activeMachine();
    const agent = newAgent();
    const bad = await api.proof(machine.id, agent, { signer: newControllerAccount() });
    expectAgentProofInvalid(await api.create(machine.id, api.body(agent, { agentProof: bad })), 'signer_mismatch');
    expectAgentProofInvalid(await api.create(machine.id, api.body(agent, { agentProof: DUMMY_PROOF })), 'challenge_not_found');
    const paired = await api.pair(machine, agent);
    expect(paired.pairing.verification).toEqual(expect.objectContaining({ signerAddress: agent.key.address }));
    expectAgentProofInvalid(await api.rotate(machine.id, paired.pairing.id, { agentProof: bad }), 'signer_mismatch');
  });
});

describe('PEAQOS_AGENT_PAIRING_VERIFICATION=disabled (§5.3)', () => {
  let api: PairingApi;
  useMachineApp({ env: { PEAQOS_MCR_CACHE_TTL_MS: '0', PEAQOS_AGENT_PAIRING_VERIFICATION: 'disabled' } }, (app) => {
    api = new PairingApi(app.t, app.api);
  });

  it('ignores agentProof on create and rotate, whatever it holds; verification stays null; the challenge endpoint still works', async () => {
    const { machine } = await api.activeMachine();
    const agent = newAgent();
    const bogus = await api.create(machine.id, api.body(agent, { agentProof: DUMMY_PROOF }));
    expect(bogus.status).toBe(201);
    expect(bogus.body.item.verification).toBeNull();
    expectAccepted(await api.probe(bogus.body.item.pairingToken, { machineId: machine.id }), { machine, pairing: bogus.body.item });

    const bare = await api.create(machine.id, api.body(agent));
    expect(bare.status).toBe(201);

    const good = await api.proof(machine.id, agent);
    const withGood = await api.create(machine.id, api.body(agent, { agentProof: good }));
    expect(withGood.status).toBe(201);
    expect(withGood.body.item.verification).toBeNull();

    const rotated = await api.rotate(machine.id, bogus.body.item.id, { agentProof: { ...DUMMY_PROOF, signature: '0x00' } });
    expect(rotated.status).toBe(201);
    expect(rotated.body.item.verification).toBeNull();
    expect((await api.rotate(machine.id, bogus.body.item.id, {})).status).toBe(201);
  });
});
