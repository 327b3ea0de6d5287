import { StoredEvent } from '../../application/ports/event-store.port';

/**
 * Access of one projection to its own tables (inside the engine's transaction when applying).
 * SQL names the projection's tables as `{logicalName}` tokens, e.g.
 * `INSERT INTO {machines} (id) VALUES (?)`: the token is resolved to the live generation's table and
 * the statement prepared once, so a constant SQL string costs one map lookup per call.
 */
export interface ProjectionDb {
  /** Physical name of one of the projection's logical tables (generation-suffixed; see ReadModelStore). */
  table(logicalName: string): string;
  run(sql: string, ...params: unknown[]): void;
  get<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T | undefined;
  all<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[];
}

/**
 * A read model fed from `$all` (ARCHITECTURE §4). `apply` is synchronous and runs inside the
 * engine's transaction, together with the checkpoint; it touches only the projection's own tables.
 */
export type Projection = {
  name: string;
  /** Bump when `setup` or `apply` change meaning: the projection rebuilds itself at the next start. */
  version: number;
  handles: readonly string[];
  /** Logical names of the tables the projection owns. */
  tables: readonly string[];
  /** Creates the tables (and their indexes) under `db.table(...)` names. */
  setup(db: ProjectionDb): void;
  apply(event: StoredEvent, db: ProjectionDb): void;
  /**
   * Optional: applies a batch of handled events (in order) at once, with the same result as `apply` on
   * each in turn; lets a projection fold several events of one row into one read and one write.
   */
  applyBatch?(events: readonly StoredEvent[], db: ProjectionDb): void;
};

export function defineProjection(projection: Projection): Projection {
  if (!/^[a-z][a-z0-9_]*$/.test(projection.name)) throw new Error(`Invalid projection name ${projection.name}`);
  for (const t of projection.tables) if (!/^[a-z][a-z0-9_]*$/.test(t)) throw new Error(`Invalid table name ${t}`);
  return projection;
}
