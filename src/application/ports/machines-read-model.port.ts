import { Machine, MachineStatus } from '../../domain/machine/machine.decider';

/** A position in the `GET /machines` order (`createdAt` descending, then id descending). */
export type MachineSortKey = [createdAt: string, id: string];

export type MachineListFilter = {
  /** Only this status; without it every status except `archived`. */
  status?: MachineStatus;
  ownerId?: string;
  /**
   * Which machines may be listed at all before the identity checks (§4.6.2): `verified` keeps machines
   * with a stored proof, plus unverified drafts when `includeUnverifiedDrafts`, plus archived machines;
   * `all` (identity verification disabled) keeps every machine.
   */
  membership: { kind: 'all' } | { kind: 'verified'; includeUnverifiedDrafts: boolean };
};

/** The `machines` read model (ARCHITECTURE §4): lookups and the keyset-paginated list. */
export interface MachinesReadModel {
  byId(machineId: string): Machine | undefined;
  /** Up to `limit` machines strictly after `after` in the list order. */
  page(filter: MachineListFilter, after: MachineSortKey | null, limit: number): Machine[];
  /** Ids of the non-archived machines whose `policyIds` contain the policy (§8.6 POLICY_IN_USE), ascending. */
  nonArchivedReferencingPolicy(policyId: string): string[];
}
export const MACHINES_READ_MODEL = Symbol('MachinesReadModel');

export function machineSortKey(machine: Machine): MachineSortKey {
  return [machine.createdAt, machine.id];
}
