import { sha256Hex } from '../shared/canonical-json';
import { Decider, DecideContext } from '../shared/decider';
import { DomainError } from '../shared/domain-error';

/**
 * §4.2 uniqueness across every API instance: one internal reservation stream per identity key
 * (ARCHITECTURE §3), appended with the expected revision so that two writers cannot both win.
 *
 * - `identity_ref`: the normalised identityRef, held by every non-archived machine.
 * - `did`: the DID an identity resolved to, held by every non-archived machine with a verified proof
 *   (so `did:peaq:0xAbc…` and the `peaqos:machine:<id>` of the same device conflict, while an unverified
 *   draft does not block the verified registration of the same device under its other form).
 *
 * A reservation is only as good as its holder: the handler looks the holder up (its machine stream is
 * the truth) and passes what it found. A holder that is archived, or lost its proof, or that never got
 * written (a crash between reserving and registering) no longer blocks the identity; releases on
 * archive keep the stream readable but correctness never depends on them.
 */
export type IdentityKeyKind = 'identity_ref' | 'did';

export type IdentityReservationEvent =
  | { type: 'identity.reserved'; data: { kind: IdentityKeyKind; value: string; machineId: string; at: string } }
  | { type: 'identity.released'; data: { kind: IdentityKeyKind; value: string; machineId: string; at: string } };

export type IdentityReservationState = { kind: 'free' } | { kind: 'held'; machineId: string; since: string };

export type IdentityReservationCommand =
  { type: 'reserve'; key: IdentityKey; machineId: string; identityRef: string } | { type: 'release'; key: IdentityKey; machineId: string };

export type IdentityKey = { kind: IdentityKeyKind; value: string };

/** What the handler found about the current holder (only consulted when another machine holds the key). */
export type HolderStatus =
  /** Written, not archived, and (for a `did` key) holding a verified proof: the identity is taken. */
  | 'holds'
  /** Archived, or (for a `did` key) without a verified proof: the reservation is stale. */
  | 'released'
  /** No machine stream: a registration in flight, or one that crashed before writing its machine. */
  | 'missing';

export type IdentityReservationContext = DecideContext & { holder?: HolderStatus };

/**
 * A reservation whose machine was never written blocks the identity this long: longer than any request
 * that reserves and then registers (bounded by MCR and store timeouts), short enough that a crash does
 * not lock an identity out for good.
 */
export const IN_FLIGHT_RESERVATION_MS = 120_000;

export const identityReservationDecider: Decider<
  IdentityReservationCommand,
  IdentityReservationState,
  IdentityReservationEvent,
  IdentityReservationContext
> = {
  initialState: () => ({ kind: 'free' }),

  evolve(_state, event) {
    switch (event.type) {
      case 'identity.reserved':
        return { kind: 'held', machineId: event.data.machineId, since: event.data.at };
      case 'identity.released':
        return { kind: 'free' };
    }
  },

  decide(command, state, { now, holder }) {
    const { key, machineId } = command;
    switch (command.type) {
      case 'reserve': {
        if (state.kind === 'held' && state.machineId === machineId) return [];
        if (state.kind === 'held' && isTaken(state, holder, now)) {
          throw new DomainError('MACHINE_IDENTITY_EXISTS', 'The identity is already registered by a non-archived machine', {
            identityRef: command.identityRef,
            machineId: state.machineId,
            ...(key.kind === 'did' ? { did: key.value } : {}),
          });
        }
        return [{ type: 'identity.reserved', data: { ...key, machineId, at: now } }];
      }
      case 'release':
        if (state.kind !== 'held' || state.machineId !== machineId) return [];
        return [{ type: 'identity.released', data: { ...key, machineId, at: now } }];
    }
  },
};

/** Whether another machine's reservation still blocks the key; an unknown holder status fails closed. */
export function isTaken(
  state: Extract<IdentityReservationState, { kind: 'held' }>,
  holder: HolderStatus | undefined,
  now: string,
): boolean {
  switch (holder) {
    case 'released':
      return false;
    case 'missing':
      return Date.parse(now) - Date.parse(state.since) < IN_FLIGHT_RESERVATION_MS;
    default:
      return true;
  }
}

export function identityReservationStream(key: IdentityKey) {
  const id = key.kind === 'did' ? `did-${sha256Hex(key.value)}` : sha256Hex(key.value);
  return { streamId: `_identity-${id}`, entityType: 'identity-reservation', entityId: key.value };
}
