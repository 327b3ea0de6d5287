import { AgentPairing } from '../../src/domain/pairing/agent-pairing.decider';
import { AgentPairingChallenge } from '../../src/domain/pairing/pairing-challenge.decider';
import { SessionClaims } from '../../src/domain/pairing/session-auth';
import { createHash, createHmac } from 'node:crypto';
import { PrivateKeyAccount } from 'viem/accounts';
import { EventStore, EventStoreUnavailableError } from '../../src/application/ports/event-store.port';
import type { OpenMarketOrders } from '../../src/application/ports/open-market-orders.port';
import { expectError, UUID_V4 } from './http-expectations';
import { Identity, ISO_MS, MachineApi, MachineItem } from './machine-api';
import { newControllerAccount } from './mcr-server';
import { TEST_SESSION_SECRET, TestApp, TestResponse } from './test-app';

/** Helpers for the agent pairing e2e suites (§5): real agent keys, real EIP-191 proofs, the seven pairing routes and the probe agent endpoint. */

export const PAIRING_ID = /^pair_[0-9A-HJKMNP-TV-Z]{26}$/;
export const SESSION_ID = /^sess_[0-9A-HJKMNP-TV-Z]{26}$/;
export const CHALLENGE_ID = /^chl_[0-9A-HJKMNP-TV-Z]{26}$/;
/** Well-formed, never issued. */
export const UNKNOWN_PAIRING_ID = 'pair_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
/** The test-only agent endpoint (test/support/probe), guarded like `POST /market/search` (§1.2). */
export const PROBE_AGENT_URL = '/api/v1/probe/agent-action';
export const TOKEN_HEADER = 'x-agent-pairing-token';

/** §5.6 test vector: the hash of the default (all-empty) delegation policy. */
export const DEFAULT_POLICY_HASH = '9b31caa298aa2cb3d2276c7de05d6d1b7f1cd394a83077589c96152a5891ca48';
/** §5.6 second test vector and the policy input that yields it. */
export const VECTOR_POLICY_INPUT = {
  allowedSkillKeys: ['oracle.price-feed'],
  deniedServiceIds: ['svc.bad'],
  perTransactionLimit: 5,
  dailySpendLimit: 25.5,
  currency: 'USDT',
};
export const VECTOR_POLICY_HASH = '629db099a54f6c0c52c0e4b5db5d0c9c61e62ae73fbdd93afd37b0d91c6e2f25';

export const DEFAULT_POLICY = {
  allowedSkillKeys: [],
  deniedSkillKeys: [],
  allowedServiceIds: [],
  deniedServiceIds: [],
  perTransactionLimit: null,
  dailySpendLimit: null,
  currency: null,
};

/** §5.1 `AgentPairing`: exactly these members (plus `pairingToken` on create and rotate responses). */
export const PAIRING_MEMBERS = [
  'id',
  'machineId',
  'status',
  'agentAddress',
  'agentDid',
  'agentProvider',
  'agentRole',
  'description',
  'verification',
  'delegationPolicy',
  'hasAuthToken',
  'tokenLastFour',
  'sessionId',
  'sessionTokenId',
  'sessionIssuedAt',
  'sessionExpiresAt',
  'createdAt',
  'updatedAt',
].sort();

/** §1.2: the nine claims, no others. */
export const CLAIM_NAMES = [
  'machineId',
  'pairingId',
  'sessionId',
  'agentAddress',
  'agentDid',
  'delegationPolicyHash',
  'iat',
  'exp',
  'jti',
].sort();

/** §5.1 `AgentPairing` as responses carry it (`pairingToken` only on create and rotate). */
export type PairingItem = AgentPairing & { pairingToken?: string };

export type PairingChallenge = AgentPairingChallenge;

export type AgentProof = { challengeId: string; signature: string };

export type Claims = SessionClaims;

export type Agent = { key: PrivateKeyAccount; provider: string; role: string };

/** A paired agent: the pairing as created (with its token) and the agent behind it. */
export type Paired = { machine: MachineItem; agent: Agent; pairing: PairingItem; token: string; proof: AgentProof };

type Headers = Record<string, string>;

export function newAgent(provider = 'anthropic', role = 'buyer'): Agent {
  return { key: newControllerAccount(), provider, role };
}

export const pairingsUrl = (machineId: string) => `/api/v1/machines/${machineId}/agent-pairings`;
export const pairingUrl = (machineId: string, pairingId: string) => `${pairingsUrl(machineId)}/${pairingId}`;

/** The pairing routes of one test app, on top of the machine helpers (machines are registered through real proofs). */
export class PairingApi {
  constructor(
    readonly t: TestApp,
    readonly machines: MachineApi,
  ) {}

  /** A fresh bonded device registered as an active, verified machine. */
  async activeMachine(overrides: Record<string, unknown> = {}): Promise<{ machine: MachineItem; device: Identity }> {
    const device = this.machines.identity();
    const machine = await this.machines.register(device, overrides);
    return { machine, device };
  }

  /** `POST …/agent-pairings/challenges` (raw). */
  requestChallenge(machineId: string, body: unknown, headers: Headers = {}): Promise<TestResponse> {
    return this.t.inject({
      method: 'POST',
      url: `${pairingsUrl(machineId)}/challenges`,
      payload: body as Record<string, unknown>,
      headers,
    });
  }

  /** A challenge for `agent` (or `overrides`), failing loudly unless it answers 201. */
  async challenge(machineId: string, agent: Agent, overrides: Record<string, unknown> = {}): Promise<PairingChallenge> {
    const response = await this.requestChallenge(machineId, {
      agentAddress: agent.key.address,
      agentProvider: agent.provider,
      agentRole: agent.role,
      ...overrides,
    });
    if (response.status !== 201) throw new Error(`pairing challenge for ${machineId}: ${response.status} ${response.text}`);
    return response.body.item as PairingChallenge;
  }

  /** A fresh challenge, signed by `signer` (default the agent's key). */
  async proof(machineId: string, agent: Agent, options: { signer?: PrivateKeyAccount; challenge?: Record<string, unknown> } = {}) {
    const challenge = await this.challenge(machineId, agent, options.challenge);
    return {
      challengeId: challenge.challengeId,
      signature: await (options.signer ?? agent.key).signMessage({ message: challenge.message }),
    };
  }

  /** A `CreateAgentPairingRequest` for `agent`, without proof. */
  body(agent: Agent, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return { agentAddress: agent.key.address, agentProvider: agent.provider, agentRole: agent.role, ...overrides };
  }

  create(machineId: string, body: unknown, headers: Headers = {}): Promise<TestResponse> {
    return this.t.inject({ method: 'POST', url: pairingsUrl(machineId), payload: body as Record<string, unknown>, headers });
  }

  /** Challenge → sign → create; fails loudly unless it answers 201. */
  async pair(machine: MachineItem, agent: Agent = newAgent(), overrides: Record<string, unknown> = {}): Promise<Paired> {
    const proof = await this.proof(machine.id, agent);
    const response = await this.create(machine.id, this.body(agent, { ...overrides, agentProof: proof }));
    if (response.status !== 201) throw new Error(`pair on ${machine.id}: ${response.status} ${response.text}`);
    const pairing = response.body.item as PairingItem;
    return { machine, agent, pairing, token: pairing.pairingToken!, proof };
  }

  rotate(machineId: string, pairingId: string, body: unknown = {}, headers: Headers = {}): Promise<TestResponse> {
    return this.t.inject({
      method: 'POST',
      url: `${pairingUrl(machineId, pairingId)}/sessions`,
      payload: body as Record<string, unknown>,
      headers,
    });
  }

  /** A fresh challenge signed by the agent, then a rotation with it. */
  async rotateWithProof(paired: Paired): Promise<TestResponse> {
    const agentProof = await this.proof(paired.machine.id, paired.agent);
    return this.rotate(paired.machine.id, paired.pairing.id, { agentProof });
  }

  update(machineId: string, pairingId: string, body: unknown, headers: Headers = {}): Promise<TestResponse> {
    return this.t.inject({ method: 'PATCH', url: pairingUrl(machineId, pairingId), payload: body as Record<string, unknown>, headers });
  }

  /** `POST …/revoke`, no body unless given; `query` verbatim (e.g. `force=true`). */
  revoke(machineId: string, pairingId: string, query = '', payload?: unknown): Promise<TestResponse> {
    return this.t.inject({
      method: 'POST',
      url: `${pairingUrl(machineId, pairingId)}/revoke${query ? `?${query}` : ''}`,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  }

  read(machineId: string, pairingId: string, headers: Headers = {}): Promise<TestResponse> {
    return this.t.inject({ method: 'GET', url: pairingUrl(machineId, pairingId), headers });
  }

  list(machineId: string, query: Record<string, string | undefined> = {}): Promise<TestResponse> {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    return this.t.inject({ method: 'GET', url: `${pairingsUrl(machineId)}${params.size ? `?${params}` : ''}` });
  }

  /** The probe agent endpoint with `token` in `x-agent-pairing-token` (none when undefined). */
  probe(token: string | undefined, body: Record<string, unknown>): Promise<TestResponse> {
    return this.t.inject({
      method: 'POST',
      url: PROBE_AGENT_URL,
      payload: body,
      headers: token === undefined ? {} : { [TOKEN_HEADER]: token },
    });
  }

  /** The probe acting for the paired machine with the given token (default the pairing's first token). */
  use(paired: Paired, token: string = paired.token): Promise<TestResponse> {
    return this.probe(token, { machineId: paired.machine.id });
  }

  /** Events of the pairing's audit stream, in order. */
  async pairingEvents(pairingId: string) {
    return (await this.t.storedEvents()).filter((e) => e.streamId === `agent-pairing-${pairingId}`);
  }

  async challengeEvents(challengeId: string) {
    return (await this.t.storedEvents()).filter((e) => e.streamId === `agent-pairing-challenge-${challengeId}`);
  }
}

/** 200 from the probe, acting as the token's pairing (§1.2 audit actor). */
export function expectAccepted(response: TestResponse, paired: Pick<Paired, 'machine' | 'pairing'>): void {
  expect({ status: response.status, body: response.body }).toEqual({
    status: 200,
    body: {
      item: {
        machineId: paired.machine.id,
        pairingId: paired.pairing.id,
        actor: { type: 'agent-pairing', id: paired.pairing.id },
      },
    },
  });
}

/** 401 AGENT_AUTH_INVALID with exactly `{ reason }`. */
export function expectAuthInvalid(response: TestResponse, reason: string): void {
  expectError(response, 401, 'AGENT_AUTH_INVALID');
  expect(response.body.error.details).toEqual({ reason });
}

/** 403 AGENT_PAIRING_INACTIVE with exactly `{ pairingId, status }`. */
export function expectInactive(response: TestResponse, pairingId: string, status: string): void {
  expectError(response, 403, 'AGENT_PAIRING_INACTIVE');
  expect(response.body.error.details).toEqual({ pairingId, status });
}

/** 403 AGENT_PAIRING_PROOF_INVALID with `details.reason` (other detail members are allowed). */
export function expectAgentProofInvalid(response: TestResponse, reason: string): void {
  expectError(response, 403, 'AGENT_PAIRING_PROOF_INVALID');
  expect(response.body.error.details).toEqual(expect.objectContaining({ reason }));
}

/** §5.1: a pairing with exactly the documented members; `pairingToken` only when `withToken`. */
export function expectPairingShape(item: PairingItem, withToken: boolean): void {
  const members = withToken ? [...PAIRING_MEMBERS, 'pairingToken'].sort() : PAIRING_MEMBERS;
  expect(Object.keys(item).sort()).toEqual(members);
  expect(item.id).toMatch(PAIRING_ID);
  expect(item.createdAt).toMatch(ISO_MS);
  expect(item.updatedAt).toMatch(ISO_MS);
  expect(Object.keys(item.delegationPolicy).sort()).toEqual(Object.keys(DEFAULT_POLICY).sort());
  if (item.hasAuthToken) {
    expect(item.sessionId).toMatch(SESSION_ID);
    expect(item.sessionTokenId).toMatch(UUID_V4);
    expect(item.sessionIssuedAt).toMatch(/\.000Z$/);
    expect(item.sessionExpiresAt).toMatch(/\.000Z$/);
    expect(item.tokenLastFour).toMatch(/^[A-Za-z0-9_-]{4}$/);
  } else {
    expect([item.tokenLastFour, item.sessionId, item.sessionTokenId, item.sessionIssuedAt, item.sessionExpiresAt]).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
  }
}

/** The pairing as a GET returns it: the create/rotate response without `pairingToken`. */
export function withoutToken(item: PairingItem): PairingItem {
  const { pairingToken: _token, ...rest } = item;
  return rest;
}

/** The three segments of a compact JWS, decoded. */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Claims; signature: string } {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
    signature,
  };
}

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');

/** A compact JWS assembled by hand: `header` and `claims` as given, signed with HMAC-SHA-256 under `secret` (or the given signature). */
export function handMadeJwt(header: unknown, claims: unknown, options: { secret?: string; signature?: string } = {}): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature =
    options.signature ??
    createHmac('sha256', options.secret ?? TEST_SESSION_SECRET)
      .update(input)
      .digest('base64url');
  return `${input}.${signature}`;
}

/** §5.6: SHA-256 hex of the canonical JSON of a normalised (flat) delegation policy. */
export function policyHash(policy: Record<string, unknown>): string {
  const canonical = `{${Object.keys(policy)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${JSON.stringify(policy[key])}`)
    .join(',')}}`;
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** §5.4.1: the nonce the server must have computed for the challenge (the test app's secret is known). */
export function expectedNonce(challenge: PairingChallenge): string {
  const input = [
    'agent-pairing',
    challenge.challengeId,
    challenge.machineId,
    challenge.agentAddress,
    challenge.issuedAt,
    challenge.expiresAt,
  ].join('\n');
  return createHmac('sha256', TEST_SESSION_SECRET).update(input, 'utf8').digest('hex');
}

/** §5.4.2: the exact message of a challenge for the machine's identityRef. */
export function expectedMessage(challenge: PairingChallenge, identityRef: string): string {
  return [
    'peaqOS Machine Markets signature request',
    'Service: peaqos-machine-markets',
    'Action: agent-pairing-proof',
    `Machine ID: ${challenge.machineId}`,
    `Machine Identity Ref: ${identityRef}`,
    `Agent Address: ${challenge.agentAddress}`,
    `Agent DID: ${challenge.agentDid}`,
    `Agent Provider: ${challenge.agentProvider}`,
    `Agent Role: ${challenge.agentRole}`,
    `Challenge ID: ${challenge.challengeId}`,
    `Nonce: ${challenge.nonce}`,
    `Issued At: ${challenge.issuedAt}`,
    `Expires At: ${challenge.expiresAt}`,
  ].join('\n');
}

/** The address with the case of its first hex letter flipped: same address, broken EIP-55 checksum. */
export function breakChecksum(address: string): string {
  const index = address.slice(2).search(/[a-fA-F]/) + 2;
  const c = address[index];
  return address.slice(0, index) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + address.slice(index + 1);
}

/** Open orders per machine and per pairing, changeable by the tests (orders come with a later issue). */
export class OpenOrdersDouble implements OpenMarketOrders {
  readonly byMachine = new Map<string, string[]>();
  readonly byPairing = new Map<string, { orderIds: string[]; executingOrderIds: string[] }>();
  readonly pairingQueries: string[] = [];

  async openOrdersOf(machineId: string): Promise<{ orderIds: string[]; count: number }> {
    const orderIds = this.byMachine.get(machineId) ?? [];
    return { orderIds: [...orderIds], count: orderIds.length };
  }

  async openOrdersOfPairing(pairingId: string): Promise<{ orderIds: string[]; count: number; executingOrderIds: string[] }> {
    this.pairingQueries.push(pairingId);
    const open = this.byPairing.get(pairingId) ?? { orderIds: [], executingOrderIds: [] };
    return { orderIds: [...open.orderIds], count: open.orderIds.length, executingOrderIds: [...open.executingOrderIds] };
  }
}

/**
 * An event store whose reads and appends of pairing and pairing-challenge streams (`agent-pairing…`)
 * throw EventStoreUnavailableError while `outage.down` is set; everything else keeps working.
 */
export function pairingOutageStore(store: EventStore, outage: { down: boolean }): EventStore {
  const failing = new Set<PropertyKey>(['append', 'readStream']);
  return new Proxy(store, {
    get(target, property, receiver) {
      const original = Reflect.get(target, property, receiver);
      if (!failing.has(property) || typeof original !== 'function') return original;
      return (streamId: string, ...rest: unknown[]) => {
        if (outage.down && streamId.startsWith('agent-pairing')) {
          return Promise.reject(new EventStoreUnavailableError(`test outage: ${String(property)} ${streamId}`));
        }
        return (original as (...args: unknown[]) => unknown).call(target, streamId, ...rest);
      };
    },
  });
}
