import { Provider } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsableRuntimeEndpoints } from '../../src/application/ports/runtime-endpoints.port';
import { Clock } from '../../src/application/ports/clock.port';
import { writeCatalogFile } from './catalog-fixture';
import { expectError } from './http-expectations';
import { MachineApi } from './machine-api';
import { McrTestServer } from './mcr-server';
import { Paired, PairingApi, TOKEN_HEADER } from './pairing-api';
import { startTestApp, TestApp, TestResponse } from './test-app';

/** Helpers for the market search e2e suites (§6.4). */

export const SEARCH_URL = '/api/v1/market/search';
export const SEARCH_ID = /^srch_[0-9A-HJKMNP-TV-Z]{26}$/;
export const QUOTE_ID = /^quo_[0-9A-HJKMNP-TV-Z]{26}$/;

/** §6.4.2 `MarketSearchResult`: exactly these members. */
export const RESULT_MEMBERS = ['searchId', 'machineId', 'agentPairingId', 'createdAt', 'expiresAt', 'quotes', 'excluded'].sort();

/** §6.4.2 `MarketQuote`: exactly these members. */
export const QUOTE_MEMBERS = [
  'id',
  'serviceId',
  'skillKey',
  'providerKey',
  'executionMode',
  'integrationStatus',
  'operation',
  'score',
  'reasons',
  'pricing',
  'payment',
  'searchId',
  'machineId',
  'serviceType',
  'rank',
  'region',
  'handoff',
  'createdAt',
  'expiresAt',
].sort();

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted on, not typed
export type Json = any;

type Headers = Record<string, string>;

/** §6.4.4 reason templates that recur in every ranking. */
export const NATIVE = 'native execution (+15)';
export const READY = 'integration ready (+15)';
export const GLOBAL = 'global service (+10)';
export const DOCS_ONLY = 'integration status docs-only cannot be ordered';

/** `[serviceId, score, reasons]` per quote, in rank order: a whole ranking in one `toEqual`. */
export const ranking = (item: Json): Json[] => item.quotes.map((q: Json) => [q.serviceId, q.score, q.reasons]);
export const serviceIds = (item: Json): string[] => item.quotes.map((q: Json) => q.serviceId);

/** `POST /market/search` of one test app. */
export class SearchApi {
  constructor(readonly t: TestApp) {}

  /** The raw search; `token` goes into `x-agent-pairing-token` (none when undefined). */
  search(body: unknown, token?: string, headers: Headers = {}): Promise<TestResponse> {
    return this.t.inject({
      method: 'POST',
      url: SEARCH_URL,
      payload: body as Record<string, unknown>,
      headers: { ...(token === undefined ? {} : { [TOKEN_HEADER]: token }), ...headers },
    });
  }

  /** A search as the paired agent (its machine and token), failing loudly unless it answers 201. */
  async as(paired: Paired, body: Record<string, unknown> = {}, token = paired.token): Promise<Json> {
    const response = await this.search({ machineId: paired.machine.id, ...body }, token);
    if (response.status !== 201) throw new Error(`search on ${paired.machine.id}: ${response.status} ${response.text}`);
    return response.body.item;
  }

  /** The stored `market_search.completed` events, oldest first. */
  async searchEvents() {
    return (await this.t.storedEvents()).filter((e) => e.type === 'market_search.completed');
  }
}

/** Runs `request`, which must be refused, and asserts it appended no (non-internal) event at all. */
export async function refusedWithoutEvents(t: TestApp, request: () => Promise<TestResponse>): Promise<TestResponse> {
  const before = await t.storedEvents();
  const response = await request();
  expect(response.status).toBeGreaterThanOrEqual(400);
  const after = await t.storedEvents();
  expect(after.slice(before.length).map((e) => `${e.type} ${e.streamId}`)).toEqual([]);
  return response;
}

/**
 * 400 VALIDATION_ERROR with an entry at body pointer `pointer` (or below it), and `details.reason` when
 * given.
 */
export function expectBodyIssue(response: TestResponse, pointer: string, reason?: string): void {
  expectError(response, 400, 'VALIDATION_ERROR');
  const errors: Array<{ location: string; path: string; message: string }> = response.body.error.details?.errors ?? [];
  expect(errors.length).toBeGreaterThan(0);
  const hit = errors.some((e) => e.location === 'body' && (e.path === pointer || e.path.startsWith(`${pointer}/`)));
  if (!hit) throw new Error(`no body error at ${pointer}: ${JSON.stringify(errors)}`);
  if (reason !== undefined) expect(response.body.error.details.reason).toBe(reason);
}

/** Usable runtime endpoints per machine (the runtime-endpoints feature answers this port later). */
export class RuntimeEndpointsDouble implements UsableRuntimeEndpoints {
  readonly byMachine = new Map<string, Set<string>>();

  providerKeysOf(machineId: string): Promise<ReadonlySet<string>> {
    return Promise.resolve(new Set(this.byMachine.get(machineId) ?? []));
  }
}

export type SearchApp = { t: TestApp; mcr: McrTestServer; machines: MachineApi; pairings: PairingApi; search: SearchApi };

export type SearchAppOptions = {
  env?: Record<string, string>;
  clock?: Clock;
  /** A catalogue file to serve (written to a temp dir and named in PEAQOS_CATALOG_PATH); default the shipped one. */
  catalog?: unknown;
  providers?: Provider[];
};

/**
 * For the enclosing describe: an MCR test server on 127.0.0.1, the catalogue file when one is given,
 * and an app wired to both (no MCR cache, so MCR changes show at once); all stopped and removed after
 * the describe.
 */
export function useSearchApp(options: SearchAppOptions, bind: (app: SearchApp) => void): void {
  let mcr: McrTestServer | undefined;
  let t: TestApp | undefined;
  let catalogDir: string | undefined;
  beforeAll(async () => {
    mcr = await new McrTestServer().start();
    const env: Record<string, string> = { PEAQOS_MCR_API_URL: mcr.url, PEAQOS_MCR_CACHE_TTL_MS: '0', ...options.env };
    if (options.catalog !== undefined) {
      catalogDir = mkdtempSync(join(tmpdir(), 'peaqos-search-catalog-'));
      env.PEAQOS_CATALOG_PATH = writeCatalogFile(catalogDir, options.catalog);
    }
    t = await startTestApp({ clock: options.clock, env, providers: options.providers });
    const machines = new MachineApi(t, mcr);
    bind({ t, mcr, machines, pairings: new PairingApi(t, machines), search: new SearchApi(t) });
  });
  afterAll(async () => {
    await t?.close();
    await mcr?.stop();
    if (catalogDir) rmSync(catalogDir, { recursive: true, force: true });
  });
}
