import { canonicalJson, sha256Hex } from '../shared/canonical-json';
import { proofInvalid } from '../identity-challenge/identity-challenge.decider';
import { Decider } from '../shared/decider';
import { DomainError, notFound, stateConflict } from '../shared/domain-error';
import { normaliseIdentityRef } from './identity-ref';
import { MACHINE_STATUS_TRANSITIONS, MachineStatus, isAllowedMachineTransition } from './machine-status';

export type { MachineStatus } from './machine-status';

/** §4.1 `identityProof`: what a verified EIP-191 proof leaves behind (never the signature, §9). */
export type MachineIdentityProof = {
  method: 'eip191';
  identityRef: string;
  signerAddress: string;
  challengeId: string;
  verifiedAt: string;
  challengeExpiresAt: string;
  controllerAddresses: string[];
  resolutionSource: 'peaqos-mcr';
};

/** §4.1 `Machine`, exactly as the API returns it. */
export type Machine = {
  id: string;
  displayName: string;
  status: MachineStatus;
  ownerId: string;
  identityRef: string;
  identityProof: MachineIdentityProof | null;
  machineType: string;
  runtimeProfile: string;
  capabilities: string[];
  labels: Record<string, string>;
  policyIds: string[];
  skillKeys: string[];
  createdAt: string;
  updatedAt: string;
};

/** The fields a PATCH may replace (§4.1 `UpdateMachineRequest` without status, identity and proof). */
export type MachineFields = Pick<
  Machine,
  'displayName' | 'ownerId' | 'machineType' | 'runtimeProfile' | 'capabilities' | 'skillKeys' | 'labels' | 'policyIds'
>;

const FIELD_NAMES: ReadonlyArray<keyof MachineFields> = [
  'displayName',
  'ownerId',
  'machineType',
  'runtimeProfile',
  'capabilities',
  'skillKeys',
  'labels',
  'policyIds',
];

/**
 * A proof the handler has already verified (§4.5.3 steps 1–8). The signature is carried only so that
 * the decider can store its fingerprint (§9); it never reaches an event.
 */
export type VerifiedIdentityProof = { proof: MachineIdentityProof; signature: string };

/**
 * What the activation checks (§4.6.3 step 6, §4.6.5 step 7) need, looked up by the handler through
 * MCR (fresh). Missing facts fail closed.
 */
export type ActivationFacts = {
  /** False when `PEAQOS_MACHINE_IDENTITY_VERIFICATION` is `disabled` (§4.4): no identity checks. */
  identityChecks: boolean;
  /** The stored proof's signer is still among the current controllers (only consulted without a new proof). */
  storedSignerIsController?: boolean;
  /** MCR `bond_status` is `"bonded"`. */
  bonded?: boolean;
};

/** Non-terminal orders of the machine (§7.1), oldest first; `count` defaults to the list's length. */
export type OpenOrders = { orderIds: readonly string[]; count?: number };

export type MachineEvent =
  | { type: 'machine.registered'; data: Machine }
  | { type: 'machine.updated'; data: { changes: Partial<MachineFields>; at: string } }
  | {
      type: 'machine.identity_verified';
      data: { identityProof: MachineIdentityProof; signatureFingerprint: string; at: string };
    }
  | { type: 'machine.status_changed'; data: { from: MachineStatus; to: MachineStatus; at: string } };

/**
 * `usedChallengeIds`: every challenge a proof of this machine was made with. With the stream's expected
 * revision it keeps a challenge single-use when two writes present it concurrently (§4.5.3); the
 * challenge stream records the consumption for everyone else.
 */
export type MachineState = { kind: 'none' } | { kind: 'live'; machine: Machine; usedChallengeIds: readonly string[] };

export type RegisterMachine = {
  type: 'register';
  id: string;
  displayName: string;
  ownerId: string;
  /** Normalised (§4.2). */
  identityRef: string;
  machineType: string;
  runtimeProfile: string;
  capabilities?: string[];
  skillKeys?: string[];
  labels?: Record<string, string>;
  policyIds?: string[];
  /** Default `active`. */
  status?: 'draft' | 'active';
  verifiedProof?: VerifiedIdentityProof;
  activation: ActivationFacts;
};

export type UpdateMachine = {
  type: 'update';
  id: string;
  changes: Partial<MachineFields>;
  /** Accepted only if it equals the current value after normalisation (§4.6.5 step 3). */
  identityRef?: string;
  status?: MachineStatus;
  verifiedProof?: VerifiedIdentityProof;
  /** Needed when the update activates the machine. */
  activation?: ActivationFacts;
  /** Needed when the update archives the machine. */
  openOrders?: OpenOrders;
};

export type MachineCommand =
  | RegisterMachine
  | UpdateMachine
  /** A PATCH carrying only a proof: refreshes the stored proof (§4.6.5 step 9). */
  | { type: 'verify_identity'; id: string; verifiedProof: VerifiedIdentityProof }
  | { type: 'archive'; id: string; openOrders: OpenOrders };

const OPEN_ORDER_IDS_SHOWN = 100;

export const machineDecider: Decider<MachineCommand, MachineState, MachineEvent> = {
  initialState: () => ({ kind: 'none' }),

  evolve(state, event) {
    if (event.type === 'machine.registered') {
      if (state.kind !== 'none') return state;
      const proofOf = event.data.identityProof;
      return { kind: 'live', machine: event.data, usedChallengeIds: proofOf ? [proofOf.challengeId] : [] };
    }
    if (state.kind !== 'live') return state;
    const machine = applyMachineEvent(state.machine, event);
    const usedChallengeIds =
      event.type === 'machine.identity_verified' && !state.usedChallengeIds.includes(event.data.identityProof.challengeId)
        ? [...state.usedChallengeIds, event.data.identityProof.challengeId]
        : state.usedChallengeIds;
    return { kind: 'live', machine, usedChallengeIds };
  },

  decide(command, state, { now }) {
    if (command.type === 'register') return register(command, state, now);
    if (state.kind === 'none') throw notFound('machine', command.id);
    const machine = state.machine;
    assertWritable(machine);
    switch (command.type) {
      case 'update':
        return update(command, state.machine, state.usedChallengeIds, now);
      case 'verify_identity':
        assertProofFor(machine.identityRef, command.verifiedProof, state.usedChallengeIds);
        return [identityVerified(command.verifiedProof, now)];
      case 'archive':
        checkArchiving(command.openOrders);
        return [{ type: 'machine.status_changed', data: { from: machine.status, to: 'archived', at: now } }];
    }
  },
};

function register(command: RegisterMachine, state: MachineState, now: string): MachineEvent[] {
  if (state.kind !== 'none') {
    throw new DomainError('STATE_CONFLICT', `machine ${command.id} already exists`, {
      entityType: 'machine',
      id: command.id,
      status: state.machine.status,
      reason: 'exists',
    });
  }
  if (command.verifiedProof) assertProofFor(command.identityRef, command.verifiedProof, []);
  const status = command.status ?? 'active';
  // §4.6.3 step 6: a new machine has no stored proof to fall back on.
  if (status === 'active') checkActivation(command.activation, command.verifiedProof, null);
  const machine: Machine = {
    id: command.id,
    displayName: command.displayName,
    status,
    ownerId: command.ownerId,
    identityRef: command.identityRef,
    identityProof: command.verifiedProof?.proof ?? null,
    machineType: command.machineType,
    runtimeProfile: command.runtimeProfile,
    capabilities: unique(command.capabilities ?? []),
    labels: { ...(command.labels ?? {}) },
    policyIds: unique(command.policyIds ?? []),
    skillKeys: unique(command.skillKeys ?? []),
    createdAt: now,
    updatedAt: now,
  };
  const events: MachineEvent[] = [{ type: 'machine.registered', data: machine }];
  // The creation event carries the machine as the API returns it; the proof's audit record (with
  // the signature fingerprint of §9) follows in its own event.
  if (command.verifiedProof) events.push(identityVerified(command.verifiedProof, now));
  return events;
}

/**
 * The machine as the API returns it after one more of its events: shared by the decider and the
 * `machines` read model so both see exactly the same record.
 */
export function applyMachineEvent(machine: Machine, event: MachineEvent): Machine {
  switch (event.type) {
    case 'machine.registered':
      return machine;
    case 'machine.updated':
      return { ...machine, ...event.data.changes, updatedAt: event.data.at };
    case 'machine.identity_verified':
      return { ...machine, identityProof: event.data.identityProof, updatedAt: event.data.at };
    case 'machine.status_changed':
      return { ...machine, status: event.data.to, updatedAt: event.data.at };
  }
}

/** §4.6.5 step 2: archived machines are read-only. Exported so handlers refuse before any MCR call. */
export function assertWritable(machine: Machine): void {
  if (machine.status === 'archived') throw stateConflict('machine', machine.id, 'archived', 'machine_archived');
}

/** §4.6.5 step 3: an `identityRef` in a PATCH must equal the current one after normalisation. */
export function assertIdentityRefUnchanged(machine: Machine, identityRef: string | undefined): void {
  if (identityRef !== undefined && normalised(identityRef) !== machine.identityRef) {
    throw new DomainError('MACHINE_IDENTITY_IMMUTABLE', `machine ${machine.id}: identityRef cannot change`, {
      identityRef: machine.identityRef,
    });
  }
}

/** §4.6.5 steps 3, 6, 7, 8, 9 (steps 1, 2, 4 and 5 are the handler's or ran before). */
function update(command: UpdateMachine, machine: Machine, usedChallengeIds: readonly string[], now: string): MachineEvent[] {
  assertIdentityRefUnchanged(machine, command.identityRef);
  if (command.verifiedProof) assertProofFor(machine.identityRef, command.verifiedProof, usedChallengeIds);

  const to = command.status !== undefined && command.status !== machine.status ? command.status : undefined;
  if (to !== undefined) {
    if (!isAllowedMachineTransition(machine.status, to)) {
      throw stateConflict('machine', machine.id, machine.status, 'invalid_transition', [...MACHINE_STATUS_TRANSITIONS[machine.status]]);
    }
    if (to === 'active') checkActivation(command.activation, command.verifiedProof, machine.identityProof);
    if (to === 'archived') checkArchiving(command.openOrders);
  }

  const events: MachineEvent[] = [];
  if (command.verifiedProof) events.push(identityVerified(command.verifiedProof, now));
  const changes = changedFields(machine, command.changes);
  if (Object.keys(changes).length > 0) events.push({ type: 'machine.updated', data: { changes, at: now } });
  if (to !== undefined) events.push({ type: 'machine.status_changed', data: { from: machine.status, to, at: now } });
  return events;
}

/** §4.6.3 step 6 / §4.6.5 step 7, in the spec's order. */
function checkActivation(
  facts: ActivationFacts | undefined,
  newProof: VerifiedIdentityProof | undefined,
  storedProof: MachineIdentityProof | null,
): void {
  if (facts?.identityChecks === false) return;
  if (!newProof && !storedProof) throw notActivated('identity_proof_missing');
  // A new proof was just checked against fresh controllers; a stored one must be checked again.
  if (!newProof && facts?.storedSignerIsController !== true) throw notActivated('controller_changed');
  if (facts?.bonded !== true) throw notActivated('not_bonded');
}

/** §4.6.5 step 8. */
function checkArchiving(openOrders: OpenOrders | undefined): void {
  const orderIds = openOrders?.orderIds ?? [];
  const count = Math.max(openOrders?.count ?? 0, orderIds.length);
  if (count === 0) return;
  throw new DomainError('OPEN_MARKET_ORDERS', `machine has ${count} open market order(s)`, {
    orderIds: orderIds.slice(0, OPEN_ORDER_IDS_SHOWN),
    count,
  });
}

function notActivated(reason: 'identity_proof_missing' | 'controller_changed' | 'not_bonded'): DomainError {
  return new DomainError('MACHINE_NOT_ACTIVATED', `machine identity is not activated: ${reason.replace(/_/g, ' ')}`, { reason });
}

/**
 * §4.5.3 steps 2 and 3 checked again at decision time: a proof made for another identity cannot be
 * attached, and of two writes presenting the same challenge the one decided second finds it used.
 */
function assertProofFor(identityRef: string, verified: VerifiedIdentityProof, usedChallengeIds: readonly string[]): void {
  const { challengeId } = verified.proof;
  if (verified.proof.identityRef !== identityRef) throw proofInvalid('challenge_mismatch', challengeId);
  if (usedChallengeIds.includes(challengeId)) throw proofInvalid('challenge_used', challengeId);
}

function identityVerified(verified: VerifiedIdentityProof, now: string): MachineEvent {
  return {
    type: 'machine.identity_verified',
    data: { identityProof: verified.proof, signatureFingerprint: signatureFingerprint(verified.signature), at: now },
  };
}

/** §9: the lower-case SHA-256 hex of the signature string in lower case. */
export function signatureFingerprint(signature: string): string {
  return sha256Hex(signature.toLowerCase());
}

/** Present fields whose (deduplicated) value differs from the stored one; a PATCH changing nothing writes nothing. */
function changedFields(machine: Machine, requested: Partial<MachineFields>): Partial<MachineFields> {
  const changes: Record<string, unknown> = {};
  for (const field of FIELD_NAMES) {
    const value = requested[field];
    if (value === undefined) continue;
    const next = field === 'capabilities' || field === 'skillKeys' || field === 'policyIds' ? unique(value as string[]) : value;
    if (canonicalJson(next) !== canonicalJson(machine[field])) changes[field] = next;
  }
  return changes as Partial<MachineFields>;
}

function normalised(identityRef: string): string {
  const result = normaliseIdentityRef(identityRef);
  return result.ok ? result.value : identityRef;
}

/** Duplicates removed, first occurrence kept (§4.1). */
function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

export function machineStream(id: string) {
  return { streamId: `machine-${id}`, entityType: 'machine', entityId: id, machineId: id };
}
