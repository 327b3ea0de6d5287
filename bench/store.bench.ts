/**
 * Event store + projection benchmark (`npm run bench:store`).
 *
 * Runs against a real SQLite file in a fresh temp directory (removed at the end), through the same
 * adapter the service uses (SqliteEventStore: WAL, synchronous = FULL, group commit per event-loop turn)
 * and the real ProjectionEngine / ReadModelStore.
 *
 *   1. Durable single-event appends, the way the service writes (one event, exact expected revision,
 *      alternating new streams with `no_stream` and existing streams at their revision):
 *      (a) sequential, one await at a time (latency-bound), (b) 64 concurrent writers (group commit).
 *   2. Sequential append latency at SMALL (10k) events and again at TOTAL (1M) events; ratio of medians.
 *   3. `$all` replay into a no-op consumer: readAll paging (limit 1000) and subscribeAll catch-up.
 *   4. Projection catch-up from an empty read model (start → waitFor(head)) and engine.rebuild(name).
 *   5. RSS after each phase and peak RSS.
 *
 * Environment:
 *   BENCH_EVENTS=1000000      store size for phases 2–4 (default 1,000,000; BENCH_QUICK=1 → 100,000)
 *   BENCH_QUICK=1             quick run (100k events, fewer latency samples)
 *   BENCH_SMALL_EVENTS=10000  the "small store" size of phase 2
 *   BENCH_SEQ_SAMPLES=3000    measured sequential appends per size (after BENCH_WARMUP=200 unmeasured)
 *   BENCH_WRITERS=64          concurrent writers; BENCH_APPENDS_PER_WRITER=400 appends each
 *   BENCH_DIR=/path           parent of the temp directory (default os.tmpdir())
 *   BENCH_KEEP=1              keep the temp directory
 *
 * Order: fill to SMALL → 1a/2a sequential → 1b concurrent → fill to TOTAL → 2b sequential → 1b′ concurrent
 * → 3 → 4. The append phases add their events to the store, so phases 3–4 replay TOTAL + ~29k events
 * (1,028,800 at the defaults). Each measured phase starts after a full GC and reports its process CPU
 * share and GC pause share. Diagnostics only (no behaviour change): the adapter's private `commitBatch`
 * is wrapped to count group-commit transactions, and its private `db` is read for the pragma values.
 *
 * Results: a Markdown table on stdout and bench/results/store.json.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type Database from 'better-sqlite3';
import { comparePositions, EventStore, NewEvent, StoredEvent } from '../src/application/ports/event-store.port';
import { Actor } from '../src/domain/shared/actor';
import { SqliteEventStore } from '../src/infrastructure/event-store/sqlite/sqlite-event-store';
import { UlidIds } from '../src/infrastructure/ids/ulid-ids';
import { defineProjection, Projection } from '../src/infrastructure/projections/projection';
import { ProjectionEngine } from '../src/infrastructure/projections/projection-engine';
import { ReadModelStore } from '../src/infrastructure/projections/read-model-store';

// ---------------------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------------------

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

const QUICK = process.env.BENCH_QUICK === '1';
const TOTAL_EVENTS = intEnv('BENCH_EVENTS', QUICK ? 100_000 : 1_000_000);
const SMALL_EVENTS = Math.min(intEnv('BENCH_SMALL_EVENTS', 10_000), TOTAL_EVENTS);
const SEQ_SAMPLES = intEnv('BENCH_SEQ_SAMPLES', QUICK ? 1_000 : 3_000);
const WARMUP = intEnv('BENCH_WARMUP', 200);
const WRITERS = intEnv('BENCH_WRITERS', 64);
const APPENDS_PER_WRITER = intEnv('BENCH_APPENDS_PER_WRITER', QUICK ? 100 : 400);
const READ_PAGE = 1_000;
/** Appends issued per event-loop turn while filling (one group-committed transaction each). */
const FILL_APPENDS_PER_ROUND = 400;
const PROJECTION_TIMEOUT_MS = 60 * 60 * 1000;

const TARGETS = {
  latencyRatioMedian: 1.2,
  replayEventsPerSec: 200_000,
  projectionEventsPerSec: 100_000,
};

// ---------------------------------------------------------------------------------------------------------
// Realistic events: a machine-like record (~300–500 bytes of JSON) and service-like metadata
// ---------------------------------------------------------------------------------------------------------

const ids = new UlidIds();

type StreamKind = { prefix: string; weight: number; types: readonly string[] };
const KINDS: readonly StreamKind[] = [
  { prefix: 'machine', weight: 5, types: ['MachineRegistered', 'MachineStatusChanged', 'MachineTelemetryReported', 'MachinePriceUpdated'] },
  { prefix: 'listing', weight: 2, types: ['ListingPublished', 'ListingRepriced', 'ListingPaused'] },
  { prefix: 'order', weight: 2, types: ['OrderPlaced', 'OrderAccepted', 'OrderFulfilled', 'OrderSettled'] },
  { prefix: 'operator', weight: 1, types: ['OperatorOnboarded', 'OperatorKeyRotated'] },
];
const ALL_TYPES = KINDS.flatMap((k) => k.types);
const KIND_BY_PREFIX = new Map(KINDS.map((k) => [k.prefix, k]));
const WEIGHTED_KINDS = KINDS.flatMap((k) => Array<StreamKind>(k.weight).fill(k));
const MACHINE_KINDS = ['ev-charger', 'delivery-robot', 'drone', 'compute-node', 'solar-inverter'];
const REGIONS = ['eu-central', 'eu-west', 'us-east', 'ap-southeast'];
const ACTORS: Actor[] = [
  { type: 'api-key', id: 'key_01HZX3Q9N4K8V2T6R0M5B7C1DE' },
  { type: 'machine-agent', id: 'mag_01HZX3R2W8P4J6N0K9T3V5B7CA' },
  { type: 'agent-pairing', id: 'pair_01HZX3S7D1F5H9K3M7P1R5T9VB' },
  { type: 'system', id: null },
];

let eventSeq = 0;
const rand = (n: number) => Math.floor(Math.random() * n);
const hex = (chars: number) => {
  let s = '';
  while (s.length < chars)
    s += Math.floor(Math.random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return s.slice(0, chars);
};

function machineRecord(streamId: string, seq: number): Record<string, unknown> {
  return {
    machineId: streamId,
    operatorId: `op_${streamId.slice(-12)}`,
    kind: MACHINE_KINDS[seq % MACHINE_KINDS.length],
    model: `PQ-${100 + (seq % 900)}`,
    serialNumber: `SN${seq.toString(36).toUpperCase().padStart(10, '0')}`,
    firmware: `2.${seq % 17}.${seq % 5}`,
    status: seq % 11 === 0 ? 'maintenance' : 'online',
    location: { lat: 52.52 + (seq % 997) / 1e4, lon: 13.405 - (seq % 991) / 1e4, region: REGIONS[seq % REGIONS.length] },
    pricing: { currency: 'USDC', unit: 'kWh', unitPrice: `0.${(3000 + (seq % 700)).toString()}` },
    telemetry: { batteryPct: seq % 101, temperatureC: 18 + (seq % 150) / 10, uptimeS: seq * 17 },
    ownerAddress: `0x${hex(40)}`,
  };
}

function newEvent(streamId: string): NewEvent {
  const seq = eventSeq++;
  const kind = KIND_BY_PREFIX.get(streamId.slice(0, streamId.indexOf('-')))!;
  return {
    id: ids.next('evt'),
    type: kind.types[seq % kind.types.length],
    data: machineRecord(streamId, seq),
    metadata: {
      correlationId: randomUUID(),
      causationId: null,
      actor: ACTORS[seq % ACTORS.length],
      occurredAt: new Date().toISOString(),
      schemaVersion: 1,
    },
  };
}

/** The streams written so far and their last revision, so appends can give the exact expected revision. */
class StreamBook {
  readonly ids: string[] = [];
  readonly revisions: number[] = [];

  newStreamId(): string {
    const kind = WEIGHTED_KINDS[rand(WEIGHTED_KINDS.length)];
    return `${kind.prefix}-${ids.next(kind.prefix.slice(0, 3))}`;
  }
  add(streamId: string, revision: number): number {
    this.ids.push(streamId);
    this.revisions.push(revision);
    return this.ids.length - 1;
  }
  randomIndex(): number {
    return rand(this.ids.length);
  }
}

/** Alternates a new stream (`no_stream`) and an existing stream at its exact revision. */
async function appendOneTheServiceWay(store: EventStore, book: StreamBook, newStream: boolean): Promise<void> {
  if (newStream || book.ids.length === 0) {
    const streamId = book.newStreamId();
    const result = await store.append(streamId, [newEvent(streamId)], 'no_stream');
    book.add(streamId, result.nextRevision);
  } else {
    const i = book.randomIndex();
    const streamId = book.ids[i];
    const result = await store.append(streamId, [newEvent(streamId)], book.revisions[i]);
    book.revisions[i] = result.nextRevision;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Measurement helpers
// ---------------------------------------------------------------------------------------------------------

function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1];
}

function summarize(latenciesUs: number[]) {
  const sorted = Float64Array.from(latenciesUs).sort();
  const mean = latenciesUs.reduce((a, b) => a + b, 0) / latenciesUs.length;
  return {
    samples: sorted.length,
    p50Us: round(percentile(sorted, 0.5), 1),
    p90Us: round(percentile(sorted, 0.9), 1),
    p99Us: round(percentile(sorted, 0.99), 1),
    maxUs: round(sorted[sorted.length - 1], 1),
    meanUs: round(mean, 1),
  };
}

const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;
const mib = (bytes: number) => round(bytes / 1024 / 1024, 1);
const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const rssLog: Array<{ phase: string; rssMiB: number; heapUsedMiB: number; storeEvents: number }> = [];
function recordRss(phase: string, storeEvents: number) {
  const m = process.memoryUsage();
  rssLog.push({ phase, rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), storeEvents });
  log(`  rss after ${phase}: ${mib(m.rss)} MiB (heap ${mib(m.heapUsed)} MiB)`);
}

let gcPauseMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauseMs += entry.duration;
}).observe({ entryTypes: ['gc'] });
/** GC observer entries are delivered on a later macrotask. */
const flushGcEntries = () => new Promise((resolve) => setTimeout(resolve, 20));

v8.setFlagsFromString('--expose-gc');
const fullGc = vm.runInNewContext('gc') as () => void;

/**
 * Runs one measured phase: starts from a collected heap (so a phase does not pay for the previous
 * phase's garbage), and adds the process CPU time it used (% of one core over the phase's wall time)
 * and the GC pause time (% of wall time).
 */
async function withCpu<T extends object>(fn: () => Promise<T>): Promise<T & { cpuPct: number; gcPct: number }> {
  fullGc();
  await flushGcEntries();
  const gc0 = gcPauseMs;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await flushGcEntries();
  return { ...result, cpuPct: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100), gcPct: round(((gcPauseMs - gc0) / wallMs) * 100, 1) };
}

const loadAvg1 = () => round(os.loadavg()[0], 2);

function log(line: string) {
  process.stderr.write(`${line}\n`);
}

/** Counts the adapter's group-commit transactions (diagnostic only; wraps a private member at runtime). */
function instrumentGroupCommit(store: SqliteEventStore) {
  const internals = store as unknown as { commitBatch: (batch: unknown[]) => unknown };
  const original = internals.commitBatch;
  const counters = { transactions: 0, appends: 0 };
  internals.commitBatch = (batch: unknown[]) => {
    counters.transactions += 1;
    counters.appends += batch.length;
    return original(batch);
  };
  return {
    snapshot: () => ({ ...counters }),
  };
}

function storePragmas(store: SqliteEventStore) {
  const db = (store as unknown as { db: Database.Database }).db;
  return {
    journalMode: String(db.pragma('journal_mode', { simple: true })),
    synchronous: Number(db.pragma('synchronous', { simple: true })),
    walAutocheckpoint: Number(db.pragma('wal_autocheckpoint', { simple: true })),
    pageSize: Number(db.pragma('page_size', { simple: true })),
    cacheSize: Number(db.pragma('cache_size', { simple: true })),
    sqliteVersion: String(db.prepare('SELECT sqlite_version()').pluck().get()),
  };
}

/** The disk's raw fdatasync latency (4 KiB write + fdatasync), the floor under any durable append. */
function fsyncFloor(dir: string, samples = 300) {
  const file = path.join(dir, 'fsync-probe.bin');
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(4096, 7);
  const lat: number[] = [];
  try {
    for (let i = 0; i < samples + 20; i++) {
      const t0 = performance.now();
      fs.writeSync(fd, block, 0, block.length, (i % 64) * 4096);
      fs.fdatasyncSync(fd);
      if (i >= 20) lat.push((performance.now() - t0) * 1000);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  return summarize(lat);
}

// ---------------------------------------------------------------------------------------------------------
// Phases
// ---------------------------------------------------------------------------------------------------------

/** Bulk setup (not measured for the table): many concurrent multi-event appends, group-committed per turn. */
async function fillTo(store: EventStore, book: StreamBook, current: number, target: number): Promise<{ events: number; seconds: number }> {
  const t0 = performance.now();
  let count = current;
  let lastReport = t0;
  while (count < target) {
    const picked = new Set<number>();
    const pending: Array<Promise<unknown>> = [];
    let roundEvents = 0;
    while (pending.length < FILL_APPENDS_PER_ROUND && count + roundEvents < target) {
      const remaining = target - count - roundEvents;
      if (book.ids.length < 1000 || Math.random() < 0.5) {
        const n = Math.min(remaining, 1 + rand(8));
        const streamId = book.newStreamId();
        const events = Array.from({ length: n }, () => newEvent(streamId));
        pending.push(store.append(streamId, events, 'no_stream').then((r) => book.add(streamId, r.nextRevision)));
        roundEvents += n;
      } else {
        const i = book.randomIndex();
        if (picked.has(i)) continue;
        picked.add(i);
        const n = Math.min(remaining, 1 + rand(4));
        const streamId = book.ids[i];
        const events = Array.from({ length: n }, () => newEvent(streamId));
        pending.push(
          store.append(streamId, events, book.revisions[i]).then((r) => {
            book.revisions[i] = r.nextRevision;
          }),
        );
        roundEvents += n;
      }
    }
    await Promise.all(pending);
    count += roundEvents;
    const now = performance.now();
    if (now - lastReport > 5000) {
      lastReport = now;
      log(`  fill: ${fmt(count)} / ${fmt(target)} events (${fmt((count - current) / ((now - t0) / 1000))} ev/s)`);
    }
  }
  return { events: count - current, seconds: (performance.now() - t0) / 1000 };
}

async function sequentialAppends(store: EventStore, book: StreamBook, samples: number) {
  for (let i = 0; i < WARMUP; i++) await appendOneTheServiceWay(store, book, i % 2 === 0);
  const lat: number[] = new Array(samples);
  const t0 = performance.now();
  for (let i = 0; i < samples; i++) {
    const s = performance.now();
    await appendOneTheServiceWay(store, book, i % 2 === 0);
    lat[i] = (performance.now() - s) * 1000;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { ...summarize(lat), appendsPerSec: round(samples / seconds), seconds: round(seconds, 3), written: WARMUP + samples };
}

async function concurrentAppends(store: EventStore, counter: ReturnType<typeof instrumentGroupCommit>, writers: number, perWriter: number) {
  const lat: number[] = [];
  const before = counter.snapshot();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      const own = new StreamBook(); // each writer appends to its own streams: no conflicts between writers
      for (let i = 0; i < perWriter; i++) {
        const s = performance.now();
        await appendOneTheServiceWay(store, own, i % 2 === 0);
        lat.push((performance.now() - s) * 1000);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const after = counter.snapshot();
  const transactions = after.transactions - before.transactions;
  const appends = after.appends - before.appends;
  return {
    writers,
    appends: writers * perWriter,
    appendsPerSec: round((writers * perWriter) / seconds),
    seconds: round(seconds, 3),
    ...summarize(lat),
    transactions,
    avgAppendsPerTransaction: round(appends / Math.max(1, transactions), 1),
    written: writers * perWriter,
  };
}

/** Sequential then concurrent single-event appends at the current store size. */
async function appendPhases(
  size: 'small' | 'large',
  store: SqliteEventStore,
  book: StreamBook,
  counter: ReturnType<typeof instrumentGroupCommit>,
  events: number,
) {
  log(`phase: sequential appends (${size} store)`);
  const seqAt = events;
  const seq = await withCpu(() => sequentialAppends(store, book, SEQ_SAMPLES));
  events += seq.written;
  log(`  p50 ${seq.p50Us} µs, p99 ${seq.p99Us} µs, ${seq.appendsPerSec} appends/s`);
  log(`phase: concurrent appends (${size} store)`);
  const concAt = events;
  const conc = await withCpu(() => concurrentAppends(store, counter, WRITERS, APPENDS_PER_WRITER));
  events += conc.written;
  log(`  ${conc.appendsPerSec} appends/s, ${conc.avgAppendsPerTransaction} appends/transaction`);
  recordRss(`appends @ ${size} store`, events);
  return { seqAt, seq, concAt, conc, events };
}

async function replayReadAll(store: EventStore) {
  let after: string | undefined;
  let events = 0;
  let sink = 0;
  const t0 = performance.now();
  for (;;) {
    const batch = await store.readAll({ after, limit: READ_PAGE });
    if (batch.length === 0) break;
    sink += noopConsumer(batch);
    events += batch.length;
    after = batch[batch.length - 1].position;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { events, seconds: round(seconds, 3), eventsPerSec: round(events / seconds), pageSize: READ_PAGE, sink };
}

async function replaySubscribeAll(store: EventStore, batchSize: number) {
  const head = await store.headPosition();
  if (head === null) throw new Error('empty store');
  let events = 0;
  let sink = 0;
  const t0 = performance.now();
  let seconds = 0;
  await new Promise<void>((resolve, reject) => {
    const sub = store.subscribeAll({ batchSize, onError: reject }, (batch) => {
      sink += noopConsumer(batch);
      events += batch.length;
      if (comparePositions(batch[batch.length - 1].position, head) >= 0) {
        seconds = (performance.now() - t0) / 1000;
        // Close after this handler call returns (close() waits for running handler calls).
        setImmediate(() => sub.close().then(resolve, reject));
      }
    });
  });
  return { events, seconds: round(seconds, 3), eventsPerSec: round(events / seconds), batchSize, sink };
}

/** Touches each event cheaply so the work is not optimised away. */
function noopConsumer(batch: StoredEvent[]): number {
  let x = 0;
  for (const e of batch) x += e.revision;
  return x & 1;
}

/** Latest event per stream (upsert) plus event/stream counts per stream prefix. */
const streamHeads: Projection = defineProjection({
  name: 'bench_stream_heads',
  version: 1,
  handles: ALL_TYPES,
  tables: ['stream_heads', 'prefix_counts'],
  setup(db) {
    db.run(`CREATE TABLE IF NOT EXISTS {stream_heads} (
      stream_id   TEXT PRIMARY KEY,
      prefix      TEXT NOT NULL,
      revision    INTEGER NOT NULL,
      position    INTEGER NOT NULL,
      type        TEXT NOT NULL,
      occurred_at TEXT NOT NULL
    ) WITHOUT ROWID`);
    db.run(`CREATE TABLE IF NOT EXISTS {prefix_counts} (
      prefix  TEXT PRIMARY KEY,
      events  INTEGER NOT NULL,
      streams INTEGER NOT NULL
    )`);
  },
  apply(event, db) {
    const prefix = event.streamId.slice(0, event.streamId.indexOf('-'));
    db.run(
      `INSERT INTO {stream_heads} (stream_id, prefix, revision, position, type, occurred_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, position = excluded.position,
         type = excluded.type, occurred_at = excluded.occurred_at`,
      event.streamId,
      prefix,
      event.revision,
      Number(event.position),
      event.type,
      event.metadata.occurredAt,
    );
    db.run(
      `INSERT INTO {prefix_counts} (prefix, events, streams) VALUES (?, 1, ?)
       ON CONFLICT (prefix) DO UPDATE SET events = events + 1, streams = streams + excluded.streams`,
      prefix,
      event.revision === 0 ? 1 : 0,
    );
  },
});

async function projectionPhase(store: EventStore, dir: string, storeEvents: number, streams: number) {
  const head = await store.headPosition();
  if (head === null) throw new Error('empty store');
  const readModels = new ReadModelStore(path.join(dir, 'read-models.db'));
  const engine = new ProjectionEngine(store, readModels, [streamHeads]);
  const verify = () => {
    const db = engine.reader(streamHeads.name);
    const counts = db.get<{ events: number; streams: number }>(
      `SELECT SUM(events) AS events, SUM(streams) AS streams FROM {prefix_counts}`,
    )!;
    const heads = db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM {stream_heads}`)!;
    if (counts.events !== storeEvents || counts.streams !== streams || heads.n !== streams) {
      throw new Error(`projection mismatch: ${JSON.stringify({ counts, heads, storeEvents, streams })}`);
    }
  };
  try {
    const catchUp = await withCpu(async () => {
      const t0 = performance.now();
      await engine.start();
      const caughtUp = await engine.waitFor(head, PROJECTION_TIMEOUT_MS);
      const seconds = (performance.now() - t0) / 1000;
      if (!caughtUp) throw new Error('projection catch-up timed out');
      return { seconds: round(seconds, 3), eventsPerSec: round(storeEvents / seconds) };
    });
    verify();
    recordRss('projection catch-up', storeEvents);

    const rebuild = await withCpu(async () => {
      const t1 = performance.now();
      const rebuilt = await engine.rebuild(streamHeads.name);
      const seconds = (performance.now() - t1) / 1000;
      if (rebuilt.processed !== storeEvents) throw new Error(`rebuild processed ${rebuilt.processed}, expected ${storeEvents}`);
      return { seconds: round(seconds, 3), eventsPerSec: round(rebuilt.processed / seconds) };
    });
    verify();
    const readModelBytes = fileSize(path.join(dir, 'read-models.db')) + fileSize(path.join(dir, 'read-models.db-wal'));
    return {
      projection: streamHeads.name,
      events: storeEvents,
      catchUp,
      rebuild,
      readModelMiB: mib(readModelBytes),
    };
  } finally {
    await engine.stop();
    await readModels.close();
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

async function main() {
  const parent = process.env.BENCH_DIR ? path.resolve(process.env.BENCH_DIR) : os.tmpdir();
  const dir = fs.mkdtempSync(path.join(parent, 'peaqos-store-bench-'));
  const dbFile = path.join(dir, 'events.db');
  const removeDir = () => {
    if (process.env.BENCH_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    removeDir();
    process.exit(130);
  });

  const cpus = os.cpus();
  const env = {
    node: process.version,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    platform: `${os.platform()} ${os.release()}`,
    totalMemGiB: round(os.totalmem() / 2 ** 30, 1),
    dir,
  };

  let store: SqliteEventStore | null = null;
  try {
    store = new SqliteEventStore({ path: dbFile });
    const pragmas = storePragmas(store);
    const counter = instrumentGroupCommit(store);
    const fsync = fsyncFloor(dir);
    const book = new StreamBook();
    let events = 0;
    const started = performance.now();
    const loadAtStart = loadAvg1();
    log(
      `store bench: ${fmt(TOTAL_EVENTS)} events, ${SEQ_SAMPLES} sequential samples, ${WRITERS}×${APPENDS_PER_WRITER} concurrent, dir ${dir}`,
    );
    recordRss('open', events);

    // ---- small store: sequential + concurrent appends ----
    log(`phase: fill to ${fmt(SMALL_EVENTS)}`);
    events += (await fillTo(store, book, events, SMALL_EVENTS)).events;
    const small = await appendPhases('small', store, book, counter, events);
    const { seqAt: seqSmallAt, seq: seqSmall, concAt: concSmallAt, conc: concSmall } = small;
    events = small.events;

    // ---- fill to the large size ----
    log(`phase: fill to ${fmt(TOTAL_EVENTS)}`);
    const fill = await fillTo(store, book, events, TOTAL_EVENTS);
    events += fill.events;
    log(`  filled ${fmt(fill.events)} events in ${round(fill.seconds, 1)} s (${fmt(fill.events / fill.seconds)} ev/s)`);
    recordRss('fill', events);

    // ---- large store: sequential + concurrent appends ----
    const large = await appendPhases('large', store, book, counter, events);
    const { seqAt: seqLargeAt, seq: seqLarge, concAt: concLargeAt, conc: concLarge } = large;
    events = large.events;

    const head = await store.headPosition();
    if (Number(head) !== events) throw new Error(`head ${head} != written ${events}`);
    const streams = book.ids.length + 2 * WRITERS * Math.ceil(APPENDS_PER_WRITER / 2);
    const storeBytes = fileSize(dbFile) + fileSize(`${dbFile}-wal`);

    // ---- replay ----
    log(`phase: readAll replay over ${fmt(events)} events`);
    const readAll = await withCpu(() => replayReadAll(store!));
    if (readAll.events !== events) throw new Error(`readAll saw ${readAll.events}, expected ${events}`);
    log(`  ${fmt(readAll.eventsPerSec)} ev/s`);
    recordRss('readAll replay', events);
    log('phase: subscribeAll catch-up');
    const subscribe = await withCpu(() => replaySubscribeAll(store!, READ_PAGE));
    if (subscribe.events !== events) throw new Error(`subscribeAll saw ${subscribe.events}, expected ${events}`);
    log(`  ${fmt(subscribe.eventsPerSec)} ev/s`);
    recordRss('subscribeAll catch-up', events);

    // ---- projections ----
    log('phase: projection catch-up + rebuild');
    const projection = await projectionPhase(store, dir, events, streams);
    log(`  catch-up ${fmt(projection.catchUp.eventsPerSec)} ev/s, rebuild ${fmt(projection.rebuild.eventsPerSec)} ev/s`);
    recordRss('projection rebuild', events);

    await store.close();
    store = null;
    const peakRssMiB = round(process.resourceUsage().maxRSS / 1024, 1);
    const totalSeconds = (performance.now() - started) / 1000;

    // ---- report ----
    const ratioMedian = round(seqLarge.p50Us / seqSmall.p50Us, 3);
    const ratioP99 = round(seqLarge.p99Us / seqSmall.p99Us, 3);
    const samples = Array.from({ length: 1000 }, () => newEvent(book.newStreamId()));
    const dataSizes = samples.map((e) => Buffer.byteLength(JSON.stringify(e.data)));
    const metaSizes = samples.map((e) =>
      Buffer.byteLength(JSON.stringify({ ...e.metadata, prevHash: '0'.repeat(64), hash: '0'.repeat(64) })),
    );
    const avg = (xs: number[]) => round(xs.reduce((x, y) => x + y, 0) / xs.length);
    const eventShape = {
      dataBytes: { avg: avg(dataSizes), min: Math.min(...dataSizes), max: Math.max(...dataSizes) },
      metadataBytes: { avg: avg(metaSizes), min: Math.min(...metaSizes), max: Math.max(...metaSizes) },
    };

    const results = {
      generatedAt: new Date().toISOString(),
      environment: env,
      durability: {
        ...pragmas,
        description: 'WAL + synchronous=FULL (fsync per commit) + group commit (appends of one event-loop turn share one transaction)',
        fsyncFloor: fsync,
      },
      config: {
        totalEvents: TOTAL_EVENTS,
        smallEvents: SMALL_EVENTS,
        seqSamples: SEQ_SAMPLES,
        warmup: WARMUP,
        writers: WRITERS,
        appendsPerWriter: APPENDS_PER_WRITER,
        quick: QUICK,
      },
      eventShape,
      store: {
        events,
        streams,
        fileMiB: mib(storeBytes),
        fill: { events: fill.events, seconds: round(fill.seconds, 1), eventsPerSec: round(fill.events / fill.seconds) },
      },
      appends: {
        sequentialSmall: { storeEventsAtStart: seqSmallAt, ...seqSmall },
        concurrentSmall: { storeEventsAtStart: concSmallAt, ...concSmall },
        sequentialLarge: { storeEventsAtStart: seqLargeAt, ...seqLarge },
        concurrentLarge: { storeEventsAtStart: concLargeAt, ...concLarge },
        latencyRatio: {
          median: ratioMedian,
          p99: ratioP99,
          target: TARGETS.latencyRatioMedian,
          pass: ratioMedian <= TARGETS.latencyRatioMedian,
        },
      },
      replay: {
        readAll: { ...readAll, target: TARGETS.replayEventsPerSec, pass: readAll.eventsPerSec >= TARGETS.replayEventsPerSec },
        subscribeAll: { ...subscribe, target: TARGETS.replayEventsPerSec, pass: subscribe.eventsPerSec >= TARGETS.replayEventsPerSec },
      },
      projection: {
        ...projection,
        catchUp: {
          ...projection.catchUp,
          target: TARGETS.projectionEventsPerSec,
          pass: projection.catchUp.eventsPerSec >= TARGETS.projectionEventsPerSec,
        },
        rebuild: {
          ...projection.rebuild,
          target: TARGETS.projectionEventsPerSec,
          pass: projection.rebuild.eventsPerSec >= TARGETS.projectionEventsPerSec,
        },
      },
      memory: { peakRssMiB, phases: rssLog },
      totalSeconds: round(totalSeconds, 1),
      hostLoadAvg1m: { atStart: loadAtStart, atEnd: loadAvg1() },
    };

    const outDir = path.join(__dirname, 'results');
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'store.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(renderMarkdown(results));
  } finally {
    if (store) await store.close().catch(() => undefined);
    removeDir();
  }
}

type Results = {
  environment: { node: string; cpuModel: string; cores: number; platform: string; totalMemGiB: number };
  durability: {
    journalMode: string;
    synchronous: number;
    walAutocheckpoint: number;
    pageSize: number;
    sqliteVersion: string;
    fsyncFloor: { p50Us: number; p99Us: number };
  };
  config: { totalEvents: number; smallEvents: number; seqSamples: number; warmup: number; writers: number; appendsPerWriter: number };
  eventShape: { dataBytes: { avg: number; min: number; max: number }; metadataBytes: { avg: number; min: number; max: number } };
  store: { events: number; streams: number; fileMiB: number; fill: { seconds: number; eventsPerSec: number } };
  appends: {
    sequentialSmall: { storeEventsAtStart: number; p50Us: number; p99Us: number; appendsPerSec: number; cpuPct: number; gcPct: number };
    concurrentSmall: {
      storeEventsAtStart: number;
      p50Us: number;
      p99Us: number;
      appendsPerSec: number;
      avgAppendsPerTransaction: number;
      cpuPct: number;
      gcPct: number;
    };
    sequentialLarge: { storeEventsAtStart: number; p50Us: number; p99Us: number; appendsPerSec: number; cpuPct: number; gcPct: number };
    concurrentLarge: {
      storeEventsAtStart: number;
      p50Us: number;
      p99Us: number;
      appendsPerSec: number;
      avgAppendsPerTransaction: number;
      cpuPct: number;
      gcPct: number;
    };
    latencyRatio: { median: number; p99: number; pass: boolean };
  };
  replay: {
    readAll: { eventsPerSec: number; events: number; seconds: number; pass: boolean; cpuPct: number; gcPct: number };
    subscribeAll: { eventsPerSec: number; events: number; seconds: number; pass: boolean; cpuPct: number; gcPct: number };
  };
  projection: {
    catchUp: { eventsPerSec: number; seconds: number; pass: boolean; cpuPct: number; gcPct: number };
    rebuild: { eventsPerSec: number; seconds: number; pass: boolean; cpuPct: number; gcPct: number };
  };
  memory: { peakRssMiB: number; phases: Array<{ phase: string; rssMiB: number; heapUsedMiB: number }> };
  totalSeconds: number;
  hostLoadAvg1m: { atStart: number; atEnd: number };
};

function renderMarkdown(r: Results): string {
  const mark = (pass: boolean) => (pass ? '✅ pass' : '❌ fail');
  const k = (n: number) => (n >= 1_000_000 ? `${round(n / 1_000_000, 2)}M` : n >= 1000 ? `${round(n / 1000, 1)}k` : String(n));
  const syncName = ['OFF', 'NORMAL', 'FULL', 'EXTRA'][r.durability.synchronous] ?? String(r.durability.synchronous);
  const a = r.appends;
  const lines = [
    `## Event store benchmark (${k(r.store.events)} events)`,
    '',
    `- Durability: journal_mode=${r.durability.journalMode.toUpperCase()}, synchronous=${syncName}, group commit per event-loop turn (one transaction + one fsync for all appends issued in the same turn); SQLite ${r.durability.sqliteVersion}, page_size ${r.durability.pageSize}, wal_autocheckpoint ${r.durability.walAutocheckpoint}`,
    `- Disk fdatasync floor (4 KiB write + fdatasync): p50 ${fmt(r.durability.fsyncFloor.p50Us, 1)} µs, p99 ${fmt(r.durability.fsyncFloor.p99Us, 1)} µs`,
    `- Node ${r.environment.node}, CPU ${r.environment.cpuModel} × ${r.environment.cores} cores, ${r.environment.platform}, ${r.environment.totalMemGiB} GiB RAM`,
    `- Events: data ${r.eventShape.dataBytes.avg} B avg (${r.eventShape.dataBytes.min}–${r.eventShape.dataBytes.max}, machine record), metadata ${r.eventShape.metadataBytes.avg} B avg stored (correlationId, actor, occurredAt, hash chain); ${fmt(r.store.streams)} streams; store file ${fmt(r.store.fileMiB, 1)} MiB; fill ${fmt(r.store.fill.eventsPerSec)} events/s (setup, bulk)`,
    `- Sequential: ${r.config.seqSamples} measured appends after ${r.config.warmup} warm-up; concurrent: ${r.config.writers} writers × ${r.config.appendsPerWriter} appends; alternating new stream (no_stream) / existing stream at exact revision`,
    '',
    '| # | Metric | Result | CPU · GC¹ | Target | Status |',
    '|---|---|---|---|---|---|',
    `| 1a | Sequential single-event appends, store ${k(a.sequentialSmall.storeEventsAtStart)} | ${fmt(a.sequentialSmall.appendsPerSec)} appends/s · p50 ${fmt(a.sequentialSmall.p50Us)} µs · p99 ${fmt(a.sequentialSmall.p99Us)} µs | ${a.sequentialSmall.cpuPct}% · GC ${a.sequentialSmall.gcPct}% | — | — |`,
    `| 1b | Concurrent single-event appends, ${r.config.writers} writers, store ${k(a.concurrentSmall.storeEventsAtStart)} | ${fmt(a.concurrentSmall.appendsPerSec)} appends/s · p50 ${fmt(a.concurrentSmall.p50Us)} µs · p99 ${fmt(a.concurrentSmall.p99Us)} µs · ${a.concurrentSmall.avgAppendsPerTransaction} appends/commit | ${a.concurrentSmall.cpuPct}% · GC ${a.concurrentSmall.gcPct}% | — | — |`,
    `| 1b′ | Concurrent single-event appends, ${r.config.writers} writers, store ${k(a.concurrentLarge.storeEventsAtStart)} | ${fmt(a.concurrentLarge.appendsPerSec)} appends/s · p50 ${fmt(a.concurrentLarge.p50Us)} µs · p99 ${fmt(a.concurrentLarge.p99Us)} µs · ${a.concurrentLarge.avgAppendsPerTransaction} appends/commit | ${a.concurrentLarge.cpuPct}% · GC ${a.concurrentLarge.gcPct}% | — | — |`,
    `| 2a | Sequential append latency @ ${k(a.sequentialSmall.storeEventsAtStart)} events (= 1a) | p50 ${fmt(a.sequentialSmall.p50Us)} µs · p99 ${fmt(a.sequentialSmall.p99Us)} µs | ${a.sequentialSmall.cpuPct}% · GC ${a.sequentialSmall.gcPct}% | — | — |`,
    `| 2b | Sequential append latency @ ${k(a.sequentialLarge.storeEventsAtStart)} events | p50 ${fmt(a.sequentialLarge.p50Us)} µs · p99 ${fmt(a.sequentialLarge.p99Us)} µs · ${fmt(a.sequentialLarge.appendsPerSec)} appends/s | ${a.sequentialLarge.cpuPct}% · GC ${a.sequentialLarge.gcPct}% | — | — |`,
    `| 2c | Latency ratio ${k(a.sequentialLarge.storeEventsAtStart)} / ${k(a.sequentialSmall.storeEventsAtStart)} | median ×${fmt(a.latencyRatio.median, 3)} · p99 ×${fmt(a.latencyRatio.p99, 3)} | | median ≤ ×${TARGETS.latencyRatioMedian} | ${mark(a.latencyRatio.pass)} |`,
    `| 3a | readAll replay (limit ${READ_PAGE} pages) → no-op | ${fmt(r.replay.readAll.eventsPerSec)} events/s (${fmt(r.replay.readAll.events)} in ${fmt(r.replay.readAll.seconds, 2)} s) | ${r.replay.readAll.cpuPct}% · GC ${r.replay.readAll.gcPct}% | ≥ ${fmt(TARGETS.replayEventsPerSec)}/s | ${mark(r.replay.readAll.pass)} |`,
    `| 3b | subscribeAll catch-up to head (batch ${READ_PAGE}) → no-op | ${fmt(r.replay.subscribeAll.eventsPerSec)} events/s (${fmt(r.replay.subscribeAll.events)} in ${fmt(r.replay.subscribeAll.seconds, 2)} s) | ${r.replay.subscribeAll.cpuPct}% · GC ${r.replay.subscribeAll.gcPct}% | ≥ ${fmt(TARGETS.replayEventsPerSec)}/s | ${mark(r.replay.subscribeAll.pass)} |`,
    `| 4a | Projection catch-up (start → waitFor(head)) | ${fmt(r.projection.catchUp.eventsPerSec)} events/s (${fmt(r.projection.catchUp.seconds, 2)} s) | ${r.projection.catchUp.cpuPct}% · GC ${r.projection.catchUp.gcPct}% | ≥ ${fmt(TARGETS.projectionEventsPerSec)}/s | ${mark(r.projection.catchUp.pass)} |`,
    `| 4b | Projection rebuild (engine.rebuild) | ${fmt(r.projection.rebuild.eventsPerSec)} events/s (${fmt(r.projection.rebuild.seconds, 2)} s) | ${r.projection.rebuild.cpuPct}% · GC ${r.projection.rebuild.gcPct}% | ≥ ${fmt(TARGETS.projectionEventsPerSec)}/s | ${mark(r.projection.rebuild.pass)} |`,
    `| 5 | Peak RSS (maxRSS) | ${fmt(r.memory.peakRssMiB, 1)} MiB | | — | — |`,
    '',
    `¹ CPU time of this process (user + system) over the phase's wall time, in % of one core. The work is single-threaded, so well below 100% on a CPU-bound phase (3, 4) means it waited for the CPU (other processes; host load average ${r.hostLoadAvg1m.atStart} at start, ${r.hostLoadAvg1m.atEnd} at end, ${r.environment.cores} cores); on append phases the gap is fsync wait. GC = V8 GC pause time in % of the phase's wall time; each phase starts after a full GC.`,
    '',
    '| Phase | RSS after (MiB) | Heap used (MiB) |',
    '|---|---|---|',
    ...r.memory.phases.map((p) => `| ${p.phase} | ${fmt(p.rssMiB, 1)} | ${fmt(p.heapUsedMiB, 1)} |`),
    '',
    `Total run time ${fmt(r.totalSeconds, 1)} s. JSON: bench/results/store.json`,
  ];
  return lines.join('\n');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
