import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { DecideContext, Decider, DomainEvent, fold } from '../../domain/shared/decider';
import { DomainError } from '../../domain/shared/domain-error';
import { CLOCK, Clock } from '../ports/clock.port';
import { AppendResult, EVENT_STORE, EventStore, NewEvent, Position, WrongExpectedRevisionError } from '../ports/event-store.port';
import { IDS, Ids } from '../ports/ids.port';
import { READ_MODEL_SYNC, ReadModelSync } from '../ports/read-model-sync.port';
import { CommandContext } from './command-context';
import { asServiceUnavailable, withStore } from './store-unavailable';
import { LruMap } from '../../domain/shared/lru-map';

export type StreamRef = {
  streamId: string;
  /** For CONCURRENCY_CONFLICT details (§0.9). */
  entityType: string;
  entityId: string;
};

export type HandleOptions<X extends DecideContext, S = unknown> = {
  /**
   * Extra decision context looked up by the handler (resolved identity, verified transfer, …). A
   * function is called with the freshly loaded state on every attempt, for facts that depend on it
   * (e.g. who holds a reservation).
   */
  context?: Omit<X, 'now'> | ((state: S) => Promise<Omit<X, 'now'>>);
  /** Wait (bounded) until local projections have applied the appended events. Default true. */
  waitForReadModels?: boolean;
};

export type HandleResult<S, E extends DomainEvent> = {
  state: S;
  /** The events this command appended (empty when it decided nothing). */
  events: E[];
  /** Their stored ids, in the same order (the causation id of follow-up changes). */
  eventIds: string[];
  revision: number;
  position: Position | null;
};

export const SCHEMA_VERSION = 1;
/** §0.15: the losing request is retried internally up to 3 times. */
export const MAX_CONFLICT_RETRIES = 3;
const READ_YOUR_WRITES_TIMEOUT_MS = 2000;

/**
 * The one place that loads a stream, folds it, decides, and appends with the expected revision
 * (ARCHITECTURE §3). On a conflict it re-reads and re-decides (bounded, jittered); it stamps the
 * metadata (actor, correlation, occurredAt) and the store stamps the hash chain.
 */
@Injectable()
export class AggregateStreams {
  private readonly logger = new Logger(AggregateStreams.name);
  private readonly queues = new Map<string, Promise<void>>();
  private readonly states = new WeakMap<object, LruMap<string, Folded<unknown>>>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDS) private readonly ids: Ids,
    @Optional() @Inject(READ_MODEL_SYNC) private readonly readModels?: ReadModelSync,
  ) {}

  /**
   * The stream's state under `decider`. Folded states are kept per decider and stream (at most
   * STATE_CACHE_SIZE streams each, least recently used out), so a load reads only the events appended
   * since — by this process or any other: the tail is always read from the store. States are immutable
   * (evolve returns new values), so a kept state is never changed behind the cache's back.
   */
  async load<S, E extends DomainEvent>(
    streamId: string,
    decider: Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>,
  ): Promise<{ state: S; revision: number }> {
    const states = this.statesOf<S>(decider);
    const cached = states.get(streamId);
    const events = await withStore(() => this.store.readStream(streamId, cached ? { fromRevision: cached.revision + 1 } : {}));
    const state = cached
      ? (events as unknown as E[]).reduce((s, e) => decider.evolve(s, e), cached.state)
      : fold(decider, events as unknown as E[]);
    const revision = events.length > 0 ? events[events.length - 1].revision : (cached?.revision ?? -1);
    this.keep(states, streamId, { state, revision });
    return { state, revision };
  }

  private statesOf<S>(decider: object): LruMap<string, Folded<S>> {
    let states = this.states.get(decider) as LruMap<string, Folded<S>> | undefined;
    if (!states) {
      states = new LruMap(STATE_CACHE_SIZE);
      this.states.set(decider, states);
    }
    return states;
  }

  private keep<S>(states: LruMap<string, Folded<S>>, streamId: string, folded: Folded<S>): void {
    if (folded.revision >= 0) states.set(streamId, folded);
    else states.delete(streamId);
  }

  async handle<C, S, E extends DomainEvent, X extends DecideContext = DecideContext>(
    ref: StreamRef,
    decider: Decider<C, S, E, X>,
    command: C,
    ctx: CommandContext,
    options: HandleOptions<X, S> = {},
  ): Promise<HandleResult<S, E>> {
    return this.oneAtATime(ref.streamId, (release) => this.decideAndAppend(ref, decider, command, ctx, options, release));
  }

  /**
   * Commands on one stream run one after the other within this process: they would only conflict
   * with each other (a hot stream such as a pairing taking 20 concurrent orders would exhaust the
   * retries). The expected revision still guards against other instances. The next command may start
   * once this one's events are committed (`release`), while they are being made durable: the store
   * makes its commit durable only with this one, and acknowledges neither if this one is lost.
   */
  private oneAtATime<T>(streamId: string, run: (release: () => void) => Promise<T>): Promise<T> {
    const previous = this.queues.get(streamId) ?? Promise.resolve();
    let release!: () => void;
    const tail = new Promise<void>((resolve) => (release = resolve));
    const result = previous.then(
      () => run(release),
      () => run(release),
    );
    result.then(release, release);
    this.queues.set(streamId, tail);
    void tail.then(() => {
      if (this.queues.get(streamId) === tail) this.queues.delete(streamId);
    });
    return result;
  }

  private async decideAndAppend<C, S, E extends DomainEvent, X extends DecideContext>(
    ref: StreamRef,
    decider: Decider<C, S, E, X>,
    command: C,
    ctx: CommandContext,
    options: HandleOptions<X, S>,
    release: () => void,
  ): Promise<HandleResult<S, E>> {
    for (let attempt = 0; ; attempt++) {
      const { state, revision } = await this.load(ref.streamId, decider);
      const extra = typeof options.context === 'function' ? await options.context(state) : options.context;
      const now = this.clock.now().toISOString();
      const decided = decider.decide(command, state, { ...(extra ?? {}), now } as X);
      if (decided.length === 0) return { state, events: [], eventIds: [], revision, position: null };

      const newEvents: NewEvent[] = decided.map((event) => ({
        id: this.ids.next('evt'),
        type: event.type,
        data: event.data as Record<string, unknown>,
        metadata: {
          correlationId: ctx.correlationId,
          causationId: ctx.causationId ?? null,
          actor: ctx.actor,
          occurredAt: now,
          schemaVersion: SCHEMA_VERSION,
        },
      }));
      const nextState = decided.reduce((s, e) => decider.evolve(s, e), state);
      let wasCommitted = false;
      const committed = (appended: AppendResult) => {
        if (wasCommitted) return;
        wasCommitted = true;
        // The appended events are exactly these, right after `revision`: the next load reads nothing.
        if (appended.nextRevision === revision + decided.length) {
          this.keep(this.statesOf<S>(decider), ref.streamId, { state: nextState, revision: appended.nextRevision });
        }
        release();
      };
      try {
        const appended = await this.store.append(ref.streamId, newEvents, revision === -1 ? 'no_stream' : revision, {
          onCommitted: committed,
        });
        // A store (or a wrapper of one) that did not say when it committed: now.
        committed(appended);
        if (options.waitForReadModels !== false) await this.waitForReadModels(appended.position);
        return {
          state: nextState,
          events: decided,
          eventIds: newEvents.map((e) => e.id),
          revision: appended.nextRevision,
          position: appended.position,
        };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw asServiceUnavailable(error);
        if (attempt >= MAX_CONFLICT_RETRIES) {
          throw new DomainError(
            'CONCURRENCY_CONFLICT',
            `Concurrent writes to ${ref.entityType} ${ref.entityId} kept conflicting; retry the request`,
            {
              entityType: ref.entityType,
              id: ref.entityId,
            },
          );
        }
        await jitteredBackoff(attempt);
      }
    }
  }

  async waitForReadModels(position: Position): Promise<void> {
    if (!this.readModels) return;
    const caughtUp = await this.readModels.waitFor(position, READ_YOUR_WRITES_TIMEOUT_MS);
    if (!caughtUp) this.logger.warn(`Read models did not reach position ${position} within ${READ_YOUR_WRITES_TIMEOUT_MS} ms`);
  }
}

type Folded<S> = { state: S; revision: number };

/** Streams whose folded state is kept, per decider. */
export const STATE_CACHE_SIZE = 10_000;

/** 5–25 ms, doubling: spreads retries of racing writers without stalling the request. */
function jitteredBackoff(attempt: number): Promise<void> {
  const base = 5 * 2 ** attempt;
  const delay = base / 2 + Math.random() * base * 1.5;
  return new Promise((resolve) => setTimeout(resolve, Math.min(delay, 50)));
}
