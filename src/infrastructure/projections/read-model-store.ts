import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Position } from '../../application/ports/event-store.port';
import { WalCheckpointer } from '../sqlite/wal-checkpointer';
import { Projection, ProjectionDb } from './projection';

export type Checkpoint = {
  name: string;
  version: number;
  generation: number;
  position: Position | null;
  lastOccurredAt: string | null;
  /** The tables this generation was built with, so a later version can drop tables it no longer declares. */
  tables: readonly string[];
};

/**
 * The read-model database (one SQLite file per API instance, disposable: rebuilt from the event store
 * when missing, incompatible or behind). Each projection's tables carry a generation suffix
 * (`machines__g3`); `_projections` records the live generation and the checkpoint. A rebuild fills a
 * new generation and swaps it in by updating that row in one transaction, so readers never see a
 * half-built read model.
 */
export class ReadModelStore {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  /** One ProjectionDb (with its statement cache) per projection generation. */
  private readonly accesses = new Map<string, ProjectionDb>();
  private readonly checkpointer: WalCheckpointer | null;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // Disposable data: NORMAL keeps the file consistent after a crash; a lost tail is re-applied
    // from the event store because the checkpoint is in the same transaction as the rows.
    this.db.pragma('synchronous = NORMAL');
    // Checkpoints run in a worker thread (WalCheckpointer) every CHECKPOINT_EVERY_COMMITS commits; SQLite's
    // own, inside a commit on this thread, is only a safety net bounding the WAL to about 64 MiB (a
    // rebuild dirties pages all over the file, and checkpointing every 1,000 pages, the default, would
    // cost a checkpoint and two fsyncs per batch).
    this.db.pragma('wal_autocheckpoint = 16384');
    this.checkpointer =
      path === ':memory:' ? null : new WalCheckpointer({ file: path, everyCommits: CHECKPOINT_EVERY_COMMITS, name: 'read models' });
    // Projections upsert rows by key all over their tables; a 64 MiB page cache keeps the hot part of
    // the read model in memory instead of re-reading pages through the OS on every batch.
    this.db.pragma('cache_size = -65536');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS _projections (
      name TEXT PRIMARY KEY,
      version INTEGER NOT NULL,
      generation INTEGER NOT NULL,
      position TEXT,
      last_occurred_at TEXT,
      tables TEXT NOT NULL
    )`);
  }

  checkpoint(name: string): Checkpoint | undefined {
    const row = this.statement('SELECT name, version, generation, position, last_occurred_at, tables FROM _projections WHERE name = ?').get(
      name,
    ) as
      | { name: string; version: number; generation: number; position: string | null; last_occurred_at: string | null; tables: string }
      | undefined;
    return (
      row && {
        name: row.name,
        version: row.version,
        generation: row.generation,
        position: row.position,
        lastOccurredAt: row.last_occurred_at,
        tables: JSON.parse(row.tables) as string[],
      }
    );
  }

  saveCheckpoint(cp: Checkpoint): void {
    this.statement(
      `INSERT INTO _projections (name, version, generation, position, last_occurred_at, tables) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET version = excluded.version, generation = excluded.generation,
         position = excluded.position, last_occurred_at = excluded.last_occurred_at, tables = excluded.tables`,
    ).run(cp.name, cp.version, cp.generation, cp.position, cp.lastOccurredAt, JSON.stringify(cp.tables));
  }

  /** Table access for `projection` at `generation`. */
  access(projection: Projection, generation: number): ProjectionDb {
    const key = `${projection.name}\u0000${generation}`;
    let access = this.accesses.get(key);
    if (access) return access;
    const owned = new Set(projection.tables);
    const table = (logical: string) => {
      if (!owned.has(logical)) throw new Error(`Projection ${projection.name} does not own table ${logical}`);
      return physicalTable(logical, generation);
    };
    const statements = new Map<string, Database.Statement>();
    const prepare = (sql: string): Database.Statement => {
      let st = statements.get(sql);
      if (!st) {
        st = this.db.prepare(sql.replace(/\{([a-z][a-z0-9_]*)\}/g, (token, name: string) => (owned.has(name) ? table(name) : token)));
        statements.set(sql, st);
      }
      return st;
    };
    access = {
      table,
      run: (sql, ...params) => void prepare(sql).run(...params),
      get: <T>(sql: string, ...params: unknown[]) => prepare(sql).get(...params) as T | undefined,
      all: <T>(sql: string, ...params: unknown[]) => prepare(sql).all(...params) as T[],
    };
    this.accesses.set(key, access);
    return access;
  }

  /** Read access to a projection's live generation (for query handlers). */
  reader(projection: Projection): ProjectionDb {
    const cp = this.checkpoint(projection.name);
    return this.access(projection, cp?.generation ?? 0);
  }

  dropGeneration(projectionName: string, tables: readonly string[], generation: number): void {
    this.accesses.delete(`${projectionName}\u0000${generation}`);
    for (const t of tables) this.db.exec(`DROP TABLE IF EXISTS "${physicalTable(t, generation)}"`);
  }

  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return this.db.transaction(fn)();
    const result = this.db.transaction(fn)();
    this.checkpointer?.committed();
    return result;
  }

  async close(): Promise<void> {
    await this.checkpointer?.close();
    this.statements.clear();
    this.accesses.clear();
    this.db.close();
  }

  private statement(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }
}

/** Read-model commits (live rounds, rebuild transactions) between two checkpoints. */
const CHECKPOINT_EVERY_COMMITS = 20;

export function physicalTable(logical: string, generation: number): string {
  return `${logical}__g${generation}`;
}
