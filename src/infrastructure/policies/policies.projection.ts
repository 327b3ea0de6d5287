import { applyPolicyEvent, Policy, PolicyEvent } from '../../domain/policy/policy.decider';
import { defineProjection, ProjectionDb } from '../projections/projection';

export const POLICIES = 'policies';

export type PolicyRow = { id: string; doc: string };

/**
 * The `policies` read model: one row per live policy holding the record exactly as the API returns it
 * (folded with the decider's own `applyPolicyEvent`); a deleted policy's row is removed (§8.6: it is
 * not found afterwards).
 */
export const policiesProjection = defineProjection({
  name: POLICIES,
  version: 1,
  handles: ['policy.created', 'policy.updated', 'policy.deleted'],
  tables: [POLICIES],
  setup(db) {
    db.run(`CREATE TABLE IF NOT EXISTS {policies} (
      id TEXT PRIMARY KEY,
      created_at TEXT NOT NULL,
      doc TEXT NOT NULL
    )`);
    // GET /policies sorts on (createdAt, id) descending.
    db.run(`CREATE INDEX IF NOT EXISTS "${db.table(POLICIES)}_created" ON {policies} (created_at, id)`);
  },
  apply(stored, db) {
    const event = { type: stored.type, data: stored.data } as PolicyEvent;
    const policyId = stored.streamId.slice('policy-'.length);
    switch (event.type) {
      case 'policy.created':
        // A replayed creation (rebuild) overwrites the row with the same content.
        write(db, event.data);
        return;
      case 'policy.updated': {
        const row = db.get<PolicyRow>(`SELECT id, doc FROM {policies} WHERE id = ?`, policyId);
        if (row) write(db, applyPolicyEvent(JSON.parse(row.doc) as Policy, event));
        return;
      }
      case 'policy.deleted':
        db.run(`DELETE FROM {policies} WHERE id = ?`, policyId);
        return;
    }
  },
});

function write(db: ProjectionDb, policy: Policy): void {
  db.run(`INSERT OR REPLACE INTO {policies} (id, created_at, doc) VALUES (?, ?, ?)`, policy.id, policy.createdAt, JSON.stringify(policy));
}
