import { Injectable } from '@nestjs/common';
import { PairingSortKey, PairingsReadModel } from '../../application/ports/pairings-read-model.port';
import { AgentPairing, PairingStatus } from '../../domain/pairing/agent-pairing.decider';
import { ProjectionEngine } from '../projections/projection-engine';
import { AGENT_PAIRINGS, PairingRow } from './pairings.projection';

/** Queries over the `agent_pairings` read model. */
@Injectable()
export class SqlitePairingsReadModel implements PairingsReadModel {
  constructor(private readonly projections: ProjectionEngine) {}

  byId(pairingId: string): AgentPairing | undefined {
    const row = this.projections.reader(AGENT_PAIRINGS).get<PairingRow>(`SELECT doc FROM {agent_pairings} WHERE id = ?`, pairingId);
    return row && (JSON.parse(row.doc) as AgentPairing);
  }

  page(machineId: string, status: PairingStatus | undefined, after: PairingSortKey | null, limit: number): AgentPairing[] {
    const where = ['machine_id = ?'];
    const params: unknown[] = [machineId];
    if (status !== undefined) {
      where.push('status = ?');
      params.push(status);
    }
    if (after) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(after[0], after[0], after[1]);
    }
    return this.projections
      .reader(AGENT_PAIRINGS)
      .all<PairingRow>(
        `SELECT doc FROM {agent_pairings} WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
        ...params,
        limit,
      )
      .map((row) => JSON.parse(row.doc) as AgentPairing);
  }

  notRevokedOf(machineId: string): AgentPairing[] {
    return this.projections
      .reader(AGENT_PAIRINGS)
      .all<PairingRow>(`SELECT doc FROM {agent_pairings} WHERE machine_id = ? AND status <> 'revoked' ORDER BY created_at, id`, machineId)
      .map((row) => JSON.parse(row.doc) as AgentPairing);
  }
}
