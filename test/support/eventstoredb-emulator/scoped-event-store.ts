import {
  AppendOptions,
  AppendResult,
  comparePositions,
  EventStore,
  ExpectedRevision,
  NewEvent,
  Position,
  ReadAllOptions,
  StoredEvent,
  SubscribeAllOptions,
  Subscription,
} from '../../../src/application/ports/event-store.port';

/**
 * A view of a shared, non-empty store that starts empty: `$all` (readAll, headPosition, readLast,
 * subscribeAll) only shows events after `baseline`, the head when the view was made; streams and
 * appends pass through untouched. Lets the contract suite and the e2e suite, which expect a fresh
 * store per test, run against one real EventStoreDB server (`npm run test:eventstoredb`), provided
 * nothing else writes to that server meanwhile.
 */
export class ScopedEventStore implements EventStore {
  constructor(
    readonly inner: EventStore,
    readonly baseline: Position | null,
  ) {}

  /** A view whose baseline is the store's current head. */
  static async fromNow(inner: EventStore): Promise<ScopedEventStore> {
    return new ScopedEventStore(inner, await inner.headPosition());
  }

  append(streamId: string, events: NewEvent[], expected: ExpectedRevision, options?: AppendOptions): Promise<AppendResult> {
    return this.inner.append(streamId, events, expected, options);
  }

  readStream(streamId: string, options?: { fromRevision?: number }): Promise<StoredEvent[]> {
    return this.inner.readStream(streamId, options);
  }

  readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    return this.inner.readAll({ ...options, after: this.floor(options.after) });
  }

  async headPosition(): Promise<Position | null> {
    return this.visible(await this.inner.headPosition());
  }

  async readLast(): Promise<StoredEvent | null> {
    const last = await this.inner.readLast();
    return last && this.visible(last.position) ? last : null;
  }

  subscribeAll(options: SubscribeAllOptions, handler: (events: StoredEvent[]) => Promise<void> | void): Subscription {
    return this.inner.subscribeAll({ ...options, after: this.floor(options.after) }, handler);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private floor(after: Position | undefined): Position | undefined {
    if (this.baseline === null) return after;
    return after === undefined || comparePositions(after, this.baseline) < 0 ? this.baseline : after;
  }

  private visible(position: Position | null): Position | null {
    if (position === null || this.baseline === null) return position;
    return comparePositions(position, this.baseline) > 0 ? position : null;
  }
}
