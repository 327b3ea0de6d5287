import { AgentPairing, agentPairingDecider, AgentPairingEvent } from '../../domain/pairing/agent-pairing.decider';
import { SpendLedger } from '../../domain/pairing/spend-ledger';
import { defineProjection, ProjectionDb } from '../projections/projection';

export const AGENT_PAIRINGS = 'agent_pairings';

export type PairingRow = { doc: string };

/**
 * The `agent_pairings` read model: one row per pairing, the record exactly as the API returns it
 * (without `pairingToken`, which is never stored), folded with the decider's own `evolve`.
 */
export const pairingsProjection = defineProjection({
  name: AGENT_PAIRINGS,
  version: 1,
  handles: [
    'agent_pairing.created',
    'agent_pairing.session_issued',
    'agent_pairing.updated',
    'agent_pairing.policy_changed',
    'agent_pairing.status_changed',
    'agent_pairing.revoked',
  ],
  tables: [AGENT_PAIRINGS],
  setup(db) {
    db.run(`CREATE TABLE IF NOT EXISTS {agent_pairings} (
      id TEXT PRIMARY KEY,
      machine_id TEXT NOT NULL,
      status TEXT NOT NULL,
      created_at TEXT NOT NULL,
      doc TEXT NOT NULL
    )`);
    db.run(`CREATE INDEX IF NOT EXISTS "${db.table(AGENT_PAIRINGS)}_machine" ON {agent_pairings} (machine_id, created_at, id)`);
  },
  apply(stored, db) {
    const event = { type: stored.type, data: stored.data } as AgentPairingEvent;
    if (event.type === 'agent_pairing.created') {
      write(db, event.data);
      return;
    }
    const pairingId = stored.streamId.slice('agent-pairing-'.length);
    const row = db.get<PairingRow>(`SELECT doc FROM {agent_pairings} WHERE id = ?`, pairingId);
    if (!row) return;
    const pairing = JSON.parse(row.doc) as AgentPairing;
    const next = agentPairingDecider.evolve({ kind: 'live', pairing, delegationPolicyHash: '', spend: SpendLedger.EMPTY }, event);
    if (next.kind === 'live') write(db, next.pairing);
  },
});

function write(db: ProjectionDb, pairing: AgentPairing): void {
  db.run(
    `INSERT OR REPLACE INTO {agent_pairings} (id, machine_id, status, created_at, doc) VALUES (?, ?, ?, ?, ?)`,
    pairing.id,
    pairing.machineId,
    pairing.status,
    pairing.createdAt,
    JSON.stringify(pairing),
  );
}
