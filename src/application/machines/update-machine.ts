import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { IdentityKey } from '../../domain/machine/identity-reservation.decider';
import { requireIdentityRef } from '../../domain/machine/identity-ref';
import {
  ActivationFacts,
  assertIdentityRefUnchanged,
  assertWritable,
  Machine,
  machineDecider,
  MachineFields,
  MachineStatus,
  machineStream,
  UpdateMachine as UpdateCommand,
} from '../../domain/machine/machine.decider';
import { notFound } from '../../domain/shared/domain-error';
import { SYSTEM_ACTOR } from '../../domain/shared/actor';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { mcrFailureOnRead } from '../identity/mcr-failure-errors';
import { CLOCK, Clock } from '../ports/clock.port';
import { MACHINE_REFERENCES, MachineReferences } from '../ports/machine-references.port';
import { MCR_RESOLVER, McrResolver } from '../ports/mcr-resolver.port';
import { OPEN_MARKET_ORDERS, OpenMarketOrders } from '../ports/open-market-orders.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { IdentityReservations } from './identity-reservations';
import { MachineArchiveFollowUps } from './machine-archive-follow-ups';
import { signerIsController } from './machine-gates';
import { MachineIdentityProofInput, MachineIdentityProofs, ProofVerification } from './machine-identity-proofs';
import { assertReferencesExist } from './machine-references';
import { proofRequired } from './register-machine';

export type UpdateMachineRequest = Partial<MachineFields> & {
  status?: MachineStatus;
  /** Accepted only if equal to the current value after normalisation. */
  identityRef?: string;
  identityProof?: MachineIdentityProofInput;
};

/** §4.6.5 `PATCH /machines/:machineId`. */
export class UpdateMachine {
  constructor(
    readonly machineId: string,
    readonly request: UpdateMachineRequest,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(UpdateMachine)
export class UpdateMachineHandler implements ICommandHandler<UpdateMachine, Machine> {
  private readonly logger = new Logger(UpdateMachineHandler.name);

  constructor(
    private readonly streams: AggregateStreams,
    private readonly reservations: IdentityReservations,
    private readonly proofs: MachineIdentityProofs,
    private readonly followUps: MachineArchiveFollowUps,
    @Inject(MACHINE_REFERENCES) private readonly references: MachineReferences,
    @Inject(OPEN_MARKET_ORDERS) private readonly openOrders: OpenMarketOrders,
    @Inject(MCR_RESOLVER) private readonly mcr: McrResolver,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ machineId, request, ctx }: UpdateMachine): Promise<Machine> {
    const mode = this.config.machineIdentityVerification;
    // Step 1: the identityRef's form is body validation, so it is checked before existence.
    if (request.identityRef !== undefined) requireIdentityRef(request.identityRef);
    // Writes decide on the machine's own stream, never on a read model.
    const { state } = await this.streams.load(machineStream(machineId).streamId, machineDecider);
    if (state.kind === 'none') throw notFound('machine', machineId);
    const machine = state.machine;
    // Steps 2–3, before any lookup.
    assertWritable(machine);
    assertIdentityRefUnchanged(machine, request.identityRef);
    // Step 4.
    await assertReferencesExist(this.references, request);
    // Step 5.
    let proof: ProofVerification | undefined;
    if (mode !== 'disabled') {
      if (request.identityProof) proof = await this.proofs.verify(machine.identityRef, request.identityProof);
      else if (mode === 'required') throw proofRequired();
    }
    const firstProof = proof !== undefined && machine.identityProof === null;
    const didKey: IdentityKey | undefined = firstProof ? { kind: 'did', value: proof!.resolution.did } : undefined;
    if (didKey) await this.reservations.assertFree(didKey, machineId, machine.identityRef, this.now());

    const to = request.status !== undefined && request.status !== machine.status ? request.status : undefined;
    const command: UpdateCommand = {
      type: 'update',
      id: machineId,
      changes: pickFields(request),
      identityRef: request.identityRef,
      status: request.status,
      verifiedProof: proof?.verified,
    };
    // Step 6 before steps 7–8 need any lookup: the decider refuses a forbidden transition on its own.
    machineDecider.decide({ ...command, activation: { identityChecks: false }, openOrders: { orderIds: [] } }, state, { now: this.now() });
    if (to === 'active') command.activation = await this.activationFacts(machine, proof);
    if (to === 'archived') command.openOrders = await this.openOrders.openOrdersOf(machineId);
    machineDecider.decide(command, state, { now: this.now() });

    // Step 9.
    try {
      if (didKey) await this.reservations.reserve(didKey, machineId, machine.identityRef, ctx);
      const result = await this.streams.handle(machineStream(machineId), machineDecider, command, ctx);
      if (result.state.kind !== 'live') throw new Error(`Updating ${machineId} left no machine`);
      if (proof) await this.proofs.consume(proof.verified, machineId, ctx);
      const archivedAt = result.events.findIndex((e) => e.type === 'machine.status_changed' && e.data.to === 'archived');
      if (archivedAt >= 0) await this.afterArchive(result.state.machine, result.eventIds[archivedAt], ctx);
      return result.state.machine;
    } catch (error) {
      if (didKey) await this.reservations.release(didKey, machineId, ctx).catch(() => undefined);
      throw error;
    }
  }

  /**
   * §4.6.5 step 7 facts. A new proof was checked against fresh controllers already; a stored one is
   * checked again against a fresh resolution (whose failures are activation failures, §4.3 read column:
   * no proof was presented that could be invalid).
   */
  private async activationFacts(machine: Machine, proof: ProofVerification | undefined): Promise<ActivationFacts> {
    if (this.config.machineIdentityVerification === 'disabled') return { identityChecks: false };
    if (proof) return { identityChecks: true, bonded: proof.resolution.bondStatus === 'bonded' };
    if (!machine.identityProof) return { identityChecks: true };
    const resolved = await this.mcr.resolve(machine.identityRef, { fresh: true });
    if (!resolved.ok) throw mcrFailureOnRead(resolved.failure);
    return {
      identityChecks: true,
      storedSignerIsController: signerIsController(machine, resolved.value),
      bonded: resolved.value.bondStatus === 'bonded',
    };
  }

  /**
   * §4.7: archiving releases the identity for re-registration. Follow-up changes carry actor `system`
   * and the archive event as causation. Reservations judge their holder by its stream, so the identity
   * is free even if these releases are never written (crash). Then the other features' follow-ups
   * (pairings, machine-side agents) run.
   */
  private async afterArchive(machine: Machine, archiveEventId: string, ctx: CommandContext): Promise<void> {
    const followUp: CommandContext = { correlationId: ctx.correlationId, causationId: archiveEventId, actor: SYSTEM_ACTOR };
    const keys: IdentityKey[] = [{ kind: 'identity_ref', value: machine.identityRef }];
    if (machine.identityProof) keys.push({ kind: 'did', value: `did:peaq:${machine.identityProof.controllerAddresses[0]}` });
    for (const key of keys) {
      await this.reservations.release(key, machine.id, followUp).catch((error: Error) => {
        this.logger.warn(`Could not release ${key.kind} of archived machine ${machine.id}: ${error.message}`);
      });
    }
    await this.followUps.run(machine, followUp);
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

const FIELDS = ['displayName', 'ownerId', 'machineType', 'runtimeProfile', 'capabilities', 'skillKeys', 'labels', 'policyIds'] as const;

function pickFields(request: UpdateMachineRequest): Partial<MachineFields> {
  const changes: Record<string, unknown> = {};
  for (const field of FIELDS) if (request[field] !== undefined) changes[field] = request[field];
  return changes as Partial<MachineFields>;
}
