import { StoredEvent } from '../../../application/ports/event-store.port';

/**
 * Remembers the events of recently read streams, so that reading a stream again only fetches the
 * events after the ones already known (one short tail read instead of the whole stream: the usual
 * load → decide → append cycle re-reads the same aggregate on every command).
 *
 * Sound because a stream's events never change once written: revision r of a stream is the same event
 * forever. That holds for this service's event store, which never deletes, truncates or sets
 * `$maxAge`/`$maxCount` on a stream (spec §8.7: events are never updated or deleted). A stream that
 * is found missing while cached is forgotten.
 *
 * Bounded: at most `maxEvents` events in all, streams longer than `maxPerStream` are not kept; the
 * least recently used streams are evicted first. Callers get copies, never the cached objects.
 */
export class StreamPrefixCache {
  private readonly streams = new Map<string, StoredEvent[]>();
  private size = 0;

  constructor(
    private readonly maxEvents = 10_000,
    private readonly maxPerStream = 1_000,
  ) {}

  /** The known prefix (revisions 0..n-1), or [] when nothing is known. */
  prefix(streamId: string): readonly StoredEvent[] {
    const events = this.streams.get(streamId);
    if (!events) return [];
    this.streams.delete(streamId);
    this.streams.set(streamId, events);
    return events;
  }

  /** The hash of revision `revision` if it is known. */
  hashAt(streamId: string, revision: number): string | undefined {
    return this.streams.get(streamId)?.[revision]?.metadata.hash;
  }

  /** Stores the whole stream as read now (it must start at revision 0 and be contiguous). */
  store(streamId: string, events: StoredEvent[]): void {
    this.forget(streamId);
    if (events.length === 0 || events.length > this.maxPerStream) return;
    this.streams.set(streamId, events);
    this.size += events.length;
    for (const [id, cached] of this.streams) {
      if (this.size <= this.maxEvents) break;
      this.streams.delete(id);
      this.size -= cached.length;
    }
  }

  forget(streamId: string): void {
    const cached = this.streams.get(streamId);
    if (!cached) return;
    this.streams.delete(streamId);
    this.size -= cached.length;
  }
}

export function copyOf(events: readonly StoredEvent[]): StoredEvent[] {
  return events.map((event) => structuredClone(event));
}
