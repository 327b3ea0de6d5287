import { Injectable } from '@nestjs/common';
import { MachineListFilter, MachinesReadModel, MachineSortKey } from '../../application/ports/machines-read-model.port';
import { Machine } from '../../domain/machine/machine.decider';
import { ProjectionEngine } from '../projections/projection-engine';
import { machineRowWrites, MachineRow, MACHINES } from './machines.projection';
import { LruMap } from '../../domain/shared/lru-map';

/** Machines whose last read SqliteMachinesReadModel keeps. */
const KEPT_MACHINES = 10_000;

/** Queries over the `machines` read model (never folds streams per request, ARCHITECTURE §4). */
@Injectable()
export class SqliteMachinesReadModel implements MachinesReadModel {
  /**
   * Every agent request reads its machine (existence and activity gates) and machines rarely change:
   * what was read is kept with the live table and the count of machine row writes at that time, and
   * served while both are the same (no machine row written since, by this process, which alone writes
   * its read model). Bounded, least recently used out.
   */
  private readonly kept = new LruMap<string, { stamp: string; machine: Machine | undefined }>(KEPT_MACHINES);

  constructor(private readonly projections: ProjectionEngine) {}

  byId(machineId: string): Machine | undefined {
    const db = this.projections.reader(MACHINES);
    const stamp = `${db.table(MACHINES)}\u0000${machineRowWrites()}`;
    const hit = this.kept.get(machineId);
    if (hit && hit.stamp === stamp) return hit.machine;
    const row = db.get<MachineRow>(`SELECT id, doc FROM {machines} WHERE id = ?`, machineId);
    const machine = row && (JSON.parse(row.doc) as Machine);
    this.kept.set(machineId, { stamp, machine });
    return machine;
  }

  page(filter: MachineListFilter, after: MachineSortKey | null, limit: number): Machine[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status !== undefined) {
      where.push('status = ?');
      params.push(filter.status);
    } else {
      where.push(`status <> 'archived'`);
    }
    if (filter.ownerId !== undefined) {
      where.push('owner_id = ?');
      params.push(filter.ownerId);
    }
    if (filter.membership.kind === 'verified') {
      // §4.6.2: verified machines, archived ones (only reachable with status=archived), and unverified
      // drafts on request; the identity checks of the verified ones are the caller's.
      where.push(
        filter.membership.includeUnverifiedDrafts
          ? `(has_proof = 1 OR status IN ('archived', 'draft'))`
          : `(has_proof = 1 OR status = 'archived')`,
      );
    }
    if (after) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(after[0], after[0], after[1]);
    }
    const rows = this.projections
      .reader(MACHINES)
      .all<MachineRow>(
        `SELECT id, doc FROM {machines} WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
        ...params,
        limit,
      );
    return rows.map((row) => JSON.parse(row.doc) as Machine);
  }

  nonArchivedReferencingPolicy(policyId: string): string[] {
    return this.projections
      .reader(MACHINES)
      .all<{ id: string }>(
        `SELECT id FROM {machines} WHERE status <> 'archived'
           AND EXISTS (SELECT 1 FROM json_each(doc, '$.policyIds') WHERE value = ?) ORDER BY id`,
        policyId,
      )
      .map((row) => row.id);
  }
}
