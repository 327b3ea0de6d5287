import { randomUUID } from 'node:crypto';
import {
  AppendResult,
  comparePositions,
  EventStore,
  EventStoreUnavailableError,
  ExpectedRevision,
  NewEvent,
  Position,
  StoredEvent,
  SubscribeAllOptions,
  Subscription,
  WrongExpectedRevisionError,
} from '../../src/application/ports/event-store.port';
import { chainHash, GENESIS_HASH, verifyChain } from '../../src/domain/shared/hash-chain';

/**
 * The EventStore contract (ARCHITECTURE §3, port documentation in src/application/ports/event-store.port.ts,
 * hash chain spec/API.md §8.7.3). Every adapter runs this suite through a harness.
 */
export type EventStoreHarness = {
  /** Opens a store on a fresh, empty backing location. */
  create(): Promise<EventStore>;
  /** Closes `store` and opens a new instance on the SAME backing location (simulates a process restart); undefined if the adapter cannot (e.g. in-memory). */
  reopen?(store: EventStore): Promise<EventStore>;
  /** True when positions are consecutive integers (SQLite); false for adapters whose positions have gaps (EventStoreDB). */
  contiguousPositions: boolean;
  /** Upper bound of one test; adapters that talk over the network may need more than the default. */
  testTimeoutMs?: number;
  cleanup?(): Promise<void>;
};

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/** Upper bound for a single test unless the harness says otherwise. */
const DEFAULT_TEST_TIMEOUT_MS = 10_000;
/** How long we wait for a subscription to deliver something before failing. */
const DELIVERY_DEADLINE_MS = 5_000;
/** How long we keep watching after the expected deliveries, to catch duplicates or late deliveries. */
const SETTLE_MS = 150;

/** A NewEvent with a random id and default metadata. */
export function ev(type: string, data: Record<string, unknown> = {}): NewEvent {
  return {
    id: `evt_${randomUUID()}`,
    type,
    data,
    metadata: {
      correlationId: `corr_${randomUUID()}`,
      causationId: null,
      actor: { type: 'anonymous', id: null },
      occurredAt: new Date().toISOString(),
      schemaVersion: 1,
    },
  };
}

/** A unique stream id, so tests never depend on each other even if a harness shares a backing location. */
function streamName(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 5 ms until it holds; throws a descriptive error once the deadline passes. */
async function waitUntil(condition: () => boolean, describeState: () => string, timeoutMs = DELIVERY_DEADLINE_MS) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${describeState()}`);
    await sleep(5);
  }
}

function expectStrictlyIncreasing(positions: Position[]) {
  for (let i = 1; i < positions.length; i++) {
    if (comparePositions(positions[i - 1], positions[i]) >= 0) {
      throw new Error(`positions not strictly increasing at index ${i}: ${positions[i - 1]} then ${positions[i]}`);
    }
  }
}

function expectConsecutive(positions: Position[]) {
  for (let i = 1; i < positions.length; i++) {
    if (BigInt(positions[i]) !== BigInt(positions[i - 1]) + 1n) {
      throw new Error(`positions not consecutive at index ${i}: ${positions[i - 1]} then ${positions[i]}`);
    }
  }
}

function expectPositionFormat(position: Position) {
  expect(typeof position).toBe('string');
  expect(position).toMatch(/^(0|[1-9][0-9]*)$/);
}

/** Checks the §8.7.3 hash chain of one complete stream, member by member (not only through verifyChain). */
function expectValidChain(events: StoredEvent[]) {
  let prev = GENESIS_HASH;
  events.forEach((e, i) => {
    expect(e.revision).toBe(i);
    expect(e.metadata.prevHash).toBe(prev);
    expect(e.metadata.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(e.metadata.hash).toBe(
      chainHash({
        prevHash: e.metadata.prevHash,
        streamId: e.streamId,
        streamRevision: e.revision,
        type: e.type,
        data: e.data,
        occurredAt: e.metadata.occurredAt,
      }),
    );
    prev = e.metadata.hash;
  });
  expect(verifyChain(events)).toBeNull();
}

/** Awaits `promise`, expecting a WrongExpectedRevisionError; returns it. */
async function expectConflict(promise: Promise<unknown>): Promise<WrongExpectedRevisionError> {
  let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await promise };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (outcome.ok) throw new Error(`expected WrongExpectedRevisionError, but append succeeded with ${JSON.stringify(outcome.value)}`);
  if (!(outcome.error instanceof WrongExpectedRevisionError)) {
    throw new Error(`expected WrongExpectedRevisionError, got ${String(outcome.error)}`);
  }
  return outcome.error;
}

function ids(events: StoredEvent[]): string[] {
  return events.map((e) => e.id);
}

type Collector = {
  events: StoredEvent[];
  batches: StoredEvent[][];
  handler: (batch: StoredEvent[]) => void;
  /** Waits until at least `n` events arrived, then a short settle period so duplicates would show up too. */
  waitFor(n: number): Promise<void>;
};

function collector(): Collector {
  const c: Collector = {
    events: [],
    batches: [],
    handler: (batch) => {
      c.batches.push(batch);
      c.events.push(...batch);
    },
    async waitFor(n: number) {
      await waitUntil(
        () => c.events.length >= n,
        () => `subscription delivered ${c.events.length} of ${n} expected events (${c.batches.length} batches)`,
      );
      await sleep(SETTLE_MS);
    },
  };
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------------------

export function describeEventStoreContract(name: string, harness: EventStoreHarness): void {
  const TEST_TIMEOUT_MS = harness.testTimeoutMs ?? DEFAULT_TEST_TIMEOUT_MS;
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let storeClosed = false;
    let subscriptions: Subscription[] = [];

    /** Subscribes and remembers the subscription so afterEach closes it (exactly once). */
    function subscribe(options: SubscribeAllOptions, handler: (events: StoredEvent[]) => Promise<void> | void): Subscription {
      const sub = store.subscribeAll(options, handler);
      let closing: Promise<void> | undefined;
      const tracked: Subscription = { close: () => (closing ??= sub.close()) };
      subscriptions.push(tracked);
      return tracked;
    }

    /** Appends `count` events one by one to `streamId` with `any`; returns the appended events as read back. */
    async function seed(streamId: string, count: number, type = 'test.seeded'): Promise<StoredEvent[]> {
      for (let i = 0; i < count; i++) await store.append(streamId, [ev(type, { i })], 'any');
      return store.readStream(streamId);
    }

    beforeEach(async () => {
      store = await harness.create();
      storeClosed = false;
      subscriptions = [];
    });

    afterEach(async () => {
      try {
        for (const sub of subscriptions) await sub.close();
      } finally {
        if (!storeClosed) await store.close();
      }
    });

    afterAll(async () => {
      await harness.cleanup?.();
    });

    // -----------------------------------------------------------------------------------------------------
    describe('append and readStream', () => {
      it(
        'appends to a new stream with no_stream: revisions 0..n-1, in order, round-tripped unchanged',
        async () => {
          const streamId = streamName('machine');
          const events: NewEvent[] = [
            ev('machine.registered', {
              id: 'mach_1',
              name: 'Drone ✈️ "north" — ünïcode',
              tags: ['a', 'b', ''],
              nested: { deep: { n: -12.5, big: 9007199254740991, t: true, f: false, nil: null } },
              empty: {},
              list: [{ x: 1 }, [2, 3], null],
            }),
            {
              ...ev('machine.updated', { changes: { name: 'x' } }),
              metadata: {
                correlationId: 'corr_fixed',
                causationId: 'evt_cause',
                actor: { type: 'api-key', id: 'sha256:0123456789abcdef' },
                occurredAt: '2025-01-01T00:00:00.000Z',
                schemaVersion: 2,
              },
            },
            {
              ...ev('machine.status_changed', { from: 'active', to: 'blocked' }),
              metadata: {
                correlationId: 'corr_other',
                causationId: null,
                actor: { type: 'system', id: null },
                occurredAt: '2025-06-30T23:59:59.999Z',
                schemaVersion: 1,
              },
            },
          ];

          const result = await store.append(streamId, events, 'no_stream');
          const stored = await store.readStream(streamId);

          expect(stored).toHaveLength(events.length);
          stored.forEach((s, i) => {
            const original = events[i];
            expect(s.id).toBe(original.id);
            expect(s.streamId).toBe(streamId);
            expect(s.revision).toBe(i);
            expect(s.type).toBe(original.type);
            expect(s.data).toEqual(original.data);
            expect(s.metadata).toEqual({ ...original.metadata, prevHash: expect.any(String), hash: expect.any(String) });
            expectPositionFormat(s.position);
          });
          expectStrictlyIncreasing(stored.map((s) => s.position));

          expect(result.nextRevision).toBe(events.length - 1);
          expectPositionFormat(result.position);
          expect(result.position).toBe(stored[stored.length - 1].position);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'a second append continues the revisions and reports the new last revision and position',
        async () => {
          const streamId = streamName();
          await store.append(streamId, [ev('a'), ev('b')], 'no_stream');
          const result = await store.append(streamId, [ev('c'), ev('d'), ev('e')], 1);
          const stored = await store.readStream(streamId);
          expect(stored.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
          expect(stored.map((e) => e.type)).toEqual(['a', 'b', 'c', 'd', 'e']);
          expect(result).toEqual({ nextRevision: 4, position: stored[4].position });
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'readStream of a missing stream returns []',
        async () => {
          expect(await store.readStream(streamName('missing'))).toEqual([]);
          expect(await store.readStream(streamName('missing'), { fromRevision: 0 })).toEqual([]);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'readStream with fromRevision returns the tail',
        async () => {
          const streamId = streamName();
          const all = await seed(streamId, 5);
          expect(await store.readStream(streamId, { fromRevision: 0 })).toEqual(all);
          expect(await store.readStream(streamId, { fromRevision: 2 })).toEqual(all.slice(2));
          expect((await store.readStream(streamId, { fromRevision: 4 })).map((e) => e.revision)).toEqual([4]);
          expect(await store.readStream(streamId, { fromRevision: 5 })).toEqual([]);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'readStream only returns the events of its own stream',
        async () => {
          const a = streamName('a');
          const b = streamName('b');
          await store.append(a, [ev('a.1')], 'no_stream');
          await store.append(b, [ev('b.1')], 'no_stream');
          await store.append(a, [ev('a.2')], 0);
          expect((await store.readStream(a)).map((e) => [e.streamId, e.type, e.revision])).toEqual([
            [a, 'a.1', 0],
            [a, 'a.2', 1],
          ]);
          expect((await store.readStream(b)).map((e) => [e.streamId, e.type, e.revision])).toEqual([[b, 'b.1', 0]]);
        },
        TEST_TIMEOUT_MS,
      );
    });

    // -----------------------------------------------------------------------------------------------------
    describe('expected revision', () => {
      async function snapshot(streamId: string) {
        return {
          stream: await store.readStream(streamId),
          all: await store.readAll(),
          head: await store.headPosition(),
        };
      }

      it(
        'no_stream on an existing stream conflicts and writes nothing',
        async () => {
          const streamId = streamName();
          await store.append(streamId, [ev('a'), ev('b')], 'no_stream');
          const before = await snapshot(streamId);

          const error = await expectConflict(store.append(streamId, [ev('c')], 'no_stream'));
          expect(error).toBeInstanceOf(WrongExpectedRevisionError);
          expect(error).toBeInstanceOf(Error);
          expect(error.streamId).toBe(streamId);
          expect(error.expected).toBe('no_stream');
          expect(error.actual).toBe(1);

          expect(await snapshot(streamId)).toEqual(before);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'an exact revision succeeds when it is the last revision',
        async () => {
          const streamId = streamName();
          await store.append(streamId, [ev('a'), ev('b'), ev('c')], 'no_stream');
          const result = await store.append(streamId, [ev('d')], 2);
          expect(result.nextRevision).toBe(3);
          expect((await store.readStream(streamId)).map((e) => e.type)).toEqual(['a', 'b', 'c', 'd']);
        },
        TEST_TIMEOUT_MS,
      );

      it.each<[string, number]>([
        ['stale (lower)', 1],
        ['stale (0)', 0],
        ['future (higher)', 3],
        ['far future', 100],
      ])(
        'a %s revision conflicts with actual = the real last revision and writes nothing',
        async (_label, expected) => {
          const streamId = streamName();
          await store.append(streamId, [ev('a'), ev('b'), ev('c')], 'no_stream');
          const before = await snapshot(streamId);

          const error = await expectConflict(store.append(streamId, [ev('x')], expected));
          expect(error.streamId).toBe(streamId);
          expect(error.expected).toBe(expected);
          expect(error.actual).toBe(2);

          expect(await snapshot(streamId)).toEqual(before);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'a numeric revision on a missing stream conflicts with actual = -1',
        async () => {
          const streamId = streamName('missing');
          const before = await snapshot(streamId);
          for (const expected of [0, 5]) {
            const error = await expectConflict(store.append(streamId, [ev('x')], expected));
            expect(error.streamId).toBe(streamId);
            expect(error.expected).toBe(expected);
            expect(error.actual).toBe(-1);
          }
          expect(await snapshot(streamId)).toEqual(before);
          expect(before.stream).toEqual([]);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'any appends whatever the state of the stream',
        async () => {
          const streamId = streamName();
          const first = await store.append(streamId, [ev('a')], 'any');
          expect(first.nextRevision).toBe(0);
          const second = await store.append(streamId, [ev('b'), ev('c')], 'any');
          expect(second.nextRevision).toBe(2);
          const stored = await store.readStream(streamId);
          expect(stored.map((e) => [e.type, e.revision])).toEqual([
            ['a', 0],
            ['b', 1],
            ['c', 2],
          ]);
          expect(second.position).toBe(stored[2].position);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'a conflicting multi-event append writes none of its events',
        async () => {
          const streamId = streamName();
          await store.append(streamId, [ev('a'), ev('b')], 'no_stream');
          const before = await snapshot(streamId);

          const batch = [ev('x1'), ev('x2'), ev('x3')];
          await expectConflict(store.append(streamId, batch, 0));
          await expectConflict(store.append(streamId, batch, 'no_stream'));
          await expectConflict(store.append(streamId, batch, 7));

          expect(await snapshot(streamId)).toEqual(before);
          const allIds = new Set(ids(await store.readAll()));
          for (const e of batch) expect(allIds.has(e.id)).toBe(false);

          // A missing stream too.
          const missing = streamName('missing');
          await expectConflict(store.append(missing, [ev('y1'), ev('y2')], 1));
          expect(await store.readStream(missing)).toEqual([]);
          expect(await store.readAll()).toEqual(before.all);
        },
        TEST_TIMEOUT_MS,
      );
    });

    // -----------------------------------------------------------------------------------------------------
    describe('onCommitted', () => {
      it(
        "is called once, with the append's result, before the append resolves",
        async () => {
          const streamId = streamName();
          const calls: Array<{ result: unknown; resolvedBefore: boolean }> = [];
          let resolved = false;
          const result = await store
            .append(streamId, [ev('a'), ev('b')], 'no_stream', { onCommitted: (r) => calls.push({ result: r, resolvedBefore: resolved }) })
            .then((r) => {
              resolved = true;
              return r;
            });
          expect(calls).toEqual([{ result, resolvedBefore: false }]);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'is not called for an append that conflicts',
        async () => {
          const streamId = streamName();
          await store.append(streamId, [ev('a')], 'no_stream');
          const onCommitted = jest.fn();
          await expectConflict(store.append(streamId, [ev('b')], 'no_stream', { onCommitted }));
          expect(onCommitted).not.toHaveBeenCalled();
        },
        TEST_TIMEOUT_MS,
      );
    });

    // -----------------------------------------------------------------------------------------------------
    describe('concurrency', () => {
      it(
        'no_stream reservation: of 20 concurrent no_stream appends exactly one wins',
        async () => {
          const streamId = `_reservation-${randomUUID()}`;
          const candidates = Array.from({ length: 20 }, (_, i) => ev('reservation.claimed', { claimant: i }));
          const results = await Promise.allSettled(candidates.map((e) => store.append(streamId, [e], 'no_stream')));

          const fulfilled = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, value: r.value }] : []));
          const rejected = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
          expect(fulfilled).toHaveLength(1);
          expect(rejected).toHaveLength(19);
          for (const reason of rejected) {
            expect(reason).toBeInstanceOf(WrongExpectedRevisionError);
            const error = reason as WrongExpectedRevisionError;
            expect(error.streamId).toBe(streamId);
            expect(error.expected).toBe('no_stream');
            expect(error.actual).toBe(0);
          }

          const stored = await store.readStream(streamId);
          expect(stored).toHaveLength(1);
          expect(stored[0].id).toBe(candidates[fulfilled[0].i].id);
          expect(fulfilled[0].value).toEqual({ nextRevision: 0, position: stored[0].position });
          expect(await store.readAll()).toEqual(stored);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        '50 writers racing on one stream with expected revisions: every write lands exactly once',
        async () => {
          const streamId = streamName('race');
          const writers = 50;
          const maxAttempts = 500;

          const writer = async (writerId: number) => {
            for (let attempt = 0; attempt < maxAttempts; attempt++) {
              const current = await store.readStream(streamId);
              const expected: ExpectedRevision = current.length === 0 ? 'no_stream' : current[current.length - 1].revision;
              try {
                return await store.append(streamId, [ev('race.wrote', { writerId, attempt })], expected);
              } catch (error) {
                if (!(error instanceof WrongExpectedRevisionError)) throw error;
                // Like AggregateStreams: a short random pause, so the losers do not re-collide in lockstep.
                await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
              }
            }
            throw new Error(`writer ${writerId} gave up after ${maxAttempts} attempts`);
          };

          const results = await Promise.all(Array.from({ length: writers }, (_, i) => writer(i)));

          const stored = await store.readStream(streamId);
          expect(stored.length).toBe(writers);
          expect(stored.map((e) => e.revision)).toEqual(Array.from({ length: writers }, (_, i) => i));
          const writerIds = stored.map((e) => e.data.writerId as number).sort((a, b) => a - b);
          expect(writerIds).toEqual(Array.from({ length: writers }, (_, i) => i));
          expect(new Set(results.map((r) => r.nextRevision)).size).toBe(writers);
          expectValidChain(stored);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        '1,000 concurrent appends on distinct streams: all visible exactly once, positions strictly increasing',
        async () => {
          const appends = Array.from({ length: 1000 }, (_, i) => ({ streamId: streamName(`bulk-${i}`), event: ev('bulk.created', { i }) }));
          const results = await Promise.all(appends.map((a) => store.append(a.streamId, [a.event], 'no_stream')));
          expect(results.every((r) => r.nextRevision === 0)).toBe(true);

          const all = await store.readAll();
          expect(all.length).toBe(1000);
          const seen = new Set(ids(all));
          expect(seen.size).toBe(1000);
          for (const a of appends) expect(seen.has(a.event.id)).toBe(true);

          const positions = all.map((e) => e.position);
          positions.forEach(expectPositionFormat);
          expectStrictlyIncreasing(positions);
          if (harness.contiguousPositions) expectConsecutive(positions);

          // Each AppendResult.position is the position the event is read back at.
          const byId = new Map(all.map((e) => [e.id, e]));
          appends.forEach((a, i) => {
            const stored = byId.get(a.event.id)!;
            expect(stored.streamId).toBe(a.streamId);
            expect(stored.revision).toBe(0);
            expect(results[i].position).toBe(stored.position);
          });
          expect(await store.headPosition()).toBe(positions[positions.length - 1]);
        },
        TEST_TIMEOUT_MS,
      );
    });

    // -----------------------------------------------------------------------------------------------------
    describe('readAll and headPosition', () => {
      /** Appends interleaved across three streams; returns the event ids in commit order. */
      async function interleave(): Promise<{ order: string[]; streams: string[] }> {
        const [a, b, c] = [streamName('a'), streamName('b'), streamName('c')];
        const order: string[] = [];
        const plan: Array<[string, NewEvent[], ExpectedRevision]> = [
          [a, [ev('a.0')], 'no_stream'],
          [b, [ev('b.0'), ev('b.1')], 'no_stream'],
          [a, [ev('a.1')], 0],
          [c, [ev('c.0')], 'any'],
          [b, [ev('b.2')], 1],
          [a, [ev('a.2'), ev('a.3')], 1],
        ];
        for (const [streamId, events, expected] of plan) {
          await store.append(streamId, events, expected);
          order.push(...events.map((e) => e.id));
        }
        return { order, streams: [a, b, c] };
      }

      it(
        'headPosition is null on an empty store',
        async () => {
          expect(await store.headPosition()).toBeNull();
          expect(await store.readAll()).toEqual([]);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'headPosition equals the position of the last appended event',
        async () => {
          const first = await store.append(streamName(), [ev('a')], 'no_stream');
          expect(await store.headPosition()).toBe(first.position);
          const second = await store.append(streamName(), [ev('b'), ev('c')], 'no_stream');
          expect(await store.headPosition()).toBe(second.position);
          const all = await store.readAll();
          expect(await store.headPosition()).toBe(all[all.length - 1].position);
          // A failed append does not move the head.
          await expectConflict(store.append(streamName(), [ev('d')], 3));
          expect(await store.headPosition()).toBe(second.position);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'readAll returns events of every stream in global (commit) order',
        async () => {
          const { order, streams } = await interleave();
          const all = await store.readAll();
          expect(ids(all)).toEqual(order);
          expectStrictlyIncreasing(all.map((e) => e.position));
          if (harness.contiguousPositions) expectConsecutive(all.map((e) => e.position));
          // The same events as readStream returns, field for field.
          for (const s of streams) {
            expect(all.filter((e) => e.streamId === s)).toEqual(await store.readStream(s));
          }
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'readAll `after` is exclusive and `limit` is respected',
        async () => {
          const { order } = await interleave();
          const all = await store.readAll();

          expect(ids(await store.readAll({ after: all[0].position }))).toEqual(order.slice(1));
          expect(ids(await store.readAll({ after: all[3].position }))).toEqual(order.slice(4));
          expect(await store.readAll({ after: all[all.length - 1].position })).toEqual([]);

          expect(ids(await store.readAll({ limit: 1 }))).toEqual(order.slice(0, 1));
          expect(ids(await store.readAll({ limit: 3 }))).toEqual(order.slice(0, 3));
          expect(ids(await store.readAll({ limit: 100 }))).toEqual(order);
          expect(ids(await store.readAll({ after: all[2].position, limit: 2 }))).toEqual(order.slice(3, 5));
          expect(ids(await store.readAll({ after: all[5].position, limit: 10 }))).toEqual(order.slice(6));
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'readAll `after` a position below the first event returns everything',
        async () => {
          const { order } = await interleave();
          const all = await store.readAll();
          const first = BigInt(all[0].position);
          // Positions are non-negative; when the first one is 0 there is no lower position to start after.
          if (first > 0n) expect(ids(await store.readAll({ after: (first - 1n).toString() }))).toEqual(order);
          if (first > 0n) expect(ids(await store.readAll({ after: '0' }))).toEqual(order);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'readAll without a limit returns every event (no implicit cap)',
        async () => {
          const streamId = streamName('many');
          const total = 1_500;
          for (let i = 0; i < total; i += 250) {
            const events = Array.from({ length: 250 }, (_, j) => ev('many', { n: i + j }));
            await store.append(streamId, events, i === 0 ? 'no_stream' : i - 1);
          }
          const all = await store.readAll();
          expect(all.length).toBe(total); // not toHaveLength: keeps a failure readable
          expect(all.map((e) => e.data.n)).toEqual(Array.from({ length: total }, (_, i) => i));
          expect((await store.readAll({ after: all[99].position })).length).toBe(total - 100);
        },
        TEST_TIMEOUT_MS,
      );

      it.each([1, 2, 3, 4, 9])(
        'paging with limit %i and after = the last position of the previous page visits every event once',
        async (limit) => {
          const { order } = await interleave();
          const visited: string[] = [];
          let after: Position | undefined;
          for (let pages = 0; pages < 100; pages++) {
            const page = await store.readAll(after === undefined ? { limit } : { after, limit });
            expect(page.length).toBeLessThanOrEqual(limit);
            if (page.length === 0) break;
            visited.push(...ids(page));
            after = page[page.length - 1].position;
          }
          expect(visited).toEqual(order);
        },
        TEST_TIMEOUT_MS,
      );
    });

    // -----------------------------------------------------------------------------------------------------
    describe('hash chain (§8.7.3)', () => {
      it(
        'stamps prevHash/hash on every event: genesis first, each prevHash = previous hash, hash = chainHash(...)',
        async () => {
          const streamId = streamName('policy');
          await store.append(streamId, [ev('policy.created', { name: 'p' })], 'no_stream');
          await store.append(streamId, [ev('policy.updated', { changes: { name: 'q' } })], 0);
          await store.append(streamId, [ev('policy.deleted', {})], 1);
          const stored = await store.readStream(streamId);
          expect(stored).toHaveLength(3);
          expect(stored[0].metadata.prevHash).toBe(GENESIS_HASH);
          expectValidChain(stored);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'holds for appends with any and for multi-event appends',
        async () => {
          const streamId = streamName();
          await store.append(streamId, [ev('m.0'), ev('m.1'), ev('m.2')], 'any');
          await store.append(streamId, [ev('m.3')], 'any');
          await store.append(streamId, [ev('m.4'), ev('m.5')], 3);
          await store.append(streamId, [ev('m.6'), ev('m.7'), ev('m.8'), ev('m.9')], 'any');
          const stored = await store.readStream(streamId);
          expect(stored).toHaveLength(10);
          expectValidChain(stored);
          // A partial read (tail) verifies from its first event onwards.
          expect(verifyChain(await store.readStream(streamId, { fromRevision: 4 }))).toBeNull();
          // readAll carries the same stamps.
          expect((await store.readAll()).filter((e) => e.streamId === streamId)).toEqual(stored);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'every stream has its own chain starting at the genesis hash',
        async () => {
          const a = streamName('a');
          const b = streamName('b');
          await store.append(a, [ev('x', { same: true }), ev('y')], 'no_stream');
          await store.append(b, [ev('x', { same: true })], 'no_stream');
          await store.append(a, [ev('z')], 1);
          const streamA = await store.readStream(a);
          const streamB = await store.readStream(b);
          expectValidChain(streamA);
          expectValidChain(streamB);
          expect(streamB[0].metadata.prevHash).toBe(GENESIS_HASH);
          expect(streamA[2].metadata.prevHash).toBe(streamA[1].metadata.hash);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'matches the spec test vector',
        async () => {
          const streamId = 'policy-pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
          const created = ev('policy.created', {
            createdAt: '2025-01-01T00:00:00.000Z',
            description: '',
            id: 'pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C',
            name: 'Price feeds only',
            rules: { allowedServiceTypes: ['oracle.price-feed'] },
            updatedAt: '2025-01-01T00:00:00.000Z',
          });
          created.metadata.occurredAt = '2025-01-01T00:00:00.000Z';
          const deleted = ev('policy.deleted', { id: 'pol_01JD8Y6K3W5T2Q9R7M4N0P1B2C' });
          deleted.metadata.occurredAt = '2025-01-02T00:00:00.000Z';

          await store.append(streamId, [created], 'no_stream');
          await store.append(streamId, [deleted], 0);
          const stored = await store.readStream(streamId);
          expect(stored.map((e) => e.metadata.hash)).toEqual([
            '42af64ba2a437d447b7016c5c109fd43d50399c1ff6b9b4ad97e578c801c5cc1',
            '47e25650c20fa9f45d36c5c2ecf631aa1bc9843012fd27445eb17a2dfbed9cf4',
          ]);
          expect(stored[1].metadata.prevHash).toBe(stored[0].metadata.hash);
        },
        TEST_TIMEOUT_MS,
      );
    });

    // -----------------------------------------------------------------------------------------------------
    describe('idempotent retry', () => {
      it(
        'retrying the same events at the same expected revision returns the same result and writes nothing',
        async () => {
          const streamId = streamName();
          const batch = [ev('a'), ev('b')];
          const first = await store.append(streamId, batch, 'no_stream');
          const before = { stream: await store.readStream(streamId), all: await store.readAll() };

          const retry = await store.append(streamId, batch, 'no_stream');
          expect(retry).toEqual(first);

          const next = [ev('c')];
          const second = await store.append(streamId, next, 1);
          const retrySecond = await store.append(streamId, next, 1);
          expect(retrySecond).toEqual(second);

          const stream = await store.readStream(streamId);
          expect(stream.slice(0, 2)).toEqual(before.stream);
          expect(ids(stream)).toEqual([...ids(before.stream), next[0].id]);
          expect(await store.readAll()).toEqual(stream);
          expectValidChain(stream);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'different event ids at that stale revision still conflict',
        async () => {
          const streamId = streamName();
          await store.append(streamId, [ev('a'), ev('b')], 'no_stream');
          const third = [ev('c')];
          await store.append(streamId, third, 1);
          const before = await store.readAll();

          const error = await expectConflict(store.append(streamId, [ev('c')], 1));
          expect(error.actual).toBe(2);
          const error2 = await expectConflict(store.append(streamId, [ev('a2'), ev('b2')], 'no_stream'));
          expect(error2.actual).toBe(2);

          expect(await store.readAll()).toEqual(before);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'a retry is still recognised after the stream has moved on (port: "already written at the expected revision")',
        async () => {
          const streamId = streamName();
          const batch = [ev('a'), ev('b')];
          const first = await store.append(streamId, batch, 'no_stream');
          await store.append(streamId, [ev('c')], 1);
          const before = await store.readAll();

          expect(await store.append(streamId, batch, 'no_stream')).toEqual(first);
          expect(await store.readAll()).toEqual(before);
        },
        TEST_TIMEOUT_MS,
      );
    });

    // -----------------------------------------------------------------------------------------------------
    describe('subscribeAll', () => {
      it(
        'catches up, then delivers live events, in global order, each exactly once, in arrays',
        async () => {
          const streams = [streamName('a'), streamName('b')];
          for (let i = 0; i < 5; i++) await store.append(streams[i % 2], [ev('sub.before', { i })], 'any');
          const expected = ids(await store.readAll());
          expect(expected).toHaveLength(5);

          const c = collector();
          subscribe({}, c.handler);
          await c.waitFor(5);
          expect(ids(c.events)).toEqual(expected);

          for (let i = 0; i < 5; i++) await store.append(streams[i % 2], [ev('sub.after', { i })], 'any');
          const expectedAll = ids(await store.readAll());
          expect(expectedAll).toHaveLength(10);
          await c.waitFor(10);

          expect(ids(c.events)).toEqual(expectedAll);
          expect(c.events).toEqual(await store.readAll());
          expectStrictlyIncreasing(c.events.map((e) => e.position));
          for (const batch of c.batches) expect(Array.isArray(batch)).toBe(true);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'delivers a multi-event append and concurrent appends exactly once',
        async () => {
          const c = collector();
          subscribe({}, c.handler);
          await store.append(streamName(), [ev('m.0'), ev('m.1'), ev('m.2')], 'no_stream');
          await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(streamName(), [ev('p', { i })], 'no_stream')));
          await c.waitFor(23);
          expect(ids(c.events)).toEqual(ids(await store.readAll()));
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'resumes after a position: with after = position of event #3 only later events are delivered',
        async () => {
          const streamId = streamName();
          for (let i = 0; i < 6; i++) await store.append(streamId, [ev('r', { i })], 'any');
          const all = await store.readAll();

          const c = collector();
          subscribe({ after: all[2].position }, c.handler);
          await c.waitFor(3);
          expect(ids(c.events)).toEqual(ids(all.slice(3)));

          await store.append(streamId, [ev('r', { i: 6 })], 5);
          await c.waitFor(4);
          expect(ids(c.events)).toEqual(ids((await store.readAll()).slice(3)));
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'subscribing after the head position delivers only new events',
        async () => {
          await seed(streamName(), 3);
          const head = await store.headPosition();
          expect(head).not.toBeNull();

          const c = collector();
          subscribe({ after: head! }, c.handler);
          await sleep(SETTLE_MS);
          expect(c.events).toEqual([]);

          const result = await store.append(streamName(), [ev('new')], 'no_stream');
          await c.waitFor(1);
          expect(c.events.map((e) => e.position)).toEqual([result.position]);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'a subscription on an empty store receives live events',
        async () => {
          const c = collector();
          subscribe({}, c.handler);
          await sleep(SETTLE_MS);
          expect(c.events).toEqual([]);
          await store.append(streamName(), [ev('first')], 'no_stream');
          await c.waitFor(1);
          expect(c.events.map((e) => e.type)).toEqual(['first']);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'batches never exceed batchSize',
        async () => {
          const streamId = streamName();
          await store.append(
            streamId,
            Array.from({ length: 7 }, (_, i) => ev('b', { i })),
            'no_stream',
          );
          const c = collector();
          subscribe({ batchSize: 2 }, c.handler);
          await c.waitFor(7);
          for (const batch of c.batches) expect(batch.length).toBeLessThanOrEqual(2);
          await store.append(
            streamId,
            Array.from({ length: 5 }, (_, i) => ev('b', { i: 7 + i })),
            6,
          );
          await c.waitFor(12);
          for (const batch of c.batches) expect(batch.length).toBeLessThanOrEqual(2);
          expect(ids(c.events)).toEqual(ids(await store.readAll()));
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'after close() resolves, new appends are not delivered',
        async () => {
          await seed(streamName(), 2);
          const c = collector();
          const sub = subscribe({}, c.handler);
          await c.waitFor(2);
          await sub.close();
          const countAtClose = c.events.length;

          await store.append(streamName(), [ev('after.close')], 'no_stream');
          await sleep(SETTLE_MS * 2);
          expect(c.events).toHaveLength(countAtClose);
          expect(c.events.map((e) => e.type)).not.toContain('after.close');
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'close() resolves only once no handler call is running',
        async () => {
          await store.append(streamName(), [ev('slow')], 'no_stream');
          let running = false;
          let finished = false;
          const sub = subscribe({}, async () => {
            running = true;
            await sleep(200);
            running = false;
            finished = true;
          });
          await waitUntil(
            () => running,
            () => 'handler was never called',
          );
          await sub.close();
          expect(running).toBe(false);
          expect(finished).toBe(true);
        },
        TEST_TIMEOUT_MS,
      );

      it.each([
        [
          'throws synchronously',
          () => {
            throw new Error('handler failed');
          },
        ],
        ['rejects', async () => Promise.reject(new Error('handler failed'))],
      ] as Array<[string, () => Promise<void> | void]>)(
        'a handler that %s stops delivery and calls onError once',
        async (_label, fail) => {
          const streamId = streamName();
          await seed(streamId, 3);
          let calls = 0;
          const errors: unknown[] = [];
          subscribe({ batchSize: 1, onError: (error) => errors.push(error) }, () => {
            calls++;
            return fail();
          });
          await waitUntil(
            () => errors.length > 0,
            () => `onError not called (handler calls: ${calls})`,
          );
          await sleep(SETTLE_MS);
          await store.append(streamId, [ev('more')], 'any');
          await sleep(SETTLE_MS * 2);

          expect(calls).toBe(1);
          expect(errors).toHaveLength(1);
          expect(errors[0]).toBeInstanceOf(Error);
          expect((errors[0] as Error).message).toBe('handler failed');
        },
        TEST_TIMEOUT_MS,
      );
    });

    // -----------------------------------------------------------------------------------------------------
    describe('closed store', () => {
      it(
        'append and reads on a closed store reject with EventStoreUnavailableError; nothing is written',
        async () => {
          await store.append(streamName(), [ev('a')], 'no_stream');
          await store.close();
          storeClosed = true;
          await expect(store.append(streamName(), [ev('b')], 'no_stream')).rejects.toBeInstanceOf(EventStoreUnavailableError);
          await expect(store.readAll()).rejects.toBeInstanceOf(EventStoreUnavailableError);
        },
        TEST_TIMEOUT_MS,
      );
    });

    // -----------------------------------------------------------------------------------------------------
    // Only for adapters with a durable backing location (an in-memory store has nothing to reopen).
    if (harness.reopen)
      describe('restart (reopen on the same backing location)', () => {
        async function reopen() {
          const next = await harness.reopen!(store);
          store = next;
        }

        it(
          'readStream, readAll and headPosition return the same events after a restart; appends continue',
          async () => {
            const a = streamName('a');
            const b = streamName('b');
            await store.append(a, [ev('a.0'), ev('a.1')], 'no_stream');
            await store.append(b, [ev('b.0')], 'no_stream');
            await store.append(a, [ev('a.2')], 1);
            const before = {
              a: await store.readStream(a),
              b: await store.readStream(b),
              all: await store.readAll(),
              head: await store.headPosition(),
            };

            await reopen();

            expect(await store.readStream(a)).toEqual(before.a);
            expect(await store.readStream(b)).toEqual(before.b);
            expect(await store.readAll()).toEqual(before.all);
            expect(await store.headPosition()).toBe(before.head);

            // Concurrency checks see the persisted state.
            const conflict = await expectConflict(store.append(a, [ev('x')], 'no_stream'));
            expect(conflict.actual).toBe(2);

            const result = await store.append(a, [ev('a.3'), ev('a.4')], 2);
            expect(result.nextRevision).toBe(4);
            await store.append(b, [ev('b.1')], 0);
            const streamA = await store.readStream(a);
            expect(streamA.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
            expect(streamA[3].metadata.prevHash).toBe(before.a[2].metadata.hash);
            expectValidChain(streamA);
            expectValidChain(await store.readStream(b));

            const all = await store.readAll();
            expect(all.slice(0, before.all.length)).toEqual(before.all);
            expect(all).toHaveLength(before.all.length + 3);
            expectStrictlyIncreasing(all.map((e) => e.position));
            expect(comparePositions(all[before.all.length].position, before.head!)).toBe(1);
            if (harness.contiguousPositions) expectConsecutive(all.map((e) => e.position));
            expect(await store.headPosition()).toBe(all[all.length - 1].position);
            expect(result.position).toBe(streamA[4].position);
          },
          TEST_TIMEOUT_MS,
        );

        it(
          'an idempotent retry is recognised across a restart',
          async () => {
            const streamId = streamName();
            const batch = [ev('a'), ev('b')];
            const first = await store.append(streamId, batch, 'no_stream');
            await reopen();
            expect(await store.append(streamId, batch, 'no_stream')).toEqual(first);
            expect(await store.readStream(streamId)).toHaveLength(2);
          },
          TEST_TIMEOUT_MS,
        );

        it(
          'subscribeAll resumes after a restart from a position recorded before it',
          async () => {
            await seed(streamName(), 3);
            const head = (await store.headPosition())!;
            await reopen();
            const fresh: AppendResult = await store.append(streamName(), [ev('after.restart')], 'no_stream');
            const c = collector();
            subscribe({ after: head }, c.handler);
            await c.waitFor(1);
            expect(c.events.map((e) => [e.type, e.position])).toEqual([['after.restart', fresh.position]]);
          },
          TEST_TIMEOUT_MS,
        );
      });
  });
}
