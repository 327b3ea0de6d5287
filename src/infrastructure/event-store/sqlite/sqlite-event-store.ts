import Database from 'better-sqlite3';
import { closeSync, fdatasync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
import { Actor } from '../../../domain/shared/actor';
import { chainHash, GENESIS_HASH } from '../../../domain/shared/hash-chain';
import { WalCheckpointer } from '../../sqlite/wal-checkpointer';
import { AppendSignal } from '../append-signal';
import { subscribeByReading } from '../subscribe-by-reading';
import { LruMap } from '../../../domain/shared/lru-map';

type Row = [
  position: number,
  id: string,
  streamId: string,
  revision: number,
  type: string,
  data: string,
  correlationId: string,
  causationId: string | null,
  actorType: string,
  actorId: string | null,
  occurredAt: string,
  schemaVersion: number,
  prevHash: string,
  hash: string,
];

/** What one append wrote: its result, and its rows (none when it was a retry of a written append). */
type Written = { ok: AppendResult; rows: Row[] };

type PendingAppend = {
  streamId: string;
  events: NewEvent[];
  expected: ExpectedRevision;
  onCommitted?: (result: AppendResult) => void;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
};

/**
 * Metadata lives in columns, not in a JSON text: replays and projections read `occurredAt`, the
 * actor or the hash of every event, and decoding a JSON document per event was a third of the cost
 * of a rebuild. `data` stays JSON (decoded lazily, see toStoredEvent).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position        INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id        TEXT    NOT NULL,
  stream_id       TEXT    NOT NULL,
  revision        INTEGER NOT NULL,
  type            TEXT    NOT NULL,
  data            TEXT    NOT NULL,
  correlation_id  TEXT    NOT NULL,
  causation_id    TEXT,
  actor_type      TEXT    NOT NULL,
  actor_id        TEXT,
  occurred_at     TEXT    NOT NULL,
  schema_version  INTEGER NOT NULL,
  prev_hash       TEXT    NOT NULL,
  hash            TEXT    NOT NULL,
  UNIQUE (stream_id, revision)
);`;
const COLUMNS =
  'position, event_id, stream_id, revision, type, data, correlation_id, causation_id, actor_type, actor_id, occurred_at, schema_version, prev_hash, hash';

/**
 * The embedded default event store (ARCHITECTURE §3): one SQLite file in WAL mode, one `events` table
 * whose autoincrement key is the global position and whose (stream_id, revision) key enforces
 * optimistic concurrency.
 *
 * Durability: a resolved append has been fsynced. Appends issued in the same event-loop turn are
 * group-committed: one transaction, each append in its own savepoint so a conflicting append fails alone
 * and never leaves a partial write. The commit itself runs with `synchronous = NORMAL` (written to the
 * WAL, not yet synced) and the WAL file is then fsynced off the event loop (libuv's thread pool), which
 * is what `synchronous = FULL` does at every commit, but without blocking every request behind the disk
 * for the ~150 µs of each fsync: while one fsync runs, further commits accumulate and the next fsync
 * covers them all. Appends resolve, and subscribers (projections) are woken, only once their commit is
 * synced (`onCommitted` says earlier, when the commit is written: a writer may decide its next append
 * on it, which the next fsync covers with it); an error of the fsync makes the store unavailable (a
 * write whose durability is unknown is never acknowledged, and nothing is written after it). A reader
 * may see a commit in the ~fsync window
 * before it is synced (as SQLite's own readers would); after a power cut such a commit can be gone with
 * nobody having been told it was written, and a read model that applied it is ahead of the store and
 * rebuilt at start (ProjectionEngine).
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly signal = new AppendSignal();
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  /** The WAL file (absent for `:memory:`), opened at the first commit, fsynced after commits. */
  private readonly walPath: string | null;
  private walFd: number | null = null;
  private readonly checkpointer: WalCheckpointer | null;
  /** Commits written but not yet synced, in commit order; their appends resolve after the next fsync. */
  private unsynced: Array<{ settle: (failure?: unknown) => void }> = [];
  private syncing: Promise<void> | null = null;
  /** Set when an fsync failed: every later append is refused. */
  private syncFailure: EventStoreUnavailableError | null = null;

  private readonly lastOfStream: Database.Statement<[string], { revision: number; hash: string }>;
  private readonly insert: Database.Statement<unknown[]>;
  private readonly byStream: Database.Statement<[string, number], Row>;
  private readonly byStreamRange: Database.Statement<[string, number, number], Row>;
  private readonly allAfter: Database.Statement<[number, number], Row>;
  private readonly head: Database.Statement<[], { position: number | null }>;
  private readonly last: Database.Statement<[], Row>;
  private readonly commitBatch: (batch: PendingAppend[]) => Array<Written | { error: unknown }>;
  private readonly dataVersion: Database.Statement<[], number>;
  private seenDataVersion = -1;
  /** data_version was read in this event-loop turn (reset by a setImmediate). */
  private versionCheckedThisTurn = false;
  /**
   * The events this connection appended most recently, in position order without gaps (RECENT_EVENTS at
   * most): `$all` readers at the head (every projection, after every append) are served from memory,
   * and all of them share one decoded object per event instead of each reading and decoding its rows.
   */
  private recent: StoredEvent[] = [];
  /** The last revision of streams whose head this connection knows (STREAM_HEADS at most, least recently used out). */
  private readonly heads = new LruMap<string, number>(STREAM_HEADS);

  private readonly fsync: (fd: number) => Promise<void>;

  constructor(options: {
    path: string;
    /** How a file descriptor is fsynced (a seam for fault tests). */ fsync?: (fd: number) => Promise<void>;
  }) {
    // fdatasync, as SQLite's own WAL sync on Linux: the WAL's data and its size, not its timestamps.
    this.fsync = options.fsync ?? ((fd) => new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve()))));
    const file = options.path === ':memory:' ? ':memory:' : resolve(options.path);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL for :memory: (no WAL file to sync; the setting is moot); files are synced by syncWal().
    this.walPath = file === ':memory:' ? null : `${file}-wal`;
    this.db.pragma(this.walPath ? 'synchronous = NORMAL' : 'synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    // Checkpoints run in a worker (WalCheckpointer); SQLite's own, inside a request's commit, is a safety net.
    this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_SAFETY_PAGES}`);
    this.checkpointer = this.walPath ? new WalCheckpointer({ file, everyCommits: CHECKPOINT_EVERY_COMMITS, name: 'event store' }) : null;
    this.db.exec(SCHEMA);

    this.lastOfStream = this.db.prepare('SELECT revision, hash FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1');
    this.insert = this.db.prepare(
      `INSERT INTO events (${COLUMNS.replace('position, ', '')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const columns = COLUMNS;
    this.byStream = this.db
      .prepare(`SELECT ${columns} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision`)
      .raw(true) as never;
    this.byStreamRange = this.db
      .prepare(`SELECT ${columns} FROM events WHERE stream_id = ? AND revision >= ? AND revision <= ? ORDER BY revision`)
      .raw(true) as never;
    this.allAfter = this.db.prepare(`SELECT ${columns} FROM events WHERE position > ? ORDER BY position LIMIT ?`).raw(true) as never;
    this.head = this.db.prepare('SELECT MAX(position) AS position FROM events');
    this.last = this.db.prepare(`SELECT ${columns} FROM events ORDER BY position DESC LIMIT 1`).raw(true) as never;

    this.dataVersion = this.db.prepare('PRAGMA data_version').pluck() as never;
    this.seenDataVersion = this.dataVersion.get()!;
    const appendOne = this.db.transaction((p: PendingAppend) => this.appendInTransaction(p));
    this.commitBatch = this.db.transaction((batch: PendingAppend[]) =>
      batch.map((p) => {
        try {
          return appendOne(p);
        } catch (error) {
          if (error instanceof WrongExpectedRevisionError) return { error };
          throw error;
        }
      }),
    );
  }

  append(streamId: string, events: NewEvent[], expected: ExpectedRevision, options: AppendOptions = {}): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new EventStoreUnavailableError('The event store is closed'));
    if (this.syncFailure) return Promise.reject(this.syncFailure);
    if (events.length === 0) return Promise.reject(new Error('append needs at least one event'));
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ streamId, events, expected, onCommitted: options.onCommitted, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (this.syncFailure) {
      for (const p of batch) p.reject(this.syncFailure);
      return;
    }
    let outcomes: Array<Written | { error: unknown }>;
    try {
      outcomes = this.commitBatch(batch);
    } catch (error) {
      // The whole transaction rolled back: nothing of this batch was written.
      const failure = new EventStoreUnavailableError(`SQLite append failed: ${(error as Error).message}`, error);
      for (const p of batch) p.reject(failure);
      return;
    }
    // A conflict wrote nothing and is answered now; the written appends once their commit is synced.
    const written: Array<(failure?: unknown) => void> = [];
    outcomes.forEach((outcome, i) => {
      if ('ok' in outcome) {
        this.remember(outcome.rows);
        written.push((failure) => (failure ? batch[i].reject(failure) : batch[i].resolve(outcome.ok)));
      } else batch[i].reject(outcome.error);
    });
    // Committed: a later commit is synced only with this one, and none is acknowledged after a failed sync.
    outcomes.forEach((outcome, i) => {
      if ('ok' in outcome) notifyCommitted(batch[i], outcome.ok);
    });
    if (written.length === 0) return;
    const settle = (failure?: unknown) => {
      for (const one of written) one(failure);
    };
    if (!this.walPath) {
      settle();
      this.signal.notify();
      return;
    }
    this.unsynced.push({ settle });
    this.syncing ??= this.syncWal();
    this.checkpointer?.committed();
  }

  /** fsyncs the WAL until no commit is left unsynced; each fsync covers every commit written before it. */
  private async syncWal(): Promise<void> {
    while (this.unsynced.length > 0) {
      const covered = this.unsynced;
      this.unsynced = [];
      try {
        this.walFd ??= openSync(this.walPath!, 'r+');
        await this.fsync(this.walFd);
      } catch (error) {
        // Committed, but whether it is on disk is unknown: not acknowledged, and nothing more is written.
        this.syncFailure = new EventStoreUnavailableError(`SQLite WAL fsync failed: ${(error as Error).message}`, error);
        for (const c of [...covered, ...this.unsynced]) c.settle(this.syncFailure);
        this.unsynced = [];
        break;
      }
      for (const c of covered) c.settle();
      this.signal.notify();
    }
    this.syncing = null;
  }

  /** Runs inside a savepoint of the batch transaction. */
  private appendInTransaction({ streamId, events, expected }: PendingAppend): Written {
    const last = this.lastOfStream.get(streamId);
    const actual = last ? last.revision : -1;
    const matches = expected === 'any' || (expected === 'no_stream' ? actual === -1 : expected === actual);
    if (!matches) {
      const replay = this.sameEventsAlreadyWritten(streamId, events, expected);
      if (replay) return { ok: replay, rows: [] };
      throw new WrongExpectedRevisionError(streamId, expected, actual);
    }
    let prevHash = last ? last.hash : GENESIS_HASH;
    let revision = actual;
    let position = 0;
    const rows: Row[] = [];
    for (const event of events) {
      revision += 1;
      const hash = chainHash({
        prevHash,
        streamId,
        streamRevision: revision,
        type: event.type,
        data: event.data,
        occurredAt: event.metadata.occurredAt,
      });
      const m = event.metadata;
      // The row as readers get it: its position is the rowid the insert of the other columns returns.
      const row: Row = [
        0,
        event.id,
        streamId,
        revision,
        event.type,
        JSON.stringify(event.data),
        m.correlationId,
        m.causationId,
        m.actor.type,
        m.actor.id,
        m.occurredAt,
        m.schemaVersion,
        prevHash,
        hash,
      ];
      row[0] = position = Number(this.insert.run(...row.slice(1)).lastInsertRowid);
      rows.push(row);
      prevHash = hash;
    }
    return { ok: { nextRevision: revision, position: String(position) }, rows };
  }

  /** A retried append (same event ids at the same expected revision) returns the original result. */
  private sameEventsAlreadyWritten(streamId: string, events: NewEvent[], expected: ExpectedRevision): AppendResult | null {
    if (expected === 'any') return null;
    const first = expected === 'no_stream' ? 0 : expected + 1;
    const rows = this.byStreamRange.all(streamId, first, first + events.length - 1);
    if (rows.length !== events.length || rows.some((row, i) => row[1] !== events[i].id)) return null;
    const lastRow = rows[rows.length - 1];
    return { nextRevision: lastRow[3], position: String(lastRow[0]) };
  }

  async readStream(streamId: string, options: { fromRevision?: number } = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    this.forgetIfOthersWrote();
    const from = options.fromRevision ?? 0;
    const head = this.heads.get(streamId);
    // A folded state's tail read (AggregateStreams): nothing was appended since, by anyone.
    if (head !== undefined && from > head) return [];
    const events = this.byStream.all(streamId, from).map(toStoredEvent);
    if (events.length > 0) this.heads.set(streamId, events[events.length - 1].revision);
    else if (from === 0) this.heads.set(streamId, -1);
    return events;
  }

  /** Records what a commit of this connection wrote (before it is synced, like SQLite's own readers see it). */
  private remember(rows: Row[]): void {
    if (rows.length === 0) return;
    const last = this.recent.length > 0 ? Number(this.recent[this.recent.length - 1].position) : null;
    // A gap (another connection's commit, a rolled-back position): only a gapless tail can be served.
    if (last !== null && rows[0][0] !== last + 1) this.recent = [];
    for (const row of rows) this.recent.push(toStoredEvent(row));
    if (this.recent.length > 2 * RECENT_EVENTS) this.recent = this.recent.slice(-RECENT_EVENTS);
    this.heads.set(rows[0][2], rows[rows.length - 1][3]);
  }

  /**
   * `PRAGMA data_version` changes when another connection (another process on the same file) has
   * committed: what this one remembers of the tail and the stream heads may then be stale. It is read
   * once per event-loop turn (a few µs each): a commit of another process within the turn is seen at
   * the next one, as if the read had come a moment earlier. That never skips an event (the tail is
   * gapless, `$all` readers resume by position) and never loses a write (a decision made on a stale
   * state fails its expected revision and is retried on a fresh read).
   */
  private forgetIfOthersWrote(): void {
    if (this.versionCheckedThisTurn) return;
    this.versionCheckedThisTurn = true;
    setImmediate(() => (this.versionCheckedThisTurn = false));
    const version = this.dataVersion.get()!;
    if (version === this.seenDataVersion) return;
    this.seenDataVersion = version;
    this.recent = [];
    this.heads.clear();
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    return this.readAllSync(options);
  }

  private readAllSync(options: ReadAllOptions): StoredEvent[] {
    this.assertOpen();
    this.forgetIfOthersWrote();
    const after = options.after === undefined ? 0 : Number(options.after);
    const recent = this.recent;
    if (recent.length > 0) {
      const start = after - Number(recent[0].position) + 1;
      if (start >= 0 && start <= recent.length) {
        const limit = options.limit ?? -1;
        return recent.slice(start, limit < 0 ? undefined : start + limit);
      }
    }
    // LIMIT -1: no limit in SQLite. Positions stay below 2^53 in one SQLite file.
    return this.allAfter.all(after, options.limit ?? -1).map(toStoredEvent);
  }

  async headPosition(): Promise<Position | null> {
    this.assertOpen();
    const { position } = this.head.get()!;
    return position === null ? null : String(position);
  }

  async readLast(): Promise<StoredEvent | null> {
    this.assertOpen();
    const row = this.last.get();
    return row ? toStoredEvent(row) : null;
  }

  subscribeAll(options: SubscribeAllOptions, handler: (events: StoredEvent[]) => Promise<void> | void): Subscription {
    return subscribeByReading(
      { read: (after, limit) => this.readAllSync({ after, limit }), signal: this.signal, isClosed: () => this.closed },
      options,
      handler,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.queue.length) this.flush();
    this.closed = true;
    // Appends already committed are acknowledged once synced, not dropped.
    while (this.syncing) await this.syncing;
    await this.checkpointer?.close();
    if (this.walFd !== null) closeSync(this.walFd);
    this.walFd = null;
    this.signal.notify();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreUnavailableError('The event store is closed');
  }
}

/** Group commits between two checkpoints (a few pages each): small checkpoints keep their fsync of the database file short. */
const CHECKPOINT_EVERY_COMMITS = 20;
/** SQLite's automatic checkpoint, reached only if the checkpointer falls behind or fails (80 MiB of WAL). */
const AUTOCHECKPOINT_SAFETY_PAGES = 20_000;

/** Events of the in-memory `$all` tail (from 2 × this down to this when full). */
const RECENT_EVENTS = 4096;
/** Stream heads remembered (a Map entry each). */
const STREAM_HEADS = 100_000;

/**
 * `data` is decoded on first access (an own enumerable getter, so the object still compares, spreads
 * and serialises like a plain one): decoding JSON is most of the cost of a replay, and a projection
 * skips the events it does not handle without ever decoding them.
 */
function toStoredEvent(row: Row): StoredEvent {
  const rawData = row[5];
  let data: Record<string, unknown> | undefined;
  const metadata: EventMetadata = {
    correlationId: row[6],
    causationId: row[7],
    actor: { type: row[8], id: row[9] } as Actor,
    occurredAt: row[10],
    schemaVersion: row[11],
    prevHash: row[12],
    hash: row[13],
  };
  return {
    id: row[1],
    streamId: row[2],
    revision: row[3],
    position: String(row[0]),
    type: row[4],
    get data() {
      return (data ??= JSON.parse(rawData) as Record<string, unknown>);
    },
    metadata,
  };
}
