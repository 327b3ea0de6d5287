import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { IdentityKey } from '../../domain/machine/identity-reservation.decider';
import { requireIdentityRef } from '../../domain/machine/identity-ref';
import {
  Machine,
  machineDecider,
  MachineFields,
  machineStream,
  RegisterMachine as RegisterCommand,
} from '../../domain/machine/machine.decider';
import { DomainError } from '../../domain/shared/domain-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CLOCK, Clock } from '../ports/clock.port';
import { IDS, Ids } from '../ports/ids.port';
import { MACHINE_REFERENCES, MachineReferences } from '../ports/machine-references.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { IdentityReservations } from './identity-reservations';
import { MachineIdentityProofInput, MachineIdentityProofs, ProofVerification } from './machine-identity-proofs';
import { assertReferencesExist } from './machine-references';

export type RegisterMachineRequest = Partial<MachineFields> &
  Pick<MachineFields, 'displayName' | 'ownerId' | 'machineType' | 'runtimeProfile'> & {
    /** As received; normalised here (§4.2). */
    identityRef: string;
    status?: 'draft' | 'active';
    identityProof?: MachineIdentityProofInput;
  };

/** §4.6.3 `POST /machines`. */
export class RegisterMachine {
  constructor(
    readonly request: RegisterMachineRequest,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(RegisterMachine)
export class RegisterMachineHandler implements ICommandHandler<RegisterMachine, Machine> {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly reservations: IdentityReservations,
    private readonly proofs: MachineIdentityProofs,
    @Inject(MACHINE_REFERENCES) private readonly references: MachineReferences,
    @Inject(IDS) private readonly ids: Ids,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ request, ctx }: RegisterMachine): Promise<Machine> {
    const mode = this.config.machineIdentityVerification;
    // Step 1 (the rest of the body was validated by the DTO).
    const identityRef = requireIdentityRef(request.identityRef);
    // Step 2.
    await assertReferencesExist(this.references, request);
    // Step 3 (answered here in the spec's order; the reservation below is the authoritative check).
    const machineId = this.ids.next('mach');
    const refKey: IdentityKey = { kind: 'identity_ref', value: identityRef };
    await this.reservations.assertFree(refKey, machineId, identityRef, this.now());
    // Step 4.
    let proof: ProofVerification | undefined;
    if (mode !== 'disabled') {
      if (request.identityProof) proof = await this.proofs.verify(identityRef, request.identityProof);
      else if (mode === 'required') throw proofRequired();
    }
    // Step 5.
    const didKey: IdentityKey | undefined = proof && { kind: 'did', value: proof.resolution.did };
    if (didKey) await this.reservations.assertFree(didKey, machineId, identityRef, this.now());
    // Step 6 is the decider's; it runs once here before anything is reserved, so a refused activation
    // writes nothing.
    const command: RegisterCommand = {
      type: 'register',
      id: machineId,
      displayName: request.displayName,
      ownerId: request.ownerId,
      identityRef,
      machineType: request.machineType,
      runtimeProfile: request.runtimeProfile,
      capabilities: request.capabilities,
      skillKeys: request.skillKeys,
      labels: request.labels,
      policyIds: request.policyIds,
      status: request.status,
      verifiedProof: proof?.verified,
      activation: { identityChecks: mode !== 'disabled', bonded: proof?.resolution.bondStatus === 'bonded' },
    };
    machineDecider.decide(command, machineDecider.initialState(), { now: this.now() });

    // Step 7: reserve the identity (and the DID), then store the machine; the challenge is consumed
    // once the machine is stored. A failure in between releases what was reserved.
    const reserved: IdentityKey[] = [];
    try {
      for (const key of didKey ? [refKey, didKey] : [refKey]) {
        await this.reservations.reserve(key, machineId, identityRef, ctx);
        reserved.push(key);
      }
      const { state } = await this.streams.handle(machineStream(machineId), machineDecider, command, ctx);
      if (state.kind !== 'live') throw new Error(`Registering ${machineId} stored no machine`);
      if (proof) await this.proofs.consume(proof.verified, machineId, ctx);
      return state.machine;
    } catch (error) {
      await this.releaseQuietly(reserved, machineId, ctx);
      throw error;
    }
  }

  private async releaseQuietly(keys: IdentityKey[], machineId: string, ctx: CommandContext): Promise<void> {
    // Best effort: a reservation whose machine was never written stops blocking on its own (see
    // IN_FLIGHT_RESERVATION_MS).
    for (const key of keys) await this.reservations.release(key, machineId, ctx).catch(() => undefined);
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

export function proofRequired(): DomainError {
  return new DomainError('MACHINE_IDENTITY_PROOF_REQUIRED', 'Identity verification is required: send identityProof', {
    reason: 'missing_in_request',
  });
}
