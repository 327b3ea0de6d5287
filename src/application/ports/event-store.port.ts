import { Actor } from '../../domain/shared/actor';

/**
 * A global position in `$all`: a non-negative decimal integer string, strictly increasing in commit
 * order (gaps allowed). Compare with `comparePositions`, never as plain strings.
 */
export type Position = string;

export type EventMetadata = {
  correlationId: string;
  causationId: string | null;
  actor: Actor;
  occurredAt: string;
  schemaVersion: number;
  /** Hash chain (§8.7.3), stamped by the store on append. */
  prevHash: string;
  hash: string;
};

/** Treat as immutable: adapters may decode `data` and `metadata` lazily. */
export type StoredEvent = {
  id: string;
  streamId: string;
  /** 0-based position within the stream. */
  revision: number;
  position: Position;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
};

/** An event to append; the store stamps the hash chain. */
export type NewEvent = {
  id: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Omit<EventMetadata, 'prevHash' | 'hash'>;
};

/** `no_stream`: the stream must not exist. `any`: no check. A number: the revision of the stream's last event. */
export type ExpectedRevision = 'no_stream' | 'any' | number;

export type AppendResult = {
  /** Revision of the last appended event. */
  nextRevision: number;
  /** Position of the last appended event. */
  position: Position;
};

export type AppendOptions = {
  /**
   * Called once the events are committed — readable, their revisions taken — which may be before they
   * are durable; the append resolves only once they are. A writer may decide its next change to the
   * stream from then on: a store makes a commit durable only together with every earlier one, and
   * refuses every later append if it cannot, so nothing is ever acknowledged on top of a lost write.
   * Not called for an append that fails.
   */
  onCommitted?: (result: AppendResult) => void;
};

/** Runs a writer's `onCommitted`: its failure is the writer's, never the append's (the commit stands). */
export function notifyCommitted(options: AppendOptions | undefined, result: AppendResult): void {
  try {
    options?.onCommitted?.(result);
  } catch {
    // The append still resolves (or fails) as it would have.
  }
}

export type ReadAllOptions = {
  /** Exclusive lower bound: events strictly after this position. Omitted: from the beginning. */
  after?: Position;
  limit?: number;
};

export type Subscription = {
  /** Stops delivery; resolves once no handler call is running. */
  close(): Promise<void>;
};

export type SubscribeAllOptions = {
  after?: Position;
  /** Upper bound of the batch size handed to the handler. */
  batchSize?: number;
  /** Called when delivery stops because the handler or the store failed. */
  onError?: (error: unknown) => void;
};

/**
 * The event store port (ARCHITECTURE §3). Every adapter passes test/contract/event-store.contract.ts.
 */
export interface EventStore {
  /**
   * Appends atomically: either every event is written or none is. A wrong expected revision throws
   * WrongExpectedRevisionError. Retrying an append whose events (same ids) were already written at the
   * expected revision returns the original result instead of writing them twice.
   */
  append(streamId: string, events: NewEvent[], expected: ExpectedRevision, options?: AppendOptions): Promise<AppendResult>;
  /** The stream's events in revision order; `[]` when the stream does not exist. */
  readStream(streamId: string, options?: { fromRevision?: number }): Promise<StoredEvent[]>;
  /** Events of every stream in global order. */
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;
  /** Position of the newest event, `null` for an empty store. */
  headPosition(): Promise<Position | null>;
  /** The newest event of the store (any stream), `null` for an empty store. */
  readLast(): Promise<StoredEvent | null>;
  /** Catch-up from `after`, then live, in global order, in batches. Resumable from any position. */
  subscribeAll(options: SubscribeAllOptions, handler: (events: StoredEvent[]) => Promise<void> | void): Subscription;
  close(): Promise<void>;
}

export const EVENT_STORE = Symbol('EventStore');

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** Revision of the stream's last event, or -1 when it does not exist. */
    readonly actual: number,
  ) {
    super(`Wrong expected revision on ${streamId}: expected ${String(expected)}, actual ${actual}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/** The store cannot be reached or is closed; nothing was written. */
export class EventStoreUnavailableError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'EventStoreUnavailableError';
  }
}

export function comparePositions(a: Position, b: Position): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Internal streams (`$…`, `_…`) are never audit events (§8.7.1). */
export function isInternalStream(streamId: string): boolean {
  return streamId.startsWith('$') || streamId.startsWith('_');
}
