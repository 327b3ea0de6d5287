import {
  AccessDeniedError,
  AllStreamResolvedEvent,
  AllStreamSubscription,
  EventStoreDBClient,
  excludeSystemEvents,
  START,
} from '@eventstore/db-client';
import { Logger } from '@nestjs/common';
import { StoredEvent, SubscribeAllOptions, Subscription } from '../../../application/ports/event-store.port';
import { toPortError } from './esdb-errors';

export type ReconnectPolicy = { initialDelayMs: number; maxDelayMs: number };

export type AllSubscriptionDeps = {
  client: EventStoreDBClient;
  /** The port's event, or null for events the port never exposes (system events). */
  toStored(resolved: AllStreamResolvedEvent): StoredEvent | null;
  reconnect: ReconnectPolicy;
  logger: Logger;
  /** Called once when the subscription has stopped for good (closed, or failed with onError). */
  onFinished(subscription: EsdbAllSubscription): void;
};

/** Wraps an exception of the handler, so it is never mistaken for a failure of the store. */
class HandlerFailure {
  constructor(readonly cause: unknown) {}
}

/**
 * `subscribeAll` over EventStoreDB: one server-side catch-up subscription to `$all` (filtered to
 * non-system events), consumed in batches of at most `batchSize` with backpressure (the handler runs
 * before more is read). Every event carries its exact `$all` position; the subscription remembers the
 * position of the last event it handed over (or skipped), so when the connection drops it resubscribes
 * from exactly there, after a backoff, for as long as it is open: ESDB starts a subscription *after*
 * the given position, and events at or before it are discarded again here in case a server replays
 * one. Nothing is skipped, nothing is delivered twice.
 */
export class EsdbAllSubscription implements Subscription {
  private stopped = false;
  private finished = false;
  private wakeUp: (() => void) | null = null;
  private last: bigint | null;
  private readonly batchSize: number;
  private readonly loop: Promise<void>;

  constructor(
    private readonly deps: AllSubscriptionDeps,
    private readonly options: SubscribeAllOptions,
    private readonly handler: (events: StoredEvent[]) => Promise<void> | void,
  ) {
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? 500));
    this.last = options.after === undefined ? null : BigInt(options.after);
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
  }

  private wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = null;
    wake?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    try {
      while (!this.stopped) {
        try {
          await this.consumeOnce(() => {
            if (failures > 0) this.deps.logger.log(`Subscription to $all re-established after ${failures} failed attempt(s)`);
            failures = 0;
          });
          if (this.stopped) break;
          failures += 1;
          this.deps.logger.warn('Subscription to $all ended by the server; resubscribing');
        } catch (error) {
          if (error instanceof HandlerFailure) return this.fail(error.cause);
          if (this.stopped) break;
          if (error instanceof AccessDeniedError) return this.fail(toPortError('subscribeAll', error));
          failures += 1;
          const delay = this.backoff(failures);
          if (failures === 1 || failures % 10 === 0) {
            const at = this.last === null ? 'the start' : `position ${this.last}`;
            this.deps.logger.warn(
              `Subscription to $all dropped (${describe(error)}); resubscribing from ${at} in ${delay} ms (attempt ${failures})`,
            );
          }
          await this.sleep(delay);
          continue;
        }
        await this.sleep(this.backoff(failures));
      }
    } finally {
      this.finish();
    }
  }

  private fail(error: unknown): void {
    this.stopped = true;
    this.finish();
    this.options.onError?.(error);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.deps.onFinished(this);
  }

  /** One server subscription, from the last position, until it fails, ends, or we stop. */
  private async consumeOnce(onConfirmed: () => void): Promise<void> {
    const fromPosition = this.last === null ? START : { commit: this.last, prepare: this.last };
    const sub: AllStreamSubscription = this.deps.client.subscribeToAll(
      { fromPosition, filter: excludeSystemEvents() },
      { highWaterMark: this.batchSize },
    );
    let failure: unknown = null;
    let ended = false;
    // Events of this call only wake the loop while it is the current call, never a later backoff sleep.
    let current = true;
    const signal = () => {
      if (current) this.wake();
    };
    sub.on('error', (error) => {
      failure ??= error;
      signal();
    });
    sub.on('end', () => {
      ended = true;
      signal();
    });
    sub.on('close', () => {
      ended = true;
      signal();
    });
    sub.on('readable', signal);
    sub.on('confirmation', onConfirmed);
    try {
      while (!this.stopped) {
        const batch = drain(sub, this.batchSize);
        if (batch.length > 0) {
          await this.deliver(batch);
          continue;
        }
        if (failure !== null) throw failure;
        if (ended) return;
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
      }
    } finally {
      current = false;
      this.wakeUp = null;
      sub.removeAllListeners('readable');
      // A late error of a cancelled call must not become an unhandled 'error' event.
      sub.on('error', () => undefined);
      await sub.unsubscribe().catch(() => undefined);
      sub.destroy();
    }
  }

  private async deliver(batch: AllStreamResolvedEvent[]): Promise<void> {
    const events: StoredEvent[] = [];
    let last = this.last;
    for (const resolved of batch) {
      const position = resolved.event?.position?.commit ?? resolved.commitPosition;
      if (position === undefined) continue;
      if (last !== null && position <= last) continue;
      last = position;
      const stored = this.deps.toStored(resolved);
      if (stored) events.push(stored);
    }
    if (events.length > 0) {
      if (this.stopped) return;
      try {
        await this.handler(events);
      } catch (error) {
        throw new HandlerFailure(error);
      }
    }
    this.last = last;
  }

  private backoff(failures: number): number {
    const { initialDelayMs, maxDelayMs } = this.deps.reconnect;
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(failures - 1, 16));
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}

/** Takes what the stream has buffered, up to `max` items, without waiting. */
function drain(stream: AllStreamSubscription, max: number): AllStreamResolvedEvent[] {
  const batch: AllStreamResolvedEvent[] = [];
  while (batch.length < max) {
    const item = stream.read() as AllStreamResolvedEvent | null;
    if (item === null) break;
    batch.push(item);
  }
  return batch;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}
