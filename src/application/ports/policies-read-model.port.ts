import { Policy } from '../../domain/policy/policy.decider';

/** A position in the `GET /policies` order (`createdAt` descending, then id descending). */
export type PolicySortKey = [createdAt: string, id: string];

/** The `policies` read model (ARCHITECTURE §4): live policies only; a deleted policy is gone. */
export interface PoliciesReadModel {
  byId(policyId: string): Policy | undefined;
  /** The policies in the given order (e.g. a machine's `policyIds`), skipping unknown and deleted ids. */
  byIds(policyIds: readonly string[]): Policy[];
  /** Up to `limit` policies strictly after `after` in the list order. */
  page(after: PolicySortKey | null, limit: number): Policy[];
  /** The ids that name no live policy, in the order given. */
  unknownIds(policyIds: readonly string[]): string[];
}
export const POLICIES_READ_MODEL = Symbol('PoliciesReadModel');

export function policySortKey(policy: Policy): PolicySortKey {
  return [policy.createdAt, policy.id];
}
