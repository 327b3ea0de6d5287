/**
 * Market search benchmark (`npm run bench:search`).
 *
 * Phase A — the §6.4.4 algorithm (`searchServices`, the whole ranking of one search) over synthetic
 * catalogues of 100, 10,000 and 100,000 services, cycling through request shapes from broad (no scope,
 * every service scored or excluded) to narrow (one service type, operation, region, budget).
 * Reports median, p99 and throughput per size and the cost per service (linearity).
 *
 * Environment: BENCH_SEARCHES=2000 measured searches per size (after 200 warm-up searches);
 * BENCH_SIZES=100,10000,100000.
 *
 * Results: a Markdown table on stdout and bench/results/search.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { normaliseDelegationPolicy } from '../src/domain/pairing/delegation-policy';
import { SearchContext, SearchCriteria, searchServices } from '../src/domain/search/market-search';
import { syntheticServices } from './search-catalog';

const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 2000);
const WARMUP = 200;
const SIZES = (process.env.BENCH_SIZES ?? '100,10000,100000').split(',').map(Number);

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

function measure(size: number): Row {
  const services = syntheticServices(size);
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

function main(): void {
  const rows = SIZES.map(measure);
  console.log('| services | median | p99 | searches/s | median ns per service |');
  console.log('| --: | --: | --: | --: | --: |');
  for (const r of rows)
    console.log(
      `| ${r.services.toLocaleString('en')} | ${r.medianMs} ms | ${r.p99Ms} ms | ${r.perSecond.toLocaleString('en')} | ${r.nsPerService} |`,
    );
  const out = path.join(__dirname, 'results', 'search.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ node: process.version, rows }, null, 2));
}

main();
