import { Logger } from '@nestjs/common';
import { fsync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControllableClock } from '../../../test/support/controllable-clock';
import { until } from '../../../test/support/until';
import { Decider } from '../../domain/shared/decider';
import { DomainError } from '../../domain/shared/domain-error';
import { GENESIS_HASH, verifyChain } from '../../domain/shared/hash-chain';
import { SqliteEventStore } from '../../infrastructure/event-store/sqlite/sqlite-event-store';
import { UlidIds } from '../../infrastructure/ids/ulid-ids';
import {
  AppendResult,
  EventStore,
  EventStoreUnavailableError,
  ExpectedRevision,
  NewEvent,
  Position,
  ReadAllOptions,
  StoredEvent,
  SubscribeAllOptions,
  Subscription,
} from '../ports/event-store.port';
import { ReadModelSync } from '../ports/read-model-sync.port';
import { AggregateStreams, MAX_CONFLICT_RETRIES, StreamRef } from './aggregate-streams';
import { CommandContext } from './command-context';

// A counter whose events carry the resulting count, so a lost update shows as a repeated count.
type CounterEvent = { type: 'counter.incremented'; data: { count: number; at: string } };
type CounterState = { count: number };
type CounterCommand =
  { type: 'increment' } | { type: 'increment_twice' } | { type: 'noop' } | { type: 'refuse' } | { type: 'increment_by_step' };
type CounterContext = { now: string; step?: number };

const counterDecider: Decider<CounterCommand, CounterState, CounterEvent, CounterContext> = {
  initialState: () => ({ count: 0 }),
  evolve: (_state, event) => ({ count: event.data.count }),
  decide(command, state, { now, step }) {
    const inc = (count: number): CounterEvent => ({ type: 'counter.incremented', data: { count, at: now } });
    switch (command.type) {
      case 'increment':
        return [inc(state.count + 1)];
      case 'increment_twice':
        return [inc(state.count + 1), inc(state.count + 2)];
      case 'increment_by_step':
        return [inc(state.count + (step ?? 0))];
      case 'noop':
        return [];
      case 'refuse':
        throw new DomainError('STATE_CONFLICT', 'refused', { reason: 'refused' });
    }
  },
};

const ref: StreamRef = { streamId: 'counter-c1', entityType: 'counter', entityId: 'c1' };
const ctx: CommandContext = { correlationId: 'corr-1', causationId: 'cause-1', actor: { type: 'api-key', id: 'sha256:0123456789abcdef' } };

/**
 * Delegates to the real store; before each of the first `competeBeforeAppends` appends of the command
 * under test, a competing writer increments the same counter (reading it, appending with its revision).
 */
class ContendedStore implements EventStore {
  competeBeforeAppends = 0;
  failAppendsWith: unknown = null;
  readonly appendCalls: Array<{ streamId: string; expected: ExpectedRevision; events: NewEvent[] }> = [];

  constructor(readonly inner: SqliteEventStore) {}

  async append(streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    this.appendCalls.push({ streamId, expected, events });
    if (this.failAppendsWith) throw this.failAppendsWith;
    if (this.competeBeforeAppends > 0) {
      this.competeBeforeAppends -= 1;
      await competitorIncrements(this.inner, streamId);
    }
    return this.inner.append(streamId, events, expected);
  }
  readStream(streamId: string, options?: { fromRevision?: number }): Promise<StoredEvent[]> {
    return this.inner.readStream(streamId, options);
  }
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]> {
    return this.inner.readAll(options);
  }
  headPosition(): Promise<Position | null> {
    return this.inner.headPosition();
  }
  readLast(): Promise<StoredEvent | null> {
    return this.inner.readLast();
  }
  subscribeAll(options: SubscribeAllOptions, handler: (events: StoredEvent[]) => Promise<void> | void): Subscription {
    return this.inner.subscribeAll(options, handler);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

let competitorIds = 0;
async function competitorIncrements(store: EventStore, streamId: string): Promise<void> {
  const events = await store.readStream(streamId);
  const count = events.length ? (events[events.length - 1].data.count as number) : 0;
  await store.append(
    streamId,
    [
      {
        id: `evt_competitor_${++competitorIds}`,
        type: 'counter.incremented',
        data: { count: count + 1, at: 'competitor' },
        metadata: {
          correlationId: 'competitor',
          causationId: null,
          actor: { type: 'system', id: null },
          occurredAt: '2026-01-01T00:00:00.000Z',
          schemaVersion: 1,
        },
      },
    ],
    events.length === 0 ? 'no_stream' : events.length - 1,
  );
}

class RecordingSync implements ReadModelSync {
  readonly calls: Array<{ position: Position; timeoutMs?: number }> = [];
  caughtUp = true;
  async waitFor(position: Position, timeoutMs?: number): Promise<boolean> {
    this.calls.push({ position, timeoutMs });
    return this.caughtUp;
  }
}

describe('AggregateStreams (ARCHITECTURE §3)', () => {
  let real: SqliteEventStore;
  let store: ContendedStore;
  let clock: ControllableClock;
  let sync: RecordingSync;
  let streams: AggregateStreams;

  beforeEach(() => {
    real = new SqliteEventStore({ path: ':memory:' });
    store = new ContendedStore(real);
    clock = new ControllableClock('2026-03-01T12:00:00.000Z');
    sync = new RecordingSync();
    streams = new AggregateStreams(store, clock, new UlidIds(), sync);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await real.close();
  });

  describe('load', () => {
    it('returns the initial state and revision -1 for a missing stream', async () => {
      await expect(streams.load('counter-none', counterDecider)).resolves.toEqual({ state: { count: 0 }, revision: -1 });
    });

    it('folds the stream', async () => {
      await streams.handle(ref, counterDecider, { type: 'increment_twice' }, ctx);
      await expect(streams.load(ref.streamId, counterDecider)).resolves.toEqual({ state: { count: 2 }, revision: 1 });
    });

    it('keeps the folded state: a later load reads only the tail, including events another writer appended', async () => {
      await streams.handle(ref, counterDecider, { type: 'increment_twice' }, ctx);
      await streams.load(ref.streamId, counterDecider);
      // Another instance (a second AggregateStreams on the same store) appends.
      await new AggregateStreams(store, clock, new UlidIds()).handle(ref, counterDecider, { type: 'increment' }, ctx);
      const reads = jest.spyOn(store, 'readStream');
      await expect(streams.load(ref.streamId, counterDecider)).resolves.toEqual({ state: { count: 3 }, revision: 2 });
      expect(reads).toHaveBeenCalledWith(ref.streamId, { fromRevision: 2 });
      await expect(streams.load(ref.streamId, counterDecider)).resolves.toEqual({ state: { count: 3 }, revision: 2 });
      expect(reads).toHaveBeenLastCalledWith(ref.streamId, { fromRevision: 3 });
    });

    it('keeps states per decider: another decider of the same stream folds from the start', async () => {
      await streams.handle(ref, counterDecider, { type: 'increment_twice' }, ctx);
      await streams.load(ref.streamId, counterDecider);
      const eventsSeen = {
        ...counterDecider,
        initialState: () => ({ count: 0, seen: 0 }),
        evolve: (s: { count: number; seen: number }, e: CounterEvent) => ({ count: e.data.count, seen: s.seen + 1 }),
      };
      await expect(streams.load(ref.streamId, eventsSeen)).resolves.toEqual({ state: { count: 2, seen: 2 }, revision: 1 });
    });
  });

  /**
   * After a successful append, handle() keeps the state it folded with the appended revision: the next
   * load reads only the (empty) tail and folds nothing, yet still sees whatever another writer appended.
   */
  describe('the state handle() appended is kept', () => {
    /** State that depends on every event (not only the last): a wrong or partial fold shows. */
    type TallyState = { count: number; seen: number; ats: string[] };
    const tally = (): Decider<CounterCommand, TallyState, CounterEvent, CounterContext> & {
      evolve: jest.Mock<TallyState, [TallyState, CounterEvent]>;
    } => ({
      initialState: () => ({ count: 0, seen: 0, ats: [] }),
      evolve: jest.fn((s: TallyState, e: CounterEvent) => ({ count: e.data.count, seen: s.seen + 1, ats: [...s.ats, e.data.at] })),
      decide: (command, state, context) => counterDecider.decide(command, { count: state.count }, context),
    });
    /** The stream folded from scratch by a fresh instance (no kept state) over the same store. */
    const freshFold = async (over: EventStore = store) =>
      new AggregateStreams(over, clock, new UlidIds()).load(ref.streamId, { ...tally(), evolve: tally().evolve });

    it('the next load reads from the appended revision + 1, folds nothing, and returns the state handle() returned', async () => {
      const decider = tally();
      await streams.handle(ref, decider, { type: 'increment' }, ctx);
      clock.advance(1000);
      const result = await streams.handle(ref, decider, { type: 'increment_twice' }, ctx);
      expect(result).toMatchObject({ revision: 2, state: { count: 3, seen: 3 } });

      const reads = jest.spyOn(store, 'readStream');
      decider.evolve.mockClear();
      const loaded = await streams.load(ref.streamId, decider);

      expect(reads.mock.calls).toEqual([[ref.streamId, { fromRevision: result.revision + 1 }]]);
      expect(await reads.mock.results[0].value).toEqual([]);
      expect(decider.evolve).not.toHaveBeenCalled();
      expect(loaded).toEqual({ state: result.state, revision: result.revision });
      expect(loaded).toEqual(await freshFold());
      expect(loaded.state).toEqual({
        count: 3,
        seen: 3,
        ats: ['2026-03-01T12:00:00.000Z', '2026-03-01T12:00:01.000Z', '2026-03-01T12:00:01.000Z'],
      });
    });

    it('a handle() right after a handle() re-reads none of the events just appended', async () => {
      const decider = tally();
      const first = await streams.handle(ref, decider, { type: 'increment_twice' }, ctx);
      const reads = jest.spyOn(store, 'readStream');
      decider.evolve.mockClear();
      const second = await streams.handle(ref, decider, { type: 'increment' }, ctx);

      expect(reads.mock.calls).toEqual([[ref.streamId, { fromRevision: first.revision + 1 }]]);
      // Only the event the second command decided is evolved.
      expect(decider.evolve).toHaveBeenCalledTimes(1);
      expect(store.appendCalls.map((c) => c.expected)).toEqual(['no_stream', 1]);
      expect(second).toMatchObject({ revision: 2, state: { count: 3, seen: 3 } });
      expect(await streams.load(ref.streamId, decider)).toEqual({ state: second.state, revision: 2 });
      expect(await freshFold()).toEqual({ state: second.state, revision: 2 });
    });

    it('a load after another instance appended reads that writer’s events from the tail', async () => {
      const decider = tally();
      const mine = await streams.handle(ref, decider, { type: 'increment_twice' }, ctx);
      clock.advance(1000);
      const theirs = await new AggregateStreams(store, clock, new UlidIds()).handle(ref, tally(), { type: 'increment_twice' }, ctx);
      expect(theirs).toMatchObject({ revision: 3, state: { count: 4, seen: 4 } });

      const reads = jest.spyOn(store, 'readStream');
      const loaded = await streams.load(ref.streamId, decider);
      expect(reads.mock.calls).toEqual([[ref.streamId, { fromRevision: mine.revision + 1 }]]);
      expect((await reads.mock.results[0].value).map((e: StoredEvent) => e.data.count)).toEqual([3, 4]);
      expect(loaded).toEqual({ state: theirs.state, revision: 3 });
      expect(loaded).toEqual(await freshFold());
    });

    it('a handle() after a direct append to the stream decides on the other writer’s events, without a conflict', async () => {
      const decider = tally();
      await streams.handle(ref, decider, { type: 'increment' }, ctx);
      await competitorIncrements(real, ref.streamId);
      const reads = jest.spyOn(store, 'readStream');

      const result = await streams.handle(ref, decider, { type: 'increment' }, ctx);

      expect(reads.mock.calls).toEqual([[ref.streamId, { fromRevision: 1 }]]);
      expect(store.appendCalls.map((c) => c.expected)).toEqual(['no_stream', 1]);
      expect(result).toMatchObject({
        revision: 2,
        state: { count: 3, seen: 3, ats: [expect.any(String), 'competitor', expect.any(String)] },
      });
      expect((await real.readStream(ref.streamId)).map((e) => e.data.count)).toEqual([1, 2, 3]);
      expect(await streams.load(ref.streamId, decider)).toEqual({ state: result.state, revision: 2 });
      expect(await freshFold()).toEqual({ state: result.state, revision: 2 });
    });

    it('after a conflict and its retry, the kept state includes the competing writes', async () => {
      const decider = tally();
      await streams.handle(ref, decider, { type: 'increment' }, ctx);
      store.competeBeforeAppends = 2;
      const result = await streams.handle(ref, decider, { type: 'increment_twice' }, ctx);

      expect(store.appendCalls.map((c) => c.expected)).toEqual(['no_stream', 0, 1, 2]);
      expect(result).toMatchObject({ revision: 4, state: { count: 5, seen: 5 } });
      expect(result.state.ats.filter((at) => at === 'competitor')).toHaveLength(2);
      const reads = jest.spyOn(store, 'readStream');
      decider.evolve.mockClear();
      expect(await streams.load(ref.streamId, decider)).toEqual({ state: result.state, revision: 4 });
      expect(reads.mock.calls).toEqual([[ref.streamId, { fromRevision: 5 }]]);
      expect(decider.evolve).not.toHaveBeenCalled();
      expect(await freshFold()).toEqual({ state: result.state, revision: 4 });
    });

    it('nothing is kept for a command that gave up: the next load still reads the competing writes', async () => {
      const decider = tally();
      await streams.handle(ref, decider, { type: 'increment' }, ctx);
      store.competeBeforeAppends = Number.POSITIVE_INFINITY;
      await expect(streams.handle(ref, decider, { type: 'increment' }, ctx)).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
      store.competeBeforeAppends = 0;
      const loaded = await streams.load(ref.streamId, decider);
      // Ours at revision 0, then one competing write before each of the 1 + MAX_CONFLICT_RETRIES attempts.
      expect(loaded).toMatchObject({ revision: 1 + MAX_CONFLICT_RETRIES, state: { count: 2 + MAX_CONFLICT_RETRIES } });
      expect(loaded).toEqual(await freshFold());
    });

    it('another process (a second SQLite connection on the same file) appending is seen by the next load and handle()', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'peaqos-aggregate-streams-'));
      const mineStore = new SqliteEventStore({ path: join(dir, 'events.db') });
      const otherStore = new SqliteEventStore({ path: join(dir, 'events.db') });
      try {
        const decider = tally();
        const mine = new AggregateStreams(mineStore, clock, new UlidIds());
        const other = new AggregateStreams(otherStore, clock, new UlidIds());
        await mine.handle(ref, decider, { type: 'increment_twice' }, ctx);
        expect(await other.handle(ref, tally(), { type: 'increment' }, ctx)).toMatchObject({ revision: 2, state: { count: 3 } });

        const loaded = await mine.load(ref.streamId, decider);
        expect(loaded).toMatchObject({ revision: 2, state: { count: 3, seen: 3 } });
        expect(loaded).toEqual(await freshFold(otherStore));

        await other.handle(ref, tally(), { type: 'increment' }, ctx);
        const result = await mine.handle(ref, decider, { type: 'increment' }, ctx);
        expect(result).toMatchObject({ revision: 4, state: { count: 5, seen: 5 } });
        expect(await mine.load(ref.streamId, decider)).toEqual({ state: result.state, revision: 4 });
        expect(await freshFold(otherStore)).toEqual({ state: result.state, revision: 4 });
      } finally {
        await mineStore.close();
        await otherStore.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('handle', () => {
    it('appends the first command with no_stream, then with the exact revision', async () => {
      const first = await streams.handle(ref, counterDecider, { type: 'increment' }, ctx);
      const second = await streams.handle(ref, counterDecider, { type: 'increment_twice' }, ctx);
      const third = await streams.handle(ref, counterDecider, { type: 'increment' }, ctx);

      expect(store.appendCalls.map((c) => c.expected)).toEqual(['no_stream', 0, 2]);
      expect(first).toEqual({
        state: { count: 1 },
        events: [{ type: 'counter.incremented', data: { count: 1, at: '2026-03-01T12:00:00.000Z' } }],
        eventIds: [(await real.readStream(ref.streamId))[0].id],
        revision: 0,
        position: '1',
      });
      expect(second).toMatchObject({ state: { count: 3 }, revision: 2, position: '3' });
      expect(second.events).toHaveLength(2);
      expect(third).toMatchObject({ state: { count: 4 }, revision: 3, position: '4' });
      expect((await real.readStream(ref.streamId)).map((e) => e.data.count)).toEqual([1, 2, 3, 4]);
    });

    it('stamps correlation, causation, actor, occurredAt from the clock and schemaVersion 1', async () => {
      await streams.handle(ref, counterDecider, { type: 'increment' }, ctx);
      clock.advance(1500);
      await streams.handle(ref, counterDecider, { type: 'increment' }, { correlationId: 'corr-2', actor: { type: 'system', id: null } });

      const [e0, e1] = await real.readStream(ref.streamId);
      expect(e0.id).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(e1.id).not.toBe(e0.id);
      expect(e0.metadata).toEqual({
        correlationId: 'corr-1',
        causationId: 'cause-1',
        actor: { type: 'api-key', id: 'sha256:0123456789abcdef' },
        occurredAt: '2026-03-01T12:00:00.000Z',
        schemaVersion: 1,
        prevHash: GENESIS_HASH,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(e1.metadata).toMatchObject({
        correlationId: 'corr-2',
        causationId: null,
        actor: { type: 'system', id: null },
        occurredAt: '2026-03-01T12:00:01.500Z',
        schemaVersion: 1,
        prevHash: e0.metadata.hash,
      });
      expect(e1.data.at).toBe('2026-03-01T12:00:01.500Z');
      expect(verifyChain(await real.readStream(ref.streamId))).toBeNull();
    });

    it('passes the handler context to decide together with now', async () => {
      const result = await streams.handle(ref, counterDecider, { type: 'increment_by_step' }, ctx, { context: { step: 5 } });
      expect(result.state).toEqual({ count: 5 });
    });

    it('computes a context function from the freshly loaded state on every attempt', async () => {
      await streams.handle(ref, counterDecider, { type: 'increment' }, ctx);
      const seen: number[] = [];
      const context = (state: { count: number }) => {
        seen.push(state.count);
        return Promise.resolve({ step: state.count * 10 });
      };
      const result = await streams.handle(ref, counterDecider, { type: 'increment_by_step' }, ctx, { context });
      expect(seen).toEqual([1]);
      expect(result.state).toEqual({ count: 11 });
    });

    it('appends nothing when decide returns no events, and returns position null', async () => {
      await streams.handle(ref, counterDecider, { type: 'increment' }, ctx);
      const result = await streams.handle(ref, counterDecider, { type: 'noop' }, ctx);
      expect(result).toEqual({ state: { count: 1 }, events: [], eventIds: [], revision: 0, position: null });
      expect(store.appendCalls).toHaveLength(1);
      expect(await real.readAll()).toHaveLength(1);
    });

    it('lets a DomainError of decide through and writes nothing', async () => {
      await expect(streams.handle(ref, counterDecider, { type: 'refuse' }, ctx)).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
      expect(store.appendCalls).toHaveLength(0);
      expect(await real.headPosition()).toBeNull();
    });
  });

  describe('conflicts (§0.15)', () => {
    it('re-reads and re-decides on a conflict: the retry sees the competing write', async () => {
      store.competeBeforeAppends = 2;
      const result = await streams.handle(ref, counterDecider, { type: 'increment' }, ctx);

      expect(result.state).toEqual({ count: 3 });
      expect(result.revision).toBe(2);
      expect(store.appendCalls.map((c) => c.expected)).toEqual(['no_stream', 0, 1]);
      const events = await real.readStream(ref.streamId);
      expect(events.map((e) => [e.metadata.correlationId, e.data.count])).toEqual([
        ['competitor', 1],
        ['competitor', 2],
        ['corr-1', 3],
      ]);
    });

    it(`succeeds on the last of ${MAX_CONFLICT_RETRIES} retries`, async () => {
      expect(MAX_CONFLICT_RETRIES).toBe(3);
      store.competeBeforeAppends = 3;
      const result = await streams.handle(ref, counterDecider, { type: 'increment' }, ctx);
      expect(result.state).toEqual({ count: 4 });
      expect(store.appendCalls).toHaveLength(4);
    });

    it('gives up after 3 retries with CONCURRENCY_CONFLICT {entityType, id}, having written nothing', async () => {
      store.competeBeforeAppends = Number.POSITIVE_INFINITY;
      const error = await streams.handle(ref, counterDecider, { type: 'increment' }, ctx).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'CONCURRENCY_CONFLICT', details: { entityType: 'counter', id: 'c1' } });
      expect(store.appendCalls).toHaveLength(1 + MAX_CONFLICT_RETRIES);
      const events = await real.readStream(ref.streamId);
      expect(events).toHaveLength(4);
      expect(events.every((e) => e.metadata.correlationId === 'competitor')).toBe(true);
      expect(sync.calls).toHaveLength(0);
    });

    it('never loses an update among 30 concurrent increments', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) =>
          streams.handle(ref, counterDecider, { type: 'increment' }, { ...ctx, correlationId: `corr-${i}` }),
        ),
      );
      const succeeded = outcomes.filter((o) => o.status === 'fulfilled');
      const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');

      for (const f of failed)
        expect(f.reason).toMatchObject({ code: 'CONCURRENCY_CONFLICT', details: { entityType: 'counter', id: 'c1' } });
      expect(succeeded.length).toBeGreaterThan(0);
      const events = await real.readStream(ref.streamId);
      expect(events).toHaveLength(succeeded.length);
      expect(events.map((e) => e.data.count)).toEqual(Array.from({ length: succeeded.length }, (_, i) => i + 1));
      expect((await streams.load(ref.streamId, counterDecider)).state.count).toBe(succeeded.length);
      // Each successful command's correlation id appears exactly once.
      expect(new Set(events.map((e) => e.metadata.correlationId)).size).toBe(succeeded.length);
    });
  });

  describe('store failures', () => {
    it('maps an unavailable store on read to SERVICE_UNAVAILABLE', async () => {
      await real.close();
      await expect(streams.handle(ref, counterDecider, { type: 'increment' }, ctx)).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        details: { reason: 'event_store_unavailable' },
      });
    });

    it('maps an unavailable store on append to SERVICE_UNAVAILABLE, without retrying', async () => {
      store.failAppendsWith = new EventStoreUnavailableError('disk gone');
      const error = await streams.handle(ref, counterDecider, { type: 'increment' }, ctx).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(store.appendCalls).toHaveLength(1);
    });

    it('lets other append errors through unchanged', async () => {
      const boom = new Error('boom');
      store.failAppendsWith = boom;
      await expect(streams.handle(ref, counterDecider, { type: 'increment' }, ctx)).rejects.toBe(boom);
    });
  });

  describe('read-your-writes (ARCHITECTURE §4)', () => {
    it('waits for the read models to reach the appended position', async () => {
      await streams.handle(ref, counterDecider, { type: 'increment' }, ctx);
      const result = await streams.handle(ref, counterDecider, { type: 'increment_twice' }, ctx);
      expect(sync.calls.map((c) => c.position)).toEqual(['1', result.position]);
      expect(result.position).toBe('3');
    });

    it('does not wait with waitForReadModels: false, nor when nothing was appended', async () => {
      await streams.handle(ref, counterDecider, { type: 'increment' }, ctx, { waitForReadModels: false });
      await streams.handle(ref, counterDecider, { type: 'noop' }, ctx);
      expect(sync.calls).toEqual([]);
    });

    it('still succeeds (with a warning) when the read models do not catch up in time', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      sync.caughtUp = false;
      const result = await streams.handle(ref, counterDecider, { type: 'increment' }, ctx);
      expect(result.state).toEqual({ count: 1 });
      expect(warn).toHaveBeenCalled();
    });

    it('works without a ReadModelSync', async () => {
      const plain = new AggregateStreams(store, clock, new UlidIds());
      await expect(plain.handle(ref, counterDecider, { type: 'increment' }, ctx)).resolves.toMatchObject({ position: '1' });
    });
  });

  /**
   * A stream's next command starts once the previous one's events are committed, while they are being
   * made durable (a hot pairing is not held to one order per WAL sync); neither is acknowledged before
   * its own sync, and a failed sync acknowledges neither.
   */
  describe("commands on one stream overlap the previous one's sync", () => {
    let dir: string;
    let durable: SqliteEventStore;
    let syncs: Array<{ run: () => void; fail: (error: Error) => void }>;
    let autoSync: boolean;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'peaqos-streams-sync-'));
      syncs = [];
      autoSync = false;
      durable = new SqliteEventStore({
        path: join(dir, 'events.db'),
        fsync: (fd) =>
          new Promise<void>((resolve, reject) => {
            const run = () => fsync(fd, (error) => (error ? reject(error) : resolve()));
            if (autoSync) run();
            else syncs.push({ run, fail: reject });
          }),
      });
    });
    afterEach(async () => {
      autoSync = true;
      for (const s of syncs.splice(0)) s.run();
      await durable.close();
      rmSync(dir, { recursive: true, force: true });
    });

    function twoIncrements() {
      const overlapping = new AggregateStreams(durable, clock, new UlidIds());
      const acknowledged: string[] = [];
      const run = (name: string) =>
        overlapping.handle(ref, counterDecider, { type: 'increment' }, ctx, { waitForReadModels: false }).then((result) => {
          acknowledged.push(name);
          return result;
        });
      const [first, second] = [run('first'), run('second')];
      // Awaited by each test; a test that fails first must not leave them unhandled.
      for (const settled of [first, second]) settled.catch(() => undefined);
      return { acknowledged, first, second };
    }

    it('decides the next command on the committed state before it is synced; each is acknowledged after its sync', async () => {
      const { acknowledged, first, second } = twoIncrements();
      await until(() => syncs.length === 1, { intervalMs: 5, what: 'one fsync is pending' });
      // The second command decided on count 1 and committed while the first's sync still runs.
      await until(async () => (await durable.readStream(ref.streamId)).length === 2, {
        intervalMs: 5,
        what: 'both increments are committed',
      });
      expect((await durable.readStream(ref.streamId)).map((e) => e.data.count)).toEqual([1, 2]);
      expect(syncs).toHaveLength(1);
      expect(acknowledged).toEqual([]);

      syncs.shift()!.run();
      await expect(first).resolves.toMatchObject({ state: { count: 1 }, revision: 0 });
      await until(() => syncs.length === 1, { intervalMs: 5, what: 'one fsync is pending' });
      expect(acknowledged).toEqual(['first']);
      syncs.shift()!.run();
      await expect(second).resolves.toMatchObject({ state: { count: 2 }, revision: 1 });
      expect(acknowledged).toEqual(['first', 'second']);
    });

    it('acknowledges neither when the sync under the first fails', async () => {
      const { acknowledged, first, second } = twoIncrements();
      await until(() => syncs.length === 1, { intervalMs: 5, what: 'one fsync is pending' });
      await until(async () => (await durable.readStream(ref.streamId)).length === 2, {
        intervalMs: 5,
        what: 'both increments are committed',
      });
      syncs.shift()!.fail(new Error('EIO: i/o error, fsync'));
      await expect(first).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      await expect(second).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(acknowledged).toEqual([]);
    });
  });
});
