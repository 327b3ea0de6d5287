import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../../../test/support/until';
import { EventStore, Position, StoredEvent } from '../../application/ports/event-store.port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { ProjectionEngine, RebuildProgress } from './projection-engine';
import { defineProjection, Projection } from './projection';
import { physicalTable, ReadModelStore } from './read-model-store';

/**
 * Integration: real SQLite files for the event store and the read model (ARCHITECTURE §4). The
 * `counting` projection counts, per event id, how often it was applied: exactly-once shows as
 * every row having times = 1.
 */
type Row = { event_id: string; type: string; times: number; tag: string };

type CountingProjection = Projection & {
  /** Event ids passed to apply, including applications later rolled back. */
  calls: string[];
  /** apply throws for this event id while set. */
  failOn: string | null;
  /** Written into each row: tells which pass (generation) produced it. */
  tag: string;
  onApply?: (event: StoredEvent) => void;
};

/** Physical table names carry no projection name, so each projection gets its own logical table. */
const tableOf = (name: string) => `${name}_applied`;

function counting(options: { name?: string; version?: number; tag?: string } = {}): CountingProjection {
  const name = options.name ?? 'counting';
  const projection = defineProjection({
    name,
    version: options.version ?? 1,
    handles: ['thing.counted', 'thing.tagged'],
    tables: [tableOf(name)],
    setup(db) {
      db.run(
        `CREATE TABLE IF NOT EXISTS ${db.table(tableOf(name))} (event_id TEXT PRIMARY KEY, type TEXT NOT NULL, times INTEGER NOT NULL, tag TEXT NOT NULL)`,
      );
    },
    apply(event, db) {
      self.calls.push(event.id);
      self.onApply?.(event);
      if (self.failOn === event.id) throw new Error(`apply failed on ${event.id}`);
      db.run(
        `INSERT INTO ${db.table(tableOf(name))} (event_id, type, times, tag) VALUES (?, ?, 1, ?)
         ON CONFLICT(event_id) DO UPDATE SET times = times + 1`,
        event.id,
        event.type,
        self.tag,
      );
    },
  }) as CountingProjection;
  const self = projection;
  self.calls = [];
  self.failOn = null;
  self.tag = options.tag ?? 'live';
  return self;
}

let eventSeq = 0;
/** The ids the next append will use: lets a test arm a fault before the subscription can see the events. */
const upcomingIds = (count: number) => Array.from({ length: count }, (_, i) => `evt_${String(eventSeq + i + 1).padStart(6, '0')}`);

/** Appends `count` events in ONE append (so a subscription sees them in one batch); returns their ids and the last position. */
async function append(store: EventStore, count: number, type = 'thing.counted'): Promise<{ ids: string[]; position: Position }> {
  const ids = upcomingIds(count);
  eventSeq += count;
  const result = await store.append(
    'thing-1',
    ids.map((id, i) => ({
      id,
      type,
      data: { i },
      metadata: {
        correlationId: 'c',
        causationId: null,
        actor: { type: 'system', id: null },
        occurredAt: new Date(Date.UTC(2026, 0, 1) + eventSeq * 1000 + i).toISOString(),
        schemaVersion: 1,
      },
    })),
    'any',
  );
  return { ids, position: result.position };
}

describe('ProjectionEngine (ARCHITECTURE §4)', () => {
  let dir: string;
  let store: SqliteEventStore;
  let readModels: ReadModelStore;
  const engines: ProjectionEngine[] = [];

  const eventsPath = () => join(dir, 'events.db');
  const readModelPath = () => join(dir, 'read-model.db');

  async function startEngine(projections: Projection[], on: EventStore = store): Promise<ProjectionEngine> {
    // Small rebuild transactions, so that a rebuild of a few thousand events spans several of them.
    const engine = new ProjectionEngine(on, readModels, projections, { rebuildTransactionEvents: 1000 });
    engines.push(engine);
    await engine.start();
    return engine;
  }

  /** A process restart: stop the engine, reopen the read-model file. */
  async function restart(engine: ProjectionEngine): Promise<void> {
    await engine.stop();
    await readModels.close();
    readModels = new ReadModelStore(readModelPath());
  }

  async function expectCaughtUp(engine: ProjectionEngine, position: Position, timeoutMs = 2000): Promise<void> {
    await expect(engine.waitFor(position, timeoutMs)).resolves.toBe(true);
  }

  /** Appends `count` events, starts an engine and waits until it has applied them. */
  async function caughtUpEngine(count: number, projections: Projection[] = [counting()]) {
    const events = await append(store, count);
    const engine = await startEngine(projections);
    await expectCaughtUp(engine, events.position, 5000);
    return { engine, events };
  }

  /** A previous process that applied `count` events and stopped. */
  async function previousRun(count: number, projection: Projection = counting()) {
    const { engine, events } = await caughtUpEngine(count, [projection]);
    await restart(engine);
    return events;
  }

  /** Replaces the event store by a fresh, empty one on the same path (the read model stays). */
  async function replaceEventStore(): Promise<void> {
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(eventsPath() + suffix, { force: true });
    store = new SqliteEventStore({ path: eventsPath() });
  }

  function rows(engine: ProjectionEngine, name = 'counting'): Row[] {
    const db = engine.reader(name);
    return db.all<Row>(`SELECT event_id, type, times, tag FROM ${db.table(tableOf(name))} ORDER BY event_id`);
  }

  function tables(): string[] {
    return (
      readModels.db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'counting%__g%' ORDER BY name`)
        .all() as Array<{ name: string }>
    ).map((t) => t.name);
  }

  const statusOf = (engine: ProjectionEngine, name = 'counting') => engine.status().find((s) => s.name === name)!;

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    dir = mkdtempSync(join(tmpdir(), 'peaqos-projections-'));
    store = new SqliteEventStore({ path: eventsPath() });
    readModels = new ReadModelStore(readModelPath());
  });

  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.stop();
    await readModels.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  describe('applying events', () => {
    it('applies only the event types it handles, and its checkpoint passes the others', async () => {
      const a = await append(store, 2, 'thing.counted');
      await append(store, 2, 'thing.ignored');
      const c = await append(store, 1, 'thing.tagged');
      const projection = counting();
      const engine = await startEngine([projection]);

      await expectCaughtUp(engine, c.position);
      expect(rows(engine).map((r) => [r.event_id, r.type, r.times])).toEqual([
        [a.ids[0], 'thing.counted', 1],
        [a.ids[1], 'thing.counted', 1],
        [c.ids[0], 'thing.tagged', 1],
      ]);
      expect(projection.calls).toEqual([...a.ids, ...c.ids]);

      const ignored = await append(store, 1, 'thing.ignored');
      await expectCaughtUp(engine, ignored.position);
      const last = (await store.readLast())!;
      // Passed in memory at once; saved with the next handled event, or at the latest when it stops.
      expect(statusOf(engine).position).toBe(last.position);
      expect(readModels.checkpoint('counting')?.position).toBe(c.position);
      await engine.stop();
      expect(readModels.checkpoint('counting')).toEqual({
        name: 'counting',
        version: 1,
        generation: 1,
        position: last.position,
        lastOccurredAt: last.metadata.occurredAt,
        tables: ['counting_applied'],
      });
      expect(rows(engine)).toHaveLength(3);
    });

    it('saves no checkpoint for a round without an event it handles; after a crash it re-reads them and applies nothing twice', async () => {
      const projection = counting();
      const engine = await startEngine([projection]);
      const counted = await append(store, 2, 'thing.counted');
      await expectCaughtUp(engine, counted.position);
      const ignored = await append(store, 3, 'thing.ignored');
      await expectCaughtUp(engine, ignored.position);
      expect(readModels.checkpoint('counting')?.position).toBe(counted.position);

      // A crash: delivery stops and nothing more is saved; the saved checkpoint lags over the ignored events.
      type Internals = { runners: Map<string, { subscription: { close(): Promise<void> } | null }> };
      await (engine as unknown as Internals).runners.get('counting')!.subscription!.close();
      engines.splice(engines.indexOf(engine), 1);
      const replayed = counting();
      const engine2 = await startEngine([replayed]);
      await expectCaughtUp(engine2, ignored.position);
      expect(replayed.calls).toEqual([]);
      expect(rows(engine2).map((r) => [r.event_id, r.times])).toEqual(counted.ids.map((id) => [id, 1]));

      const more = await append(store, 1, 'thing.counted');
      await expectCaughtUp(engine2, more.position);
      expect(readModels.checkpoint('counting')?.position).toBe(more.position);
    });

    it('keeps applying live events after catching up', async () => {
      const engine = await startEngine([counting()]);
      for (let i = 0; i < 5; i++) {
        const { position } = await append(store, 2);
        await expectCaughtUp(engine, position);
      }
      expect(rows(engine)).toHaveLength(10);
      expect(rows(engine).every((r) => r.times === 1)).toBe(true);
    });

    it('applies the live batches of every projection woken by one append in one read-model transaction', async () => {
      const projections = [counting(), counting({ name: 'second' }), counting({ name: 'third' })];
      const engine = await startEngine(projections);
      const real = readModels.transaction.bind(readModels);
      let depth = 0;
      let outer = 0;
      jest.spyOn(readModels, 'transaction').mockImplementation(<T>(fn: () => T): T => {
        if (depth === 0) outer += 1;
        depth += 1;
        try {
          return real(fn);
        } finally {
          depth -= 1;
        }
      });
      const events = await append(store, 2);
      await expectCaughtUp(engine, events.position);
      expect(outer).toBe(1);
      for (const name of ['counting', 'second', 'third']) expect(rows(engine, name).map((r) => r.event_id)).toEqual(events.ids);
    });

    it('refuses two projections with the same name', () => {
      expect(() => new ProjectionEngine(store, readModels, [counting(), counting()])).toThrow(/Duplicate projection counting/);
    });
  });

  describe('checkpoints (a crash never applies an event twice or skips one)', () => {
    it('commits the rows and the checkpoint of a batch together: a failure mid-batch leaves neither', async () => {
      const before = await previousRun(3);

      // One append → one batch; the fault hits its second event ("the process crashes mid-batch").
      const batch = await append(store, 3);
      const faulty = counting();
      faulty.failOn = batch.ids[1];
      const crashed = await startEngine([faulty]);
      await until(() => statusOf(crashed).state === 'failed', { intervalMs: 5, what: 'the projection failed' });

      expect(faulty.calls.slice(0, 2)).toEqual([batch.ids[0], batch.ids[1]]);
      expect(rows(crashed).map((r) => r.event_id)).toEqual(before.ids);
      expect(readModels.checkpoint('counting')?.position).toBe(before.position);
      expect(statusOf(crashed).position).toBe(before.position);

      // Fixed and restarted: every event applied exactly once.
      await restart(crashed);
      const fixed = counting();
      const engine2 = await startEngine([fixed]);
      await expectCaughtUp(engine2, batch.position);
      expect(fixed.calls).toEqual(batch.ids);
      expect(rows(engine2).map((r) => [r.event_id, r.times])).toEqual([...before.ids, ...batch.ids].map((id) => [id, 1]));
    });

    it('resumes from its checkpoint after a restart, applying nothing twice', async () => {
      const first = await previousRun(3);
      const second = await append(store, 2);
      const projection = counting();
      const engine2 = await startEngine([projection]);
      await expectCaughtUp(engine2, second.position);

      expect(projection.calls).toEqual(second.ids);
      expect(rows(engine2).map((r) => [r.event_id, r.times])).toEqual([...first.ids, ...second.ids].map((id) => [id, 1]));
      expect(readModels.checkpoint('counting')?.generation).toBe(1);
    });
  });

  describe('rebuilds at start', () => {
    it('rebuilds into a new generation when the version changed (old tables dropped, rows rebuilt)', async () => {
      const events = await previousRun(4, counting({ version: 1, tag: 'v1' }));
      expect(tables()).toEqual(['counting_applied__g1']);

      const v2 = counting({ version: 2, tag: 'v2' });
      const engine2 = new ProjectionEngine(store, readModels, [v2]);
      engines.push(engine2);
      const statesDuringCatchUp: string[] = [];
      v2.onApply = () => statesDuringCatchUp.push(statusOf(engine2).state);
      await engine2.start();
      await expectCaughtUp(engine2, events.position);

      expect(tables()).toEqual(['counting_applied__g2']);
      expect(readModels.checkpoint('counting')).toMatchObject({ version: 2, generation: 2, position: events.position });
      expect(rows(engine2).map((r) => [r.event_id, r.times, r.tag])).toEqual(events.ids.map((id) => [id, 1, 'v2']));
      expect(v2.calls).toEqual(events.ids);
      expect(new Set(statesDuringCatchUp)).toEqual(new Set(['rebuilding']));
      expect(statusOf(engine2)).toMatchObject({ version: 2, state: 'running', error: null });
    });

    it('drops the tables of the old version that the new version no longer declares', async () => {
      const events = await previousRun(2, counting({ version: 1 }));
      const v2 = defineProjection({
        name: 'counting',
        version: 2,
        handles: ['thing.counted'],
        tables: ['counting_totals'],
        setup: (db) => db.run(`CREATE TABLE IF NOT EXISTS ${db.table('counting_totals')} (n INTEGER NOT NULL)`),
        apply: (_event, db) => db.run(`INSERT INTO ${db.table('counting_totals')} (n) VALUES (1)`),
      });
      const engine2 = new ProjectionEngine(store, readModels, [v2]);
      engines.push(engine2);
      await engine2.start();
      await expectCaughtUp(engine2, events.position);
      expect(tables()).toEqual(['counting_totals__g2']);
    });

    it('rebuilds when its checkpoint is ahead of the event store (a fresh store, an old read model)', async () => {
      await previousRun(5);
      await replaceEventStore();
      const fresh = await append(store, 2);
      const engine2 = await startEngine([counting()]);
      await expectCaughtUp(engine2, fresh.position);

      expect(readModels.checkpoint('counting')).toMatchObject({ generation: 2, position: fresh.position });
      expect(tables()).toEqual(['counting_applied__g2']);
      expect(rows(engine2).map((r) => [r.event_id, r.times])).toEqual(fresh.ids.map((id) => [id, 1]));
    });

    it('rebuilds to empty when the event store is empty but the checkpoint is not', async () => {
      await previousRun(2);
      await replaceEventStore();
      const engine2 = await startEngine([counting()]);
      expect(readModels.checkpoint('counting')).toMatchObject({ generation: 2, position: null });
      expect(rows(engine2)).toEqual([]);
      expect(statusOf(engine2)).toMatchObject({ state: 'running', position: null });
    });
  });

  describe('rebuild(name)', () => {
    it('replays into fresh tables; readers see the old generation until the swap and the new one after', async () => {
      const projection = counting({ tag: 'old' });
      const { engine, events } = await caughtUpEngine(2500, [projection]);

      projection.tag = 'new';
      const progress: RebuildProgress[] = [];
      const seenDuring: Array<{ state: string; tags: string }> = [];
      const result = await engine.rebuild('counting', (p) => {
        progress.push(p);
        const db = engine.reader('counting');
        const tags = db.all<{ tag: string; n: number }>(`SELECT tag, COUNT(*) AS n FROM ${db.table(tableOf('counting'))} GROUP BY tag`);
        seenDuring.push({ state: statusOf(engine).state, tags: tags.map((t) => `${t.tag}:${t.n}`).join(',') });
      });

      expect(result).toEqual({ processed: 2500, position: events.position });
      expect(progress.map((p) => p.processed)).toEqual([1000, 2000, 2500]);
      expect(progress.every((p) => p.projection === 'counting' && p.head === events.position)).toBe(true);
      expect(progress[progress.length - 1].position).toBe(events.position);
      expect(seenDuring).toEqual(Array(3).fill({ state: 'rebuilding', tags: 'old:2500' }));

      const after = rows(engine);
      expect(after).toHaveLength(2500);
      expect(after.every((r) => r.tag === 'new' && r.times === 1)).toBe(true);
      expect(tables()).toEqual(['counting_applied__g2']);
      expect(readModels.checkpoint('counting')).toMatchObject({ generation: 2, position: events.position });
      expect(readModels.reader(projection).table(tableOf('counting'))).toBe(physicalTable(tableOf('counting'), 2));
      expect(statusOf(engine).state).toBe('running');

      // Live updates resume after the swap, exactly once.
      const next = await append(store, 1);
      await expectCaughtUp(engine, next.position);
      expect(rows(engine).filter((r) => r.event_id === next.ids[0])).toEqual([
        { event_id: next.ids[0], type: 'thing.counted', times: 1, tag: 'new' },
      ]);
    });

    it('applies an event appended during the rebuild exactly once', async () => {
      const { engine } = await caughtUpEngine(1500);

      let during: Promise<{ ids: string[]; position: Position }> | undefined;
      await engine.rebuild('counting', () => {
        during ??= append(store, 1);
      });
      const appended = await during!;
      await expectCaughtUp(engine, appended.position);
      expect(
        rows(engine)
          .filter((r) => r.event_id === appended.ids[0])
          .map((r) => r.times),
      ).toEqual([1]);
      expect(rows(engine)).toHaveLength(1501);
    });

    it('keeps serving the old generation and resumes live updates when the rebuild fails', async () => {
      const projection = counting({ tag: 'old' });
      const { engine, events } = await caughtUpEngine(3, [projection]);

      projection.failOn = events.ids[1];
      await expect(engine.rebuild('counting')).rejects.toThrow(`apply failed on ${events.ids[1]}`);
      projection.failOn = null;

      expect(tables()).toEqual(['counting_applied__g1']);
      expect(readModels.checkpoint('counting')).toMatchObject({ generation: 1, position: events.position });
      expect(rows(engine).map((r) => r.tag)).toEqual(['old', 'old', 'old']);
      const next = await append(store, 1);
      await expectCaughtUp(engine, next.position);
      expect(rows(engine)).toHaveLength(4);
    });

    it('is running after an operator rebuild that replaced an unfinished start-time rebuild', async () => {
      const events = await previousRun(3);

      // Version bump: the start-time rebuild stops at a faulty event, the operator rebuilds once it is fixed.
      const v2 = counting({ version: 2 });
      v2.failOn = events.ids[1];
      const engine2 = await startEngine([v2]);
      await until(() => statusOf(engine2).state === 'failed', { intervalMs: 5, what: 'the start-time rebuild failed' });
      v2.failOn = null;
      await expect(engine2.rebuild('counting')).resolves.toEqual({ processed: 3, position: events.position });

      expect(rows(engine2).map((r) => [r.event_id, r.times])).toEqual(events.ids.map((id) => [id, 1]));
      expect(statusOf(engine2)).toMatchObject({ state: 'running', position: events.position, error: null });
    });

    it('releases a command waiting for a position that the rebuild covered', async () => {
      const first = await append(store, 3);
      const projection = counting();
      // An event store whose reads take a turn of the event loop (as a networked store does).
      const slow: EventStore = Object.create(store, {
        readAll: {
          value: async (options: Parameters<EventStore['readAll']>[0]) => {
            await new Promise((r) => setImmediate(r));
            return store.readAll(options);
          },
        },
      });
      const engine = await startEngine([projection], slow);
      await expectCaughtUp(engine, first.position);

      // A command appends while the rebuild runs and waits for its position (read-your-writes).
      let waited: Promise<boolean> | undefined;
      let appended: Position | undefined;
      await engine.rebuild('counting', () => {
        if (appended === undefined) {
          appended = 'pending';
          void append(store, 1).then((r) => {
            appended = r.position;
            waited = engine.waitFor(r.position, 500);
          });
        }
      });
      await until(() => waited !== undefined, { intervalMs: 5, what: 'the command waits' });
      expect(readModels.checkpoint('counting')?.position).toBe(appended);
      await expect(waited).resolves.toBe(true);
    });

    it('refuses an unknown projection', async () => {
      const engine = await startEngine([counting()]);
      await expect(engine.rebuild('nope')).rejects.toThrow(/Unknown projection nope/);
    });
  });

  describe('waitFor (read-your-writes)', () => {
    it('resolves true at once for a position already passed, and once caught up for a new one', async () => {
      const first = await append(store, 1);
      const engine = await startEngine([counting()]);
      await expectCaughtUp(engine, first.position);
      await expectCaughtUp(engine, first.position, 0);

      // SQLite positions are contiguous: the next 3 events end at first + 3.
      const target = String(Number(first.position) + 3);
      const waited = engine.waitFor(target, 2000);
      const { position } = await append(store, 3);
      expect(position).toBe(target);
      await expect(waited).resolves.toBe(true);
      expect(statusOf(engine).position).toBe(target);
    });

    it('resolves false when the timeout elapses first', async () => {
      const { position } = await append(store, 1);
      const engine = await startEngine([counting()]);
      await expectCaughtUp(engine, position);
      const started = Date.now();
      await expect(engine.waitFor(String(Number(position) + 10), 60)).resolves.toBe(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    });

    it('waits for every projection: one failed projection keeps it false', async () => {
      const healthy = counting({ name: 'healthy' });
      const broken = counting({ name: 'broken' });
      const engine = await startEngine([healthy, broken]);
      const first = await append(store, 1);
      await expectCaughtUp(engine, first.position);

      broken.failOn = upcomingIds(1)[0];
      const next = await append(store, 1);
      await until(() => statusOf(engine, 'broken').state === 'failed', { intervalMs: 5, what: 'broken failed' });
      await until(() => statusOf(engine, 'healthy').position === next.position, { intervalMs: 5, what: 'healthy caught up' });
      await expect(engine.waitFor(next.position, 50)).resolves.toBe(false);
    });

    it('resolves pending waiters with false on stop', async () => {
      const engine = await startEngine([counting()]);
      const pending = engine.waitFor('1000', 10_000);
      await engine.stop();
      await expect(pending).resolves.toBe(false);
    });
  });

  describe('status()', () => {
    it('reports starting, running with the checkpoint, then stopped', async () => {
      const events = await append(store, 2);
      const engine = new ProjectionEngine(store, readModels, [counting()]);
      engines.push(engine);
      expect(engine.status()).toEqual([
        { name: 'counting', version: 1, state: 'starting', position: null, lastOccurredAt: null, error: null },
      ]);

      await engine.start();
      await expectCaughtUp(engine, events.position);
      const last = (await store.readLast())!;
      expect(engine.status()).toEqual([
        {
          name: 'counting',
          version: 1,
          state: 'running',
          position: events.position,
          lastOccurredAt: last.metadata.occurredAt,
          error: null,
        },
      ]);

      await engine.stop();
      expect(statusOf(engine).state).toBe('stopped');
    });

    it('reports a failing projection as failed and restarts it once the fault clears, without affecting the others', async () => {
      const healthy = counting({ name: 'healthy' });
      const projection = counting();
      const engine = await startEngine([projection, healthy]);
      projection.failOn = upcomingIds(3)[1];
      const events = await append(store, 3);

      await until(() => statusOf(engine).state === 'failed', { intervalMs: 5, what: 'the projection failed' });
      expect(statusOf(engine).error).toBe(`apply failed on ${events.ids[1]}`);
      expect(statusOf(engine).position).toBeNull();
      expect(rows(engine)).toEqual([]);
      await expect(engine.waitFor(events.position, 100)).resolves.toBe(false);
      expect(statusOf(engine, 'healthy')).toMatchObject({ state: 'running', position: events.position });

      projection.failOn = null;
      await expectCaughtUp(engine, events.position, 5000);
      expect(statusOf(engine)).toMatchObject({ state: 'running', error: null, position: events.position });
      expect(rows(engine).map((r) => [r.event_id, r.times])).toEqual(events.ids.map((id) => [id, 1]));
    });
  });
});
