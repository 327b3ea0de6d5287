import { Position, StoredEvent, SubscribeAllOptions, Subscription } from '../../application/ports/event-store.port';
import { AppendSignal } from './append-signal';

export type AllReader = {
  read(after: Position | undefined, limit: number): StoredEvent[] | Promise<StoredEvent[]>;
  signal: AppendSignal;
  isClosed(): boolean;
};

/**
 * Catch-up-then-live subscription for stores that can read `$all` by position and signal appends in
 * process: read batches until the head, then sleep on the append signal. Resumable from any position;
 * each event is handed to the handler exactly once, in global order.
 */
export function subscribeByReading(
  reader: AllReader,
  options: SubscribeAllOptions,
  handler: (events: StoredEvent[]) => Promise<void> | void,
): Subscription {
  const batchSize = options.batchSize ?? 500;
  let stopped = false;
  let after = options.after;

  const loop = (async () => {
    while (!stopped && !reader.isClosed()) {
      const seen = reader.signal.version;
      const batch = await reader.read(after, batchSize);
      if (stopped) return;
      if (batch.length > 0) {
        await handler(batch);
        after = batch[batch.length - 1].position;
        continue;
      }
      await reader.signal.waitSince(seen);
    }
  })().catch((error) => {
    stopped = true;
    options.onError?.(error);
  });

  return {
    async close() {
      stopped = true;
      reader.signal.notify();
      await loop;
    },
  };
}
