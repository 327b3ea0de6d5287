import {
  AllStreamResolvedEvent,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  ReadPosition,
  ReadRevision,
  StreamingRead,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { Logger } from '@nestjs/common';
import {
  AppendOptions,
  AppendResult,
  EventMetadata,
  EventStore,
  EventStoreUnavailableError,
  ExpectedRevision,
  NewEvent,
  notifyCommitted,
  Position,
  ReadAllOptions,
  StoredEvent,
  SubscribeAllOptions,
  Subscription,
  WrongExpectedRevisionError,
} from '../../../application/ports/event-store.port';
import { chainHash, GENESIS_HASH } from '../../../domain/shared/hash-chain';
import { EsdbAllSubscription, ReconnectPolicy } from './esdb-all-subscription';
import { EsdbDeadlineError, isBug, isDefiniteRejection, toPortError } from './esdb-errors';
import { eventUuid } from './event-uuid';
import { copyOf, StreamPrefixCache } from './stream-prefix-cache';
import { LruMap } from '../../../domain/shared/lru-map';

export type EventStoreDbOptions = {
  /** `esdb://`, `esdb+discover://` (or the `kurrentdb` spellings) connection string. */
  connectionString: string;
  /** Deadline of one call (an append, a page of a read). Default 5000 ms. */
  operationTimeoutMs?: number;
  /** Backoff of `subscribeAll` after a dropped connection. Default 100 ms doubling up to 5000 ms. */
  reconnect?: Partial<ReconnectPolicy>;
};

/** The part of the metadata this adapter owns; stripped again on read. */
type StoredMetadata = EventMetadata & { eventId?: string; $correlationId?: string };

/** One `$all` or stream record, as the client hands it over. */
type Recorded = NonNullable<AllStreamResolvedEvent['event']>;

/**
 * An append whose outcome is unknown (connection lost, no answer) is retried with the same event ids,
 * after these delays, while the call's deadline leaves room for another attempt of at least
 * MIN_ATTEMPT_MS: EventStoreDB recognises the repeat, so a retry never writes twice.
 */
const APPEND_RETRY_DELAYS_MS = [50, 200];
const MIN_ATTEMPT_MS = 100;
/** `any` re-reads the stream head and tries again on a lost race, at most this often. */
const ANY_MAX_ATTEMPTS = 50;
/** Raw `$all` records per read call. */
const ALL_PAGE = 1000;
/** Raw `$all` records per backwards read when looking for the newest non-system event. */
const TAIL_PAGE = 64;
/** Hashes of (stream, revision) pairs, to chain an append onto a revision just read. */
const HASH_CACHE_SIZE = 10_000;

/**
 * The EventStoreDB adapter of the EventStore port (ARCHITECTURE §3), on @eventstore/db-client (gRPC).
 *
 * - Streams map 1:1 to EventStoreDB streams; `no_stream` and exact revisions are passed to the server,
 *   whose optimistic concurrency check decides. `any` is implemented as "the current last revision"
 *   (read, then append with that exact revision, again on a lost race), so the hash chain is always
 *   computed from the real previous event.
 * - Hash chain (§8.7.3): `prevHash` is the `hash` of the event at the expected revision, read from the
 *   stream (or remembered from a recent read: events never change, so (stream, revision) → hash is
 *   safe to cache); the stamped metadata travels as the event's JSON metadata.
 * - Event ids: the port's `evt_…` id is kept in the metadata; the EventStoreDB event id is a UUID
 *   derived from it (event-uuid.ts), so retrying an append with the same events is recognised by
 *   EventStoreDB's idempotency check and returns the original result.
 * - Positions: the `$all` commit position as a decimal string. EventStoreDB (v20+) writes every event
 *   of an append as its own log record with commit position = prepare position = the record's offset
 *   in the transaction log, which only grows; so positions are unique per event and increase in commit
 *   order (with gaps, as the port allows).
 * - System events (streams or types starting with `$`) are never returned by `readAll`, `headPosition`,
 *   `readLast` or `subscribeAll`.
 * - Every call has a deadline; failures to reach the server become EventStoreUnavailableError.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly logger = new Logger('EventStoreDB');
  private readonly client: EventStoreDBClient;
  private readonly timeoutMs: number;
  private readonly reconnect: ReconnectPolicy;
  private readonly subscriptions = new Set<EsdbAllSubscription>();
  private readonly hashes = new LruMap<string, string>(HASH_CACHE_SIZE);
  private readonly prefixes = new StreamPrefixCache();
  private closed = false;

  constructor(options: EventStoreDbOptions) {
    this.client = EventStoreDBClient.connectionString(normaliseConnectionString(options.connectionString));
    this.timeoutMs = options.operationTimeoutMs ?? 5000;
    this.reconnect = { initialDelayMs: 100, maxDelayMs: 5000, ...options.reconnect };
  }

  // -------------------------------------------------------------------------------------------------
  // append

  /** An acknowledged append is durable (the server's answer): `onCommitted` runs just before it resolves. */
  async append(streamId: string, events: NewEvent[], expected: ExpectedRevision, options: AppendOptions = {}): Promise<AppendResult> {
    const result = await this.appendAcknowledged(streamId, events, expected);
    notifyCommitted(options, result);
    return result;
  }

  private async appendAcknowledged(streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new Error('append needs at least one event');
    if (expected === 'any') return this.appendAtHead(streamId, events);
    const revision = expected === 'no_stream' ? -1 : expected;
    const prevHash = await this.hashAt(streamId, revision, expected);
    try {
      return await this.send(streamId, events, revision, prevHash);
    } catch (error) {
      throw this.conflictOr(error, streamId, expected);
    }
  }

  /** `any`: append after whatever the stream's last event is now, chained onto it. */
  private async appendAtHead(streamId: string, events: NewEvent[]): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      const last = await this.lastOfStream(streamId);
      const revision = last ? last.revision : -1;
      try {
        return await this.send(streamId, events, revision, last ? last.metadata.hash : GENESIS_HASH);
      } catch (error) {
        const mapped = this.conflictOr(error, streamId, 'any');
        if (!(mapped instanceof WrongExpectedRevisionError) || attempt >= ANY_MAX_ATTEMPTS) throw mapped;
        await delay(Math.random() * Math.min(50, 2 * attempt));
      }
    }
  }

  /**
   * `prevHash` for events that would follow `revision`. A stream shorter than that is a conflict that
   * needs no round trip to the server. A stream that is longer still goes to the server: the append
   * may be a retry of events already written there (idempotent), which only the server can tell.
   */
  private async hashAt(streamId: string, revision: number, expected: ExpectedRevision): Promise<string> {
    if (revision === -1) return GENESIS_HASH;
    const cached = this.prefixes.hashAt(streamId, revision) ?? this.hashes.get(hashKey(streamId, revision));
    if (cached) return cached;
    const [atRevision] = (await this.readStreamRaw(streamId, BigInt(revision), FORWARDS, 1)) ?? [];
    if (atRevision) return atRevision.metadata.hash;
    const last = await this.lastOfStream(streamId);
    throw new WrongExpectedRevisionError(streamId, expected, last ? last.revision : -1);
  }

  /**
   * One append at an exact revision (`-1`: no stream), within one deadline of `operationTimeoutMs`,
   * retried with the same event ids when the outcome is unknown (connection lost, no answer):
   * EventStoreDB answers a repeated append that was already written with the original result.
   */
  private async send(streamId: string, events: NewEvent[], revision: number, prevHash: string): Promise<AppendResult> {
    const proposed = events.map((event, i) => {
      const streamRevision = revision + 1 + i;
      const hash = chainHash({
        prevHash,
        streamId,
        streamRevision,
        type: event.type,
        data: event.data,
        occurredAt: event.metadata.occurredAt,
      });
      const metadata: StoredMetadata = {
        ...event.metadata,
        prevHash,
        hash,
        eventId: event.id,
        // EventStoreDB's own convention, so its $by_correlation_id projection can group a request's events.
        $correlationId: event.metadata.correlationId,
      };
      prevHash = hash;
      return jsonEvent({ id: eventUuid(event.id), type: event.type, data: event.data, metadata });
    });
    const expectedRevision = revision === -1 ? NO_STREAM : BigInt(revision);
    const startedAt = Date.now();
    for (let attempt = 0; ; attempt++) {
      const remaining = Math.max(MIN_ATTEMPT_MS, this.timeoutMs - (Date.now() - startedAt));
      try {
        const result = await this.deadline('append', remaining, () =>
          this.client.appendToStream(streamId, proposed, { expectedRevision, deadline: remaining, requiresLeader: true }),
        );
        const nextRevision = Number(result.nextExpectedRevision);
        // The server reports the position of the last event of the append. An idempotent replay may
        // come back without one (servers before 23.x): read it back then.
        if (result.position && isKnownPosition(result.position.commit))
          return { nextRevision, position: result.position.commit.toString() };
        const [lastWritten] = (await this.readStreamRaw(streamId, BigInt(nextRevision), FORWARDS, 1)) ?? [];
        if (!lastWritten) throw new EventStoreUnavailableError(`EventStoreDB did not return ${streamId}@${nextRevision} just appended`);
        return { nextRevision, position: lastWritten.position };
      } catch (error) {
        const retryIn = APPEND_RETRY_DELAYS_MS[attempt];
        const roomLeft = this.timeoutMs - (Date.now() - startedAt) - (retryIn ?? 0);
        if (isDefiniteRejection(error) || isBug(error) || retryIn === undefined || roomLeft < MIN_ATTEMPT_MS || this.closed) throw error;
        await delay(retryIn);
      }
    }
  }

  private conflictOr(error: unknown, streamId: string, expected: ExpectedRevision): unknown {
    if (error instanceof WrongExpectedRevisionError) return error;
    if (error instanceof WrongExpectedVersionError) {
      const actual = error.actualVersion;
      return new WrongExpectedRevisionError(streamId, expected, typeof actual === 'bigint' ? Number(actual) : -1);
    }
    return toPortError('append', error);
  }

  // -------------------------------------------------------------------------------------------------
  // reads

  /** Fetches only what follows the cached prefix of the stream (stream-prefix-cache.ts). */
  async readStream(streamId: string, options: { fromRevision?: number } = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const from = options.fromRevision ?? 0;
    const known = this.prefixes.prefix(streamId);
    if (from > known.length) return (await this.readStreamRaw(streamId, BigInt(from), FORWARDS)) ?? [];
    const tail = await this.readStreamRaw(streamId, BigInt(known.length), FORWARDS);
    if (tail === null) {
      this.prefixes.forget(streamId);
      return [];
    }
    let whole: StoredEvent[];
    if (tail.length > 0 && tail[0].revision !== known.length) {
      // Not how a stream whose events never change can look: forget what we knew and read it all.
      this.prefixes.forget(streamId);
      whole = (await this.readStreamRaw(streamId, 0n, FORWARDS)) ?? [];
    } else {
      whole = known.length > 0 ? [...known, ...tail] : tail;
    }
    const last = whole[whole.length - 1];
    if (last) this.remember(streamId, last.revision, last.metadata.hash);
    this.prefixes.store(streamId, whole);
    return copyOf(whole.slice(from));
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const out: StoredEvent[] = [];
    if (limit <= 0) return out;
    // `$all` reads are inclusive of their start position; `after` is exclusive, and so is every later
    // page, which starts at the last record of the previous one.
    let exclusive: bigint | null = options.after === undefined ? null : BigInt(options.after);
    for (;;) {
      const from: ReadPosition = exclusive === null ? 'start' : { commit: exclusive, prepare: exclusive };
      const page = await this.collect('readAll', this.client.readAll({ fromPosition: from, direction: FORWARDS, maxCount: ALL_PAGE }));
      let fresh = 0;
      for (const resolved of page) {
        const recorded = resolved.event;
        if (!recorded?.position) continue;
        const position = recorded.position.commit;
        if (exclusive !== null && position <= exclusive) continue;
        fresh += 1;
        exclusive = position;
        const stored = this.toStored(recorded);
        if (stored) {
          out.push(stored);
          if (out.length >= limit) return out;
        }
      }
      if (page.length < ALL_PAGE || fresh === 0) return out;
    }
  }

  async headPosition(): Promise<Position | null> {
    return (await this.readLast())?.position ?? null;
  }

  async readLast(): Promise<StoredEvent | null> {
    this.assertOpen();
    let before: bigint | null = null;
    for (;;) {
      const from: ReadPosition = before === null ? END : { commit: before, prepare: before };
      const page = await this.collect('readAll', this.client.readAll({ fromPosition: from, direction: BACKWARDS, maxCount: TAIL_PAGE }));
      let fresh = 0;
      for (const resolved of page) {
        const recorded = resolved.event;
        if (!recorded?.position) continue;
        const position = recorded.position.commit;
        if (before !== null && position >= before) continue;
        fresh += 1;
        before = position;
        const stored = this.toStored(recorded);
        if (stored) return stored;
      }
      if (page.length < TAIL_PAGE || fresh === 0) return null;
    }
  }

  // -------------------------------------------------------------------------------------------------
  // subscriptions, lifecycle

  subscribeAll(options: SubscribeAllOptions, handler: (events: StoredEvent[]) => Promise<void> | void): Subscription {
    if (this.closed) {
      queueMicrotask(() => options.onError?.(new EventStoreUnavailableError('The event store is closed')));
      return { close: async () => undefined };
    }
    const subscription = new EsdbAllSubscription(
      {
        client: this.client,
        toStored: (resolved) => (resolved.event ? this.toStored(resolved.event) : null),
        reconnect: this.reconnect,
        logger: this.logger,
        onFinished: (s) => this.subscriptions.delete(s),
      },
      options,
      handler,
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose().catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------------
  // helpers

  private assertOpen(): void {
    if (this.closed) throw new EventStoreUnavailableError('The event store is closed');
  }

  private async lastOfStream(streamId: string): Promise<StoredEvent | null> {
    const [last] = (await this.readStreamRaw(streamId, END, BACKWARDS, 1)) ?? [];
    return last ?? null;
  }

  /** A stream read; `null` when the stream does not exist. */
  private async readStreamRaw(
    streamId: string,
    fromRevision: ReadRevision,
    direction: typeof FORWARDS | typeof BACKWARDS,
    maxCount?: number,
  ): Promise<StoredEvent[] | null> {
    let resolved: AllStreamResolvedEvent[];
    try {
      resolved = await this.collect(
        'readStream',
        this.client.readStream(streamId, { fromRevision, direction, maxCount: maxCount ?? Number.MAX_SAFE_INTEGER, requiresLeader: true }),
      );
    } catch (error) {
      if (error instanceof StreamNotFoundError) return null;
      throw error;
    }
    const events: StoredEvent[] = [];
    for (const r of resolved) {
      const stored = r.event ? this.toStored(r.event, true) : null;
      if (stored) events.push(stored);
    }
    return events;
  }

  /**
   * Reads a whole (bounded) server stream into memory. The deadline restarts with every record, so a
   * long but progressing read is never cut off, and a silent server is.
   */
  private collect(operation: string, read: StreamingRead<unknown>): Promise<AllStreamResolvedEvent[]> {
    return new Promise<AllStreamResolvedEvent[]>((resolve, reject) => {
      const out: AllStreamResolvedEvent[] = [];
      let lastProgress = Date.now();
      let settled = false;
      // One timer per read, not one per record: it re-arms itself while records keep arriving.
      const check = () => {
        const silentFor = Date.now() - lastProgress;
        if (silentFor >= this.timeoutMs) settle(new EsdbDeadlineError(operation, this.timeoutMs));
        else timer = setTimeout(check, this.timeoutMs - silentFor);
      };
      let timer = setTimeout(check, this.timeoutMs);
      const settle = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        read.removeAllListeners('data');
        // A late error after we gave up must not become an unhandled 'error' event.
        read.on('error', () => undefined);
        if (error === null) resolve(out);
        else {
          void read.cancel().catch(() => undefined);
          reject(error instanceof StreamNotFoundError ? error : toPortError(operation, error));
        }
      };
      read.on('data', (item) => {
        out.push(item as AllStreamResolvedEvent);
        lastProgress = Date.now();
      });
      read.once('end', () => settle(null));
      read.once('error', (error) => settle(error));
    });
  }

  private async deadline<T>(operation: string, ms: number, call: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new EsdbDeadlineError(operation, ms)), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private remember(streamId: string, revision: number, hash: string): void {
    this.hashes.set(hashKey(streamId, revision), hash);
  }

  /** The port's view of a record; null for system events unless `includeSystem` (stream reads). */
  private toStored(recorded: Recorded, includeSystem = false): StoredEvent | null {
    if (!includeSystem && (recorded.streamId.startsWith('$') || recorded.type.startsWith('$'))) return null;
    const raw = (isRecord(recorded.metadata) ? recorded.metadata : {}) as StoredMetadata;
    const { eventId, $correlationId: _correlation, ...metadata } = raw;
    const position = recorded.position?.commit;
    if (position === undefined || !isKnownPosition(position)) {
      // Servers before 22.10 send no $all position with stream reads; the port needs it.
      throw new Error(
        `EventStoreDB reported no $all position for ${recorded.streamId}@${recorded.revision}: the eventstoredb adapter needs EventStoreDB 22.10 or later`,
      );
    }
    return {
      id: typeof eventId === 'string' ? eventId : recorded.id,
      streamId: recorded.streamId,
      revision: Number(recorded.revision),
      position: position.toString(),
      type: recorded.type,
      data: (isRecord(recorded.data) ? recorded.data : {}) as Record<string, unknown>,
      metadata: metadata as EventMetadata,
    };
  }
}

/** The client speaks `esdb://`; KurrentDB's `kurrentdb://` spelling (spec §2.2) is the same protocol. */
export function normaliseConnectionString(connectionString: string): string {
  return connectionString.trim().replace(/^kurrentdb(\+discover)?:\/\//i, (_m, discover: string | undefined) => `esdb${discover ?? ''}://`);
}

/** `ulong.MaxValue` (-1) is EventStoreDB's "no position". */
function isKnownPosition(position: bigint): boolean {
  return position >= 0n && position < 0x8000000000000000n;
}

function hashKey(streamId: string, revision: number): string {
  return `${revision}\u0000${streamId}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
