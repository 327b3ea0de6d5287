import { AgentPairing, PairingStatus } from '../../domain/pairing/agent-pairing.decider';

/** A position in the pairing list order (`createdAt` descending, then id descending). */
export type PairingSortKey = [createdAt: string, id: string];

/** The `agent_pairings` read model (ARCHITECTURE §4). Token checks never use it: they fold the stream. */
export interface PairingsReadModel {
  byId(pairingId: string): AgentPairing | undefined;
  /** Up to `limit` pairings of the machine strictly after `after`, optionally of one status. */
  page(machineId: string, status: PairingStatus | undefined, after: PairingSortKey | null, limit: number): AgentPairing[];
  /** Every `active` or `paused` pairing of the machine (what archiving revokes, §4.7). */
  notRevokedOf(machineId: string): AgentPairing[];
}
export const PAIRINGS_READ_MODEL = Symbol('PairingsReadModel');

export function pairingSortKey(pairing: AgentPairing): PairingSortKey {
  return [pairing.createdAt, pairing.id];
}
