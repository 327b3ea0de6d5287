import { applyMachineEvent, Machine, MachineEvent } from '../../domain/machine/machine.decider';
import { defineProjection } from '../projections/projection';

export const MACHINES = 'machines';

export type MachineRow = { id: string; doc: string };

/**
 * The `machines` read model: one row per machine holding the record exactly as the API returns it
 * (folded with the decider's own `applyMachineEvent`), plus the columns the list filters and sorts on.
 */
export const machinesProjection = defineProjection({
  name: MACHINES,
  version: 1,
  handles: ['machine.registered', 'machine.updated', 'machine.identity_verified', 'machine.status_changed'],
  tables: [MACHINES],
  setup(db) {
    db.run(`CREATE TABLE IF NOT EXISTS {machines} (
      id TEXT PRIMARY KEY,
      status TEXT NOT NULL,
      owner_id TEXT NOT NULL,
      has_proof INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      doc TEXT NOT NULL
    )`);
    const table = db.table(MACHINES);
    // GET /machines sorts on (createdAt, id) descending, optionally within one owner or one status.
    db.run(`CREATE INDEX IF NOT EXISTS "${table}_created" ON {machines} (created_at, id)`);
    db.run(`CREATE INDEX IF NOT EXISTS "${table}_owner" ON {machines} (owner_id, created_at, id)`);
    db.run(`CREATE INDEX IF NOT EXISTS "${table}_status" ON {machines} (status, created_at, id)`);
  },
  apply(stored, db) {
    const event = { type: stored.type, data: stored.data } as MachineEvent;
    if (event.type === 'machine.registered') {
      // A replayed registration (rebuild) overwrites the row with the same content.
      write(db, event.data, 'INSERT OR REPLACE');
      return;
    }
    const machineId = stored.streamId.slice('machine-'.length);
    const row = db.get<MachineRow>(`SELECT id, doc FROM {machines} WHERE id = ?`, machineId);
    if (!row) return;
    write(db, applyMachineEvent(JSON.parse(row.doc) as Machine, event), 'REPLACE');
  },
});

/**
 * Machine rows written by this process (any generation, any read-model file): readers may keep what
 * they read while it has not changed (a rolled-back write changes it too, which only costs a re-read).
 */
let rowWrites = 0;
export const machineRowWrites = (): number => rowWrites;

function write(db: Parameters<typeof machinesProjection.apply>[1], machine: Machine, verb: 'INSERT OR REPLACE' | 'REPLACE'): void {
  rowWrites += 1;
  db.run(
    `${verb} INTO {machines} (id, status, owner_id, has_proof, created_at, doc) VALUES (?, ?, ?, ?, ?, ?)`,
    machine.id,
    machine.status,
    machine.ownerId,
    machine.identityProof ? 1 : 0,
    machine.createdAt,
    JSON.stringify(machine),
  );
}
