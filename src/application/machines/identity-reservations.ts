import { Injectable } from '@nestjs/common';
import {
  HolderStatus,
  IdentityKey,
  identityReservationDecider,
  IdentityReservationState,
  identityReservationStream,
} from '../../domain/machine/identity-reservation.decider';
import { machineDecider, machineStream } from '../../domain/machine/machine.decider';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';

/**
 * One machine per identity across every instance (§4.2): reservations in internal `_identity-…`
 * streams, judged against the holder's own machine stream (see identity-reservation.decider.ts).
 */
@Injectable()
export class IdentityReservations {
  constructor(private readonly streams: AggregateStreams) {}

  /**
   * Throws MACHINE_IDENTITY_EXISTS when another machine holds the key now; writes nothing. Used to
   * answer in the spec's order before the proof is verified; `reserve` is the authoritative check.
   */
  async assertFree(key: IdentityKey, machineId: string, identityRef: string, now: string): Promise<void> {
    const { state } = await this.streams.load(identityReservationStream(key).streamId, identityReservationDecider);
    identityReservationDecider.decide({ type: 'reserve', key, machineId, identityRef }, state, {
      now,
      ...(await this.holderOf(state, key, machineId)),
    });
  }

  /** Appends the reservation with the expected revision: of two concurrent writers exactly one wins. */
  async reserve(key: IdentityKey, machineId: string, identityRef: string, ctx: CommandContext): Promise<void> {
    await this.streams.handle(
      identityReservationStream(key),
      identityReservationDecider,
      { type: 'reserve', key, machineId, identityRef },
      ctx,
      {
        context: (state) => this.holderOf(state, key, machineId),
        waitForReadModels: false,
      },
    );
  }

  async release(key: IdentityKey, machineId: string, ctx: CommandContext): Promise<void> {
    await this.streams.handle(identityReservationStream(key), identityReservationDecider, { type: 'release', key, machineId }, ctx, {
      waitForReadModels: false,
    });
  }

  private async holderOf(state: IdentityReservationState, key: IdentityKey, machineId: string): Promise<{ holder?: HolderStatus }> {
    if (state.kind !== 'held' || state.machineId === machineId) return {};
    const { state: holder } = await this.streams.load(machineStream(state.machineId).streamId, machineDecider);
    if (holder.kind === 'none') return { holder: 'missing' };
    if (holder.machine.status === 'archived') return { holder: 'released' };
    if (key.kind === 'did' && holder.machine.identityProof === null) return { holder: 'released' };
    return { holder: 'holds' };
  }
}
