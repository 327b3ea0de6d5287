import { Logger } from '@nestjs/common';
import {
  comparePositions,
  EventStore,
  EventStoreUnavailableError,
  Position,
  StoredEvent,
  Subscription,
} from '../../application/ports/event-store.port';
import { ProjectionState, ProjectionStatus, ProjectionStatusSource } from '../../application/ports/projection-status.port';
import { ReadModelSync } from '../../application/ports/read-model-sync.port';
import { Projection, ProjectionDb } from './projection';
import { Checkpoint, ReadModelStore } from './read-model-store';

export type RebuildProgress = { projection: string; processed: number; position: Position | null; head: Position | null };

type Runner = {
  projection: Projection;
  handles: Set<string>;
  checkpoint: Checkpoint;
  state: ProjectionState;
  error: string | null;
  subscription: Subscription | null;
  /** Head position when a start-time rebuild began; the state is `rebuilding` until it is passed. */
  rebuildTarget: Position | null;
  /** Consecutive failures, for the restart backoff. */
  failures: number;
  /**
   * False while the saved checkpoint lags behind `checkpoint` over events the projection does not
   * handle: a round with none of its events advances it in memory only (re-reading them after a crash
   * applies nothing). Saved with its next handled event, and when the runner stops.
   */
  checkpointSaved: boolean;
  restartTimer: NodeJS.Timeout | null;
};

const BATCH_SIZE = 1000;
/**
 * Events applied per read-model transaction during a rebuild. A rebuild writes no checkpoint until the
 * swap, so it can commit rarely: rows updated repeatedly are then written to the WAL once per
 * transaction instead of once per batch.
 */
const REBUILD_TRANSACTION_EVENTS = 16_000;

/**
 * Runs every projection as a checkpointed `$all` subscription (ARCHITECTURE §4). Each batch of events
 * is applied in one read-model transaction together with the checkpoint, so a crash never applies an
 * event twice or skips one. Implements read-your-writes waiting for command handlers.
 */
export class ProjectionEngine implements ReadModelSync, ProjectionStatusSource {
  private readonly logger = new Logger(ProjectionEngine.name);
  private readonly runners = new Map<string, Runner>();
  private waiters: Array<{ position: Position; resolve: (ok: boolean) => void; timer: NodeJS.Timeout }> = [];
  private pendingApplies: Array<{ runner: Runner; batch: StoredEvent[]; resolve: () => void; reject: (error: unknown) => void }> = [];

  constructor(
    private readonly store: EventStore,
    private readonly readModels: ReadModelStore,
    projections: readonly Projection[],
    private readonly options: { rebuildTransactionEvents?: number } = {},
  ) {
    const tableOwners = new Map<string, string>();
    for (const projection of projections) {
      if (this.runners.has(projection.name)) throw new Error(`Duplicate projection ${projection.name}`);
      for (const table of projection.tables) {
        const owner = tableOwners.get(table);
        if (owner) throw new Error(`Projections ${owner} and ${projection.name} both declare table ${table}`);
        tableOwners.set(table, projection.name);
      }
      this.runners.set(projection.name, {
        projection,
        handles: new Set(projection.handles),
        checkpoint: {
          name: projection.name,
          version: projection.version,
          generation: 0,
          position: null,
          lastOccurredAt: null,
          tables: projection.tables,
        },
        state: 'starting',
        error: null,
        subscription: null,
        rebuildTarget: null,
        failures: 0,
        checkpointSaved: true,
        restartTimer: null,
      });
    }
  }

  /**
   * Prepares every projection (fresh tables when new, incompatible or ahead of the store) and starts
   * its subscription. Catch-up runs in the background.
   */
  async start(): Promise<void> {
    const head = await this.headAtStart();
    for (const runner of this.runners.values()) {
      const { projection } = runner;
      const saved = this.readModels.checkpoint(projection.name);
      // head undefined: the store is unreachable now; the checkpoint is trusted until it can be checked.
      const aheadOfStore = head !== undefined && saved?.position != null && (head === null || comparePositions(saved.position, head) > 0);
      if (saved && saved.version === projection.version && !aheadOfStore) {
        runner.checkpoint = saved;
        this.readModels.transaction(() => projection.setup(this.readModels.access(projection, saved.generation)));
      } else {
        if (saved) {
          const why = aheadOfStore ? 'its checkpoint is ahead of the event store' : `version ${saved.version} → ${projection.version}`;
          this.logger.warn(`Rebuilding projection ${projection.name}: ${why}`);
        }
        runner.checkpoint = this.freshGeneration(projection, saved);
        runner.rebuildTarget = saved ? (head ?? null) : null;
      }
      this.startRunner(runner);
    }
  }

  /** §2.4: an unreachable store is not a start-up error; the subscriptions catch up once it is back. */
  private async headAtStart(): Promise<Position | null | undefined> {
    try {
      return await this.store.headPosition();
    } catch (error) {
      if (!(error instanceof EventStoreUnavailableError)) throw error;
      this.logger.warn(`Event store unavailable at start (${error.message}); projections catch up when it is back`);
      return undefined;
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => this.stopRunner(r, 'stopped')));
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(false);
    }
    this.waiters = [];
  }

  status(): ProjectionStatus[] {
    return [...this.runners.values()].map((r) => ({
      name: r.projection.name,
      version: r.projection.version,
      state: r.state,
      position: r.checkpoint.position,
      lastOccurredAt: r.checkpoint.lastOccurredAt,
      error: r.error,
    }));
  }

  /** Read access to a projection's live tables. */
  reader(name: string) {
    const runner = this.runners.get(name);
    if (!runner) throw new Error(`Unknown projection ${name}`);
    return this.readModels.access(runner.projection, runner.checkpoint.generation);
  }

  waitFor(position: Position, timeoutMs = 2000): Promise<boolean> {
    if (this.caughtUpTo(position)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        position,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /**
   * Replays `$all` into a fresh generation of the projection's tables and swaps it in atomically; the
   * old generation keeps serving reads until the swap. Live updates of this projection pause meanwhile.
   */
  async rebuild(name: string, onProgress?: (p: RebuildProgress) => void): Promise<{ processed: number; position: Position | null }> {
    const runner = this.runners.get(name);
    if (!runner) throw new Error(`Unknown projection ${name}`);
    await this.stopRunner(runner, 'rebuilding');
    const { projection } = runner;
    const previous = runner.checkpoint;
    const generation = previous.generation + 1;
    const db = this.readModels.access(projection, generation);
    this.readModels.transaction(() => {
      this.readModels.dropGeneration(projection.name, projection.tables, generation);
      projection.setup(db);
    });
    const head = await this.store.headPosition();
    let position: Position | null = null;
    let lastOccurredAt: string | null = null;
    let processed = 0;
    try {
      for (let done = false; !done;) {
        const pending: StoredEvent[][] = [];
        let count = 0;
        while (count < (this.options.rebuildTransactionEvents ?? REBUILD_TRANSACTION_EVENTS)) {
          const batch = await this.store.readAll({ after: position ?? undefined, limit: BATCH_SIZE });
          if (batch.length === 0) {
            done = true;
            break;
          }
          pending.push(batch);
          count += batch.length;
          position = batch[batch.length - 1].position;
          lastOccurredAt = batch[batch.length - 1].metadata.occurredAt;
        }
        this.readModels.transaction(() => {
          for (const batch of pending) applyHandled(runner, batch, db);
        });
        processed += count;
        if (count > 0) onProgress?.({ projection: name, processed, position, head });
      }
      const next: Checkpoint = { name, version: projection.version, generation, position, lastOccurredAt, tables: projection.tables };
      this.readModels.transaction(() => {
        this.readModels.saveCheckpoint(next);
        this.readModels.dropGeneration(projection.name, previous.tables, previous.generation);
      });
      runner.checkpoint = next;
      runner.rebuildTarget = null;
    } catch (error) {
      this.readModels.transaction(() => this.readModels.dropGeneration(projection.name, projection.tables, generation));
      this.startRunner(runner);
      throw error;
    }
    this.startRunner(runner);
    this.releaseWaiters();
    return { processed, position };
  }

  private freshGeneration(projection: Projection, saved: Checkpoint | undefined): Checkpoint {
    const generation = (saved?.generation ?? 0) + 1;
    const checkpoint: Checkpoint = {
      name: projection.name,
      version: projection.version,
      generation,
      position: null,
      lastOccurredAt: null,
      tables: projection.tables,
    };
    this.readModels.transaction(() => {
      if (saved) this.readModels.dropGeneration(projection.name, saved.tables, saved.generation);
      this.readModels.dropGeneration(projection.name, projection.tables, generation);
      projection.setup(this.readModels.access(projection, generation));
      this.readModels.saveCheckpoint(checkpoint);
    });
    return checkpoint;
  }

  private startRunner(runner: Runner): void {
    runner.state = runner.rebuildTarget ? 'rebuilding' : 'running';
    runner.error = null;
    runner.subscription = this.store.subscribeAll(
      {
        after: runner.checkpoint.position ?? undefined,
        batchSize: BATCH_SIZE,
        onError: (error) => {
          // Stays visible as `failed` in readiness while it retries from its checkpoint with backoff
          // (a store outage heals by itself; a bug in apply keeps failing loudly).
          runner.state = 'failed';
          runner.subscription = null;
          runner.error = error instanceof Error ? error.message : String(error);
          runner.failures += 1;
          const delay = Math.min(30_000, 250 * 2 ** Math.min(runner.failures, 7));
          this.logger.error(`Projection ${runner.projection.name} stopped: ${runner.error}; retrying in ${delay} ms`);
          runner.restartTimer = setTimeout(() => {
            runner.restartTimer = null;
            this.startRunner(runner);
          }, delay);
          runner.restartTimer.unref();
        },
      },
      (batch) => this.applyBatch(runner, batch),
    );
  }

  private async stopRunner(runner: Runner, state: ProjectionState): Promise<void> {
    if (runner.restartTimer) clearTimeout(runner.restartTimer);
    runner.restartTimer = null;
    const subscription = runner.subscription;
    runner.subscription = null;
    runner.state = state;
    await subscription?.close();
    if (runner.checkpointSaved) return;
    try {
      this.readModels.transaction(() => this.readModels.saveCheckpoint(runner.checkpoint));
      runner.checkpointSaved = true;
    } catch (error) {
      // Harmless: the saved checkpoint only lags over events this projection does not handle.
      this.logger.warn(`Could not save the checkpoint of ${runner.projection.name}: ${(error as Error).message}`);
    }
  }

  /**
   * Live batches are applied together: every projection is woken by the same append, and applying all
   * their batches in one read-model transaction (each in its own savepoint, with its checkpoint) costs
   * one commit instead of one per projection. A projection whose apply throws rolls back alone.
   */
  private applyBatch(runner: Runner, batch: StoredEvent[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingApplies.push({ runner, batch, resolve, reject });
      if (this.pendingApplies.length === 1) setImmediate(() => this.applyPending());
    });
  }

  private applyPending(): void {
    const pending = this.pendingApplies;
    this.pendingApplies = [];
    const outcomes: Array<{ next: Checkpoint; saved: boolean } | { error: unknown }> = [];
    const work = pending.map(({ runner, batch }) => ({ runner, batch, handled: batch.filter((event) => runner.handles.has(event.type)) }));
    // A round without any handled event (e.g. only idempotency records were appended) opens no transaction.
    const inTransaction = work.some((w) => w.handled.length > 0)
      ? (fn: () => void) => this.readModels.transaction(fn)
      : (fn: () => void) => fn();
    try {
      inTransaction(() => {
        for (const { runner, batch, handled } of work) {
          const last = batch[batch.length - 1];
          const next: Checkpoint = { ...runner.checkpoint, position: last.position, lastOccurredAt: last.metadata.occurredAt };
          if (handled.length === 0) {
            outcomes.push({ next, saved: false });
            continue;
          }
          try {
            this.readModels.transaction(() => {
              applyEvents(runner.projection, handled, this.readModels.access(runner.projection, runner.checkpoint.generation));
              this.readModels.saveCheckpoint(next);
            });
            outcomes.push({ next, saved: true });
          } catch (error) {
            outcomes.push({ error });
          }
        }
      });
    } catch (error) {
      // The commit itself failed: nothing of this round was applied.
      for (const p of pending) p.reject(error);
      return;
    }
    pending.forEach((p, i) => {
      const outcome = outcomes[i];
      if ('error' in outcome) {
        p.reject(outcome.error);
        return;
      }
      const { runner } = p;
      runner.checkpoint = outcome.next;
      runner.checkpointSaved = outcome.saved;
      runner.failures = 0;
      if (runner.rebuildTarget && comparePositions(outcome.next.position!, runner.rebuildTarget) >= 0) {
        runner.rebuildTarget = null;
        runner.state = 'running';
      }
      p.resolve();
    });
    this.releaseWaiters();
  }

  private caughtUpTo(position: Position): boolean {
    for (const r of this.runners.values()) {
      if (r.checkpoint.position === null || comparePositions(r.checkpoint.position, position) < 0) return false;
    }
    return true;
  }

  private releaseWaiters(): void {
    if (this.waiters.length === 0) return;
    const remaining = [];
    for (const w of this.waiters) {
      if (this.caughtUpTo(w.position)) {
        clearTimeout(w.timer);
        w.resolve(true);
      } else remaining.push(w);
    }
    this.waiters = remaining;
  }
}

function applyHandled(runner: Runner, batch: readonly StoredEvent[], db: ProjectionDb): void {
  const handled = batch.filter((event) => runner.handles.has(event.type));
  if (handled.length > 0) applyEvents(runner.projection, handled, db);
}

/** Events the projection handles, in order. */
function applyEvents(projection: Projection, handled: readonly StoredEvent[], db: ProjectionDb): void {
  if (projection.applyBatch) projection.applyBatch(handled, db);
  else for (const event of handled) projection.apply(event, db);
}
