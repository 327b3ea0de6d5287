/**
 * Market search benchmark (`npm run bench:search`).
 *
 * Phase A — the §6.4.4 algorithm (`searchServices`, the whole ranking of one search) over synthetic
 * catalogues of 100, 10,000 and 100,000 services (loaded through the real catalogue loader, so the
 * service objects are those the service ranks), cycling through request shapes from broad (no scope,
 * every service scored or excluded) to narrow (one service type, operation, region, budget).
 * Reports median, p99 and throughput per size and the cost per service (linearity).
 *
 * Phase B — end to end: `POST /api/v1/market/search` through the whole HTTP stack (token guard,
 * validation, gates, ranking, the `market_search.completed` append to a real SQLite file), against a
 * catalogue file of the same synthetic services, with a paired agent's token.
 *
 * Environment: BENCH_SEARCHES=2000 measured searches per size (after 200 warm-up searches);
 * BENCH_SIZES=100,10000,100000; BENCH_E2E_SEARCHES=300; BENCH_E2E_SIZES=100,10000.
 *
 * Results: a Markdown table on stdout and bench/results/search.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/app-config';
import { createApp } from '../src/http/app-factory';
import { JsonLogger, logLevels } from '../src/infrastructure/logging/json-logger';
import { normaliseDelegationPolicy } from '../src/domain/pairing/delegation-policy';
import { SearchContext, SearchCriteria, searchServices } from '../src/domain/search/market-search';
import { readCatalog } from '../src/infrastructure/catalog/loaded-catalog';
import { syntheticCatalogFile } from './search-catalog';

const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 2000);
const WARMUP = 200;
const SIZES = (process.env.BENCH_SIZES ?? '100,10000,100000').split(',').map(Number);
const E2E_SEARCHES = Number(process.env.BENCH_E2E_SEARCHES ?? 300);
const E2E_SIZES = (process.env.BENCH_E2E_SIZES ?? '100,10000').split(',').map(Number);

/** Request shapes a paired agent sends, from the broadest to the narrowest. */
const REQUESTS: SearchCriteria[] = [
  {},
  { serviceType: 'compute.marketplace' },
  { serviceType: 'oracle.price-feed', operation: 'query', region: 'eu-west', budget: { amount: 1, maxAmount: 2, currency: 'USDT' } },
  { requirements: { capabilities: ['gpu'] }, preferences: { nativeOnly: true, preferredProviderKeys: ['provider-7'] }, maxResults: 25 },
  { skillKey: 'storage.object', region: 'us-east', budget: { maxAmount: 0.5 } },
  { operation: 'stream', preferences: { allowExternalHandoff: false }, maxResults: 50 },
];

const CONTEXT: SearchContext = {
  delegationPolicy: normaliseDelegationPolicy({
    deniedServiceIds: ['svc-000042'],
    perTransactionLimit: 4,
    dailySpendLimit: 20,
    currency: 'USDT',
  }),
  spentToday: '12.5',
  day: '2026-11-23',
  machinePolicyReasons: () => [],
  usableRuntimeProviderKeys: new Set(['provider-3', 'provider-11']),
  suppliedCredentialKeys: new Set(['provider-5']),
};

type Row = { services: number; searches: number; medianMs: number; p99Ms: number; perSecond: number; nsPerService: number };

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The services exactly as the service holds them: the synthetic file through the real catalogue loader. */
function loadedServices(size: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peaqos-bench-catalog-'));
  try {
    const file = path.join(dir, 'catalog.json');
    fs.writeFileSync(file, JSON.stringify(syntheticCatalogFile(size)));
    return readCatalog(file).services();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function measure(size: number): Row {
  const services = loadedServices(size);
  for (let i = 0; i < WARMUP; i++) searchServices(services, REQUESTS[i % REQUESTS.length], CONTEXT);
  global.gc?.();
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < SEARCHES; i++) {
    const t0 = performance.now();
    searchServices(services, REQUESTS[i % REQUESTS.length], CONTEXT);
    samples.push(performance.now() - t0);
  }
  const elapsed = performance.now() - started;
  samples.sort((a, b) => a - b);
  const median = quantile(samples, 0.5);
  return {
    services: size,
    searches: SEARCHES,
    medianMs: round(median),
    p99Ms: round(quantile(samples, 0.99)),
    perSecond: Math.round((SEARCHES / elapsed) * 1000),
    nsPerService: Math.round((median * 1e6) / size),
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

type E2eRow = { services: number; searches: number; medianMs: number; p99Ms: number; perSecond: number; eventBytesMedian: number };

/** Phase B: one app on a temp directory, one machine, one pairing, `E2E_SEARCHES` searches over HTTP. */
async function measureEndToEnd(size: number): Promise<E2eRow> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peaqos-bench-search-'));
  try {
    const catalogPath = path.join(dir, 'catalog.json');
    fs.writeFileSync(catalogPath, JSON.stringify(syntheticCatalogFile(size)));
    const loaded = loadConfig(
      {
        PEAQOS_SQLITE_PATH: path.join(dir, 'events.db'),
        PEAQOS_READ_MODEL_PATH: path.join(dir, 'read-model.db'),
        PEAQOS_AGENT_PAIRING_SESSION_SECRET: 'bench-session-secret-0123456789abcdef-0123456789',
        PEAQOS_CATALOG_PATH: catalogPath,
        PEAQOS_MACHINE_IDENTITY_VERIFICATION: 'disabled',
        PEAQOS_AGENT_PAIRING_VERIFICATION: 'disabled',
      },
      dir,
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const app = await createApp({ config: loaded.config, logger: new JsonLogger(logLevels('silent')) });
    try {
      const post = async (url: string, payload: object, headers: Record<string, string> = {}) => {
        const response = await app.inject({ method: 'POST', url, payload, headers });
        if (response.statusCode !== 201) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
        return JSON.parse(response.body) as { item: Record<string, unknown> };
      };
      const machine = await post('/api/v1/machines', {
        displayName: 'Bench machine',
        ownerId: 'bench',
        identityRef: 'peaqos:machine:1',
        machineType: 'edge-node',
        runtimeProfile: 'linux-docker',
      });
      const machineId = machine.item.id as string;
      const pairing = await post(`/api/v1/machines/${machineId}/agent-pairings`, {
        agentAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
        agentProvider: 'bench',
        agentRole: 'buyer',
        delegationPolicy: { deniedServiceIds: ['svc-000042'], perTransactionLimit: 4, dailySpendLimit: 20, currency: 'USDT' },
      });
      const headers = { 'x-agent-pairing-token': pairing.item.pairingToken as string };
      const search = (i: number) => post('/api/v1/market/search', { machineId, ...REQUESTS[i % REQUESTS.length] }, headers);
      for (let i = 0; i < 30; i++) await search(i);
      global.gc?.();
      const samples: number[] = [];
      const sizes: number[] = [];
      const started = performance.now();
      for (let i = 0; i < E2E_SEARCHES; i++) {
        const t0 = performance.now();
        const result = await search(i);
        samples.push(performance.now() - t0);
        sizes.push(JSON.stringify(result.item).length);
      }
      const elapsed = performance.now() - started;
      samples.sort((a, b) => a - b);
      sizes.sort((a, b) => a - b);
      return {
        services: size,
        searches: E2E_SEARCHES,
        medianMs: round(quantile(samples, 0.5)),
        p99Ms: round(quantile(samples, 0.99)),
        perSecond: Math.round((E2E_SEARCHES / elapsed) * 1000),
        eventBytesMedian: quantile(sizes, 0.5),
      };
    } finally {
      await app.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows = SIZES.map(measure);
  console.log('Phase A — ranking (searchServices)');
  console.log('| services | median | p99 | searches/s | median ns per service |');
  console.log('| --: | --: | --: | --: | --: |');
  for (const r of rows)
    console.log(
      `| ${r.services.toLocaleString('en')} | ${r.medianMs} ms | ${r.p99Ms} ms | ${r.perSecond.toLocaleString('en')} | ${r.nsPerService} |`,
    );
  const e2e: E2eRow[] = [];
  for (const size of E2E_SIZES) e2e.push(await measureEndToEnd(size));
  console.log('\nPhase B — POST /api/v1/market/search end to end (HTTP stack, SQLite append)');
  console.log('| services | median | p99 | searches/s | median result size |');
  console.log('| --: | --: | --: | --: | --: |');
  for (const r of e2e) {
    console.log(
      `| ${r.services.toLocaleString('en')} | ${r.medianMs} ms | ${r.p99Ms} ms | ${r.perSecond.toLocaleString('en')} | ${(r.eventBytesMedian / 1024).toFixed(1)} KiB |`,
    );
  }
  const out = path.join(__dirname, 'results', 'search.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ node: process.version, ranking: rows, endToEnd: e2e }, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
