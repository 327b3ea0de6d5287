/**
 * The in-memory transaction log of the EventStoreDB emulator (a TEST DOUBLE, see README.md).
 *
 * Models the parts of EventStoreDB's storage that clients can observe:
 * - one append-only log; every event is its own record whose `$all` position (commit = prepare) is its
 *   byte offset in the log, so positions grow in commit order with gaps, as on a real server (v20+);
 * - streams as indexes into the log; revisions 0..n-1;
 * - the commit check of EventStoreDB's IndexWriter.CheckCommit: expected version `any` / `stream_exists`
 *   / `no_stream` / exact, including event-id idempotency (a repeated append of the same event ids at
 *   the same expected version returns the original result instead of writing twice), "corrupted
 *   idempotency" (a partial match) reported as a wrong expected version;
 * - system events (`$…` streams) that clients must learn to skip.
 */

/** EventStoreDB's encoding of expected versions. */
export const EXPECTED_NO_STREAM = -1;
export const EXPECTED_ANY = -2;
export const EXPECTED_STREAM_EXISTS = -4;

export type ProposedEvent = {
  /** Lower-case UUID. */
  eventId: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  metadata: Uint8Array;
};

export type LogRecord = ProposedEvent & {
  position: bigint;
  streamId: string;
  revision: number;
  /** .NET ticks (100 ns) since the Unix epoch, as EventStoreDB sends `created`. */
  created: bigint;
};

export type AppendOutcome =
  | { kind: 'written'; firstRevision: number; lastRevision: number; position: bigint }
  | { kind: 'idempotent'; firstRevision: number; lastRevision: number; position: bigint }
  | { kind: 'wrong_expected_version'; currentRevision: number };

/** Records are laid out like log records: a header plus the variable parts, 8-byte aligned. */
const RECORD_HEADER_BYTES = 92n;

export class EventLog {
  readonly records: LogRecord[] = [];
  private readonly streams = new Map<string, LogRecord[]>();
  /** EventStoreDB's "committed events" cache: event id → (stream, revision). Unbounded here. */
  private readonly committed = new Map<string, { streamId: string; revision: number }>();
  private nextPosition = 0n;
  private readonly listeners = new Set<() => void>();

  constructor(seedSystemEvents = true) {
    if (seedSystemEvents) this.seed();
  }

  /** Position of the first byte after the last record (what a writer would write at next). */
  get writerPosition(): bigint {
    return this.nextPosition;
  }

  lastRevision(streamId: string): number {
    const stream = this.streams.get(streamId);
    return stream ? stream.length - 1 : -1;
  }

  stream(streamId: string): readonly LogRecord[] | undefined {
    return this.streams.get(streamId);
  }

  /** Appends atomically after the commit check; notifies subscribers. */
  append(streamId: string, expectedVersion: number, events: ProposedEvent[]): AppendOutcome {
    const check = this.checkCommit(
      streamId,
      expectedVersion,
      events.map((e) => e.eventId),
    );
    if (check.kind !== 'ok') return check;
    const stream = this.streams.get(streamId) ?? [];
    this.streams.set(streamId, stream);
    const firstRevision = stream.length;
    let position = 0n;
    for (const event of events) {
      position = this.nextPosition;
      const record: LogRecord = { ...event, position, streamId, revision: stream.length, created: nowTicks() };
      this.nextPosition += recordSize(record);
      stream.push(record);
      this.records.push(record);
      this.committed.set(event.eventId, { streamId, revision: record.revision });
    }
    for (const listener of [...this.listeners]) listener();
    return { kind: 'written', firstRevision, lastRevision: stream.length - 1, position };
  }

  /** Port of EventStoreDB's IndexWriter.CheckCommit (decision Ok / Idempotent / WrongExpectedVersion). */
  private checkCommit(
    streamId: string,
    expectedVersion: number,
    eventIds: string[],
  ): { kind: 'ok' } | Extract<AppendOutcome, { kind: 'idempotent' | 'wrong_expected_version' }> {
    const current = this.lastRevision(streamId);
    const wrong = { kind: 'wrong_expected_version' as const, currentRevision: current };
    if (expectedVersion === EXPECTED_STREAM_EXISTS && current < 0) return wrong;

    if (expectedVersion === EXPECTED_ANY || expectedVersion === EXPECTED_STREAM_EXISTS) {
      let first = -1;
      let last = -1;
      for (const [i, id] of eventIds.entries()) {
        const info = this.committed.get(id);
        if (!info || info.streamId !== streamId) return i === 0 ? { kind: 'ok' } : wrong; // corrupted idempotency
        if (i === 0) first = info.revision;
        last = info.revision;
      }
      return eventIds.length === 0 ? { kind: 'ok' } : this.idempotent(streamId, first, last);
    }

    if (expectedVersion < current) {
      const stream = this.streams.get(streamId) ?? [];
      let revision = expectedVersion;
      for (const id of eventIds) {
        revision += 1;
        if (stream[revision]?.eventId === id) continue;
        return wrong; // first mismatch: wrong expected version; later mismatch: corrupted idempotency (same answer)
      }
      return revision === expectedVersion ? wrong : this.idempotent(streamId, expectedVersion + 1, revision);
    }
    if (expectedVersion > current) return wrong;
    return { kind: 'ok' };
  }

  private idempotent(streamId: string, firstRevision: number, lastRevision: number): AppendOutcome & { kind: 'idempotent' } {
    const position = this.streams.get(streamId)![lastRevision].position;
    return { kind: 'idempotent', firstRevision, lastRevision, position };
  }

  /** Index of the first record whose position is >= `position`. */
  indexAtOrAfter(position: bigint): number {
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.records[mid].position < position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes a system event (as the server does for its own bookkeeping: stats, settings, users). */
  appendSystemEvent(streamId: string, type: string, data: unknown): void {
    this.append(streamId, EXPECTED_ANY, [
      { eventId: randomUuid(), type, contentType: 'application/json', data: Buffer.from(JSON.stringify(data)), metadata: new Uint8Array() },
    ]);
  }

  /** What a fresh single node has in `$all` before any client writes. */
  private seed(): void {
    this.appendSystemEvent('$epoch-information', '$epoch-information', { epochNumber: 0, epochPosition: 0 });
    this.appendSystemEvent('$users', '$User', { loginName: 'admin' });
    this.appendSystemEvent('$user-admin', '$UserCreated', {
      loginName: 'admin',
      fullName: 'Event Store Administrator',
      groups: ['$admins'],
    });
    this.appendSystemEvent('$users', '$User', { loginName: 'ops' });
    this.appendSystemEvent('$user-ops', '$UserCreated', { loginName: 'ops', fullName: 'Event Store Operations', groups: ['$ops'] });
    this.appendSystemEvent('$$$scavenges', '$metadata', { $maxAge: 2592000 });
  }
}

function recordSize(record: LogRecord): bigint {
  const variable = Buffer.byteLength(record.streamId) + Buffer.byteLength(record.type) + record.data.length + record.metadata.length;
  const size = RECORD_HEADER_BYTES + BigInt(variable);
  return ((size + 7n) / 8n) * 8n;
}

/** .NET ticks since the Unix epoch. */
function nowTicks(): bigint {
  return BigInt(Date.now()) * 10_000n;
}

function randomUuid(): string {
  return globalThis.crypto.randomUUID();
}
