import { expectError } from './http-expectations';
import { ISO_MS } from './machine-api';
import { TOKEN_HEADER } from './pairing-api';
import { Json } from './search-api';
import { TestApp, TestResponse } from './test-app';

/** Helpers for the market order e2e suites (§7.5.1–§7.5.3, §7.5.11–§7.5.13). */

export const ORDERS_URL = '/api/v1/market/orders';
export const ORDER_ID = /^ord_[0-9A-HJKMNP-TV-Z]{26}$/;
/** Well-formed, never issued. */
export const UNKNOWN_ORDER_ID = 'ord_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
export const UNKNOWN_SEARCH_ID = 'srch_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
export const UNKNOWN_QUOTE_ID = 'quo_01JD8Y6K3W5T2Q9R7M4N0P1B2C';

/** §7.2 `MarketOrderRecord`: exactly these members. */
export const ORDER_MEMBERS = [
  'id',
  'machineId',
  'agentPairingId',
  'searchId',
  'quoteId',
  'serviceId',
  'skillKey',
  'providerKey',
  'serviceType',
  'operation',
  'executionMode',
  'integrationStatus',
  'status',
  'input',
  'budget',
  'payment',
  'serviceSnapshot',
  'taskId',
  'routeId',
  'runId',
  'outcomeId',
  'handoff',
  'errorMessage',
  'paymentId',
  'deliveredAt',
  'confirmedAt',
  'disputedAt',
  'cancelledAt',
  'cancelReason',
  'dispute',
  'createdAt',
  'updatedAt',
].sort();

/** §7.2: the execution and payment fields, all `null` on a created order (§7.5.2 step 10). */
export const UNSET_ON_CREATE = {
  taskId: null,
  routeId: null,
  runId: null,
  outcomeId: null,
  handoff: null,
  errorMessage: null,
  paymentId: null,
  deliveredAt: null,
  confirmedAt: null,
  disputedAt: null,
  cancelledAt: null,
  cancelReason: null,
  dispute: null,
};

/** 30 days of pairing sessions (PEAQOS_AGENT_PAIRING_SESSION_TTL_MS): the clock moves forward in some tests; tokens must outlive it. */
export const LONG_SESSIONS = { PEAQOS_AGENT_PAIRING_SESSION_TTL_MS: '2592000000' };

/** A pairing as an agent uses it: its machine, its id and its token. */
export type OrderAgent = { machineId: string; pairingId: string; token: string };

type Headers = Record<string, string>;

const tokenHeader = (token: string | undefined): Headers => (token === undefined ? {} : { [TOKEN_HEADER]: token });

/** The order routes of one test app. */
export class OrderApi {
  constructor(readonly t: TestApp) {}

  /** `POST /market/orders`; `token` goes into `x-agent-pairing-token` (none when undefined). */
  create(body: unknown, token?: string, headers: Headers = {}): Promise<TestResponse> {
    return this.t.inject({
      method: 'POST',
      url: ORDERS_URL,
      payload: body as Record<string, unknown>,
      headers: { ...tokenHeader(token), ...headers },
    });
  }

  /** An order by the agent on its machine (`body` completes the request), failing loudly unless it answers 201. */
  async place(agent: OrderAgent, body: Record<string, unknown>): Promise<Json> {
    const response = await this.create({ machineId: agent.machineId, ...body }, agent.token);
    if (response.status !== 201) throw new Error(`order on ${agent.machineId}: ${response.status} ${response.text}`);
    return response.body.item;
  }

  get(orderId: string): Promise<TestResponse> {
    return this.t.inject({ method: 'GET', url: `${ORDERS_URL}/${orderId}` });
  }

  /** `GET /market/orders` with the query verbatim (entries that are undefined are left out). */
  list(query: Record<string, string | undefined>): Promise<TestResponse> {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    return this.t.inject({ method: 'GET', url: `${ORDERS_URL}${params.size ? `?${params}` : ''}` });
  }

  /** `POST /market/orders/:orderId/<action>`; no body unless one is given. */
  act(orderId: string, action: 'cancel' | 'confirm' | 'dispute' | 'execute', token?: string, body?: unknown): Promise<TestResponse> {
    return this.t.inject({
      method: 'POST',
      url: `${ORDERS_URL}/${orderId}/${action}`,
      headers: tokenHeader(token),
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
  }

  /** `execute` (§7.5.10) with `{}` unless a body is given. */
  execute(orderId: string, token?: string, body: unknown = {}): Promise<TestResponse> {
    return this.act(orderId, 'execute', token, body);
  }

  /** `cancel` with `{}` unless a body is given (the request type has only optional members, §7.5.13). */
  cancel(orderId: string, token?: string, body: unknown = {}): Promise<TestResponse> {
    return this.act(orderId, 'cancel', token, body);
  }

  confirm(orderId: string, token?: string, body?: unknown): Promise<TestResponse> {
    return this.act(orderId, 'confirm', token, body);
  }

  dispute(orderId: string, token?: string, body?: unknown): Promise<TestResponse> {
    return this.act(orderId, 'dispute', token, body);
  }

  /** Events of the order's stream, in order. */
  async orderEvents(orderId: string) {
    return (await this.t.storedEvents()).filter((e) => e.streamId === `market-order-${orderId}`);
  }

  /** The `agent_pairing.order_registered` events of the pairing's stream, in order. */
  async registrations(pairingId: string) {
    return (await this.t.storedEvents()).filter(
      (e) => e.streamId === `agent-pairing-${pairingId}` && e.type === 'agent_pairing.order_registered',
    );
  }

  /** Every order of the query, following `nextCursor` (bounded). */
  async all(query: Record<string, string | undefined>): Promise<Json[]> {
    const items: Json[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 50; page++) {
      const response = await this.list({ ...query, cursor });
      expect(response.status).toBe(200);
      items.push(...response.body.items);
      cursor = response.body.nextCursor;
      if (cursor === undefined) return items;
    }
    throw new Error('more than 50 pages');
  }
}

let nextIdentity = 1;

/**
 * Machines and pairings written without proofs: for apps with `PEAQOS_MACHINE_IDENTITY_VERIFICATION` and
 * `PEAQOS_AGENT_PAIRING_VERIFICATION` set to `disabled`.
 */
export class UnverifiedFixtures {
  constructor(readonly t: TestApp) {}

  /** An active machine (or with `overrides.status`), failing loudly unless it answers 201. */
  async machine(overrides: Record<string, unknown> = {}): Promise<string> {
    const response = await this.t.inject({
      method: 'POST',
      url: '/api/v1/machines',
      payload: {
        displayName: 'Order machine',
        ownerId: 'owner-orders',
        identityRef: `peaqos:machine:${800_000 + nextIdentity++}`,
        machineType: 'edge-node',
        runtimeProfile: 'linux-docker',
        ...overrides,
      },
    });
    if (response.status !== 201) throw new Error(`machine: ${response.status} ${response.text}`);
    return response.body.item.id as string;
  }

  /** A pairing on the machine with the given delegation policy and its first token. */
  async pair(machineId: string, delegationPolicy: Record<string, unknown> = {}): Promise<OrderAgent> {
    const response = await this.t.inject({
      method: 'POST',
      url: `/api/v1/machines/${machineId}/agent-pairings`,
      payload: {
        agentAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
        agentProvider: 'anthropic',
        agentRole: 'buyer',
        delegationPolicy,
      },
    });
    if (response.status !== 201) throw new Error(`pairing on ${machineId}: ${response.status} ${response.text}`);
    return { machineId, pairingId: response.body.item.id, token: response.body.item.pairingToken };
  }

  /** A fresh machine and one pairing on it. */
  async agent(delegationPolicy: Record<string, unknown> = {}, machine: Record<string, unknown> = {}): Promise<OrderAgent> {
    return this.pair(await this.machine(machine), delegationPolicy);
  }

  /** `PATCH /machines/:machineId`, failing loudly unless it answers 200. */
  async patchMachine(machineId: string, body: Record<string, unknown>): Promise<void> {
    const response = await this.t.inject({ method: 'PATCH', url: `/api/v1/machines/${machineId}`, payload: body });
    if (response.status !== 200) throw new Error(`patch ${machineId}: ${response.status} ${response.text}`);
  }

  /** `PATCH …/agent-pairings/:pairingId` with a status, failing loudly unless it answers 200. */
  async setPairingStatus(agent: OrderAgent, status: 'active' | 'paused'): Promise<void> {
    const response = await this.t.inject({
      method: 'PATCH',
      url: `/api/v1/machines/${agent.machineId}/agent-pairings/${agent.pairingId}`,
      payload: { status },
    });
    if (response.status !== 200) throw new Error(`pairing status ${agent.pairingId}: ${response.status} ${response.text}`);
  }

  /** `POST /policies`, failing loudly unless it answers 201; returns the policy id. */
  async policy(rules: Record<string, unknown>): Promise<string> {
    const response = await this.t.inject({ method: 'POST', url: '/api/v1/policies', payload: { name: 'Order policy', rules } });
    if (response.status !== 201) throw new Error(`policy: ${response.status} ${response.text}`);
    return response.body.item.id as string;
  }
}

/** §7.2: exactly the documented members, an `ord_` id, ISO timestamps, `budget` and `payment` in shape. */
export function expectOrderShape(item: Json): void {
  expect(Object.keys(item).sort()).toEqual(ORDER_MEMBERS);
  expect(item.id).toMatch(ORDER_ID);
  expect(item.createdAt).toMatch(ISO_MS);
  expect(item.updatedAt).toMatch(ISO_MS);
  if (item.budget !== null) expect(Object.keys(item.budget).sort()).toEqual(['amount', 'currency']);
  expect(item.payment).toEqual(
    expect.objectContaining({ defaultRail: expect.any(String), required: expect.any(Boolean), supportedRails: expect.any(Array) }),
  );
  expect(item.serviceSnapshot).not.toHaveProperty('machineContext');
}

/** 403 AGENT_POLICY_DENIED with exactly `details`. */
export function expectPolicyDenied(response: TestResponse, details: Record<string, unknown>): void {
  expectError(response, 403, 'AGENT_POLICY_DENIED');
  expect(response.body.error.details).toEqual(details);
}

/** 404 NOT_FOUND with exactly `{ entityType, id }`. */
export function expectNotFound(response: TestResponse, entityType: string, id: string): void {
  expectError(response, 404, 'NOT_FOUND');
  expect(response.body.error.details).toEqual({ entityType, id });
}

/** Exact sum of decimal strings (§0.6), as a normalised decimal string. */
export function sumDecimals(values: string[]): string {
  const SCALE = 36;
  const scaled = values.reduce((sum, value) => {
    const [whole, fraction = ''] = value.split('.');
    return sum + BigInt(whole + fraction.padEnd(SCALE, '0'));
  }, 0n);
  const digits = scaled.toString().padStart(SCALE + 1, '0');
  const whole = digits.slice(0, -SCALE);
  const fraction = digits.slice(-SCALE).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

/** Compares two decimal strings exactly: negative, zero or positive. */
export function compareDecimalStrings(a: string, b: string): number {
  const [x, y] = [sumDecimals([a]), sumDecimals([b])];
  const [xw, xf = ''] = x.split('.');
  const [yw, yf = ''] = y.split('.');
  const width = Math.max(xf.length, yf.length);
  const diff = BigInt(xw + xf.padEnd(width, '0')) - BigInt(yw + yf.padEnd(width, '0'));
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}
