import { Injectable } from '@nestjs/common';
import { PoliciesReadModel, PolicySortKey } from '../../application/ports/policies-read-model.port';
import { Policy } from '../../domain/policy/policy.decider';
import { ProjectionEngine } from '../projections/projection-engine';
import { POLICIES, PolicyRow } from './policies.projection';

/** Queries over the `policies` read model (never folds streams per request, ARCHITECTURE §4). */
@Injectable()
export class SqlitePoliciesReadModel implements PoliciesReadModel {
  constructor(private readonly projections: ProjectionEngine) {}

  byId(policyId: string): Policy | undefined {
    const row = this.projections.reader(POLICIES).get<PolicyRow>(`SELECT id, doc FROM {policies} WHERE id = ?`, policyId);
    return row && (JSON.parse(row.doc) as Policy);
  }

  byIds(policyIds: readonly string[]): Policy[] {
    const found = this.found(policyIds);
    return policyIds.flatMap((id) => {
      const policy = found.get(id);
      return policy ? [policy] : [];
    });
  }

  page(after: PolicySortKey | null, limit: number): Policy[] {
    const reader = this.projections.reader(POLICIES);
    const rows = after
      ? reader.all<PolicyRow>(
          `SELECT id, doc FROM {policies} WHERE created_at < ? OR (created_at = ? AND id < ?) ORDER BY created_at DESC, id DESC LIMIT ?`,
          after[0],
          after[0],
          after[1],
          limit,
        )
      : reader.all<PolicyRow>(`SELECT id, doc FROM {policies} ORDER BY created_at DESC, id DESC LIMIT ?`, limit);
    return rows.map((row) => JSON.parse(row.doc) as Policy);
  }

  unknownIds(policyIds: readonly string[]): string[] {
    const found = this.found(policyIds);
    return policyIds.filter((id) => !found.has(id));
  }

  /** The live policies among the ids, by id (one query, whatever the number of ids). */
  private found(policyIds: readonly string[]): Map<string, Policy> {
    if (policyIds.length === 0) return new Map();
    const rows = this.projections
      .reader(POLICIES)
      .all<PolicyRow>(`SELECT id, doc FROM {policies} WHERE id IN (SELECT value FROM json_each(?))`, JSON.stringify(policyIds));
    return new Map(rows.map((row) => [row.id, JSON.parse(row.doc) as Policy]));
  }
}

/**
 * Base of the adapters other features query through ports (`MACHINE_REFERENCES`, `MACHINE_POLICY_DENIALS`,
 * `MACHINE_POLICY_EXCLUSIONS`). They are provided among the query ports of `AppModule`, where only the
 * global projection engine is visible, so they open the read model themselves.
 */
@Injectable()
export abstract class ReadsPolicies {
  protected readonly policies: PoliciesReadModel;

  constructor(projections: ProjectionEngine) {
    this.policies = new SqlitePoliciesReadModel(projections);
  }
}
