import { Inject, Injectable } from '@nestjs/common';
import { Machine } from '../../domain/machine/machine.decider';
import { DomainError, notFound } from '../../domain/shared/domain-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { mcrFailureOnRead } from '../identity/mcr-failure-errors';
import { MACHINES_READ_MODEL, MachinesReadModel } from '../ports/machines-read-model.port';
import { MCR_RESOLVER, McrResolution, McrResolver } from '../ports/mcr-resolver.port';

/**
 * The machine gates of §1.4, used by every machine-scoped endpoint. MCR lookups go through the cache
 * (§4.3), so a gate on a hot path costs no upstream call within the cache TTL.
 */
@Injectable()
export class MachineGates {
  constructor(
    @Inject(MACHINES_READ_MODEL) private readonly machines: MachinesReadModel,
    @Inject(MCR_RESOLVER) private readonly mcr: McrResolver,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** E1. */
  existence(machineId: string): Machine {
    const machine = this.machines.byId(machineId);
    if (!machine) throw notFound('machine', machineId);
    return machine;
  }

  /** R1–R4. */
  async read(machineId: string): Promise<Machine> {
    const machine = this.existence(machineId);
    const failure = await this.readChecks(machine);
    if (failure) throw failure;
    return machine;
  }

  /**
   * R2–R4 for a machine already in hand: `null` when it passes, else the error (MACHINE_NOT_ACTIVATED).
   * MCR being unavailable is thrown, not returned: no gate passes or fails on a guess.
   */
  async readChecks(machine: Machine): Promise<DomainError | null> {
    if (machine.status === 'archived' || this.config.machineIdentityVerification === 'disabled' || !machine.identityProof) return null;
    const resolution = await this.resolve(machine);
    if (resolution instanceof DomainError) return resolution;
    return signerIsController(machine, resolution) ? null : controllerChanged();
  }

  /** A1–A6: "active, bonded, identity-verified". */
  async active(machineId: string): Promise<Machine> {
    const machine = this.existence(machineId);
    if (machine.status !== 'active') {
      throw new DomainError('MACHINE_NOT_ACTIVE', `machine ${machineId} is ${machine.status}, not active`, {
        machineId,
        status: machine.status,
      });
    }
    if (this.config.machineIdentityVerification === 'disabled') return machine;
    if (!machine.identityProof) {
      throw new DomainError('MACHINE_IDENTITY_PROOF_REQUIRED', `machine ${machineId} holds no verified identity proof`, {
        reason: 'machine_has_no_proof',
      });
    }
    const resolution = await this.resolve(machine);
    if (resolution instanceof DomainError) throw resolution;
    if (!signerIsController(machine, resolution)) throw controllerChanged();
    if (resolution.bondStatus !== 'bonded') {
      throw new DomainError('MACHINE_NOT_ACTIVATED', 'The machine identity is not bonded on peaqOS', { reason: 'not_bonded' });
    }
    return machine;
  }

  /** R3 / A4 through the cache; unavailability is thrown (503). */
  private async resolve(machine: Machine): Promise<McrResolution | DomainError> {
    const resolved = await this.mcr.resolve(machine.identityRef);
    if (resolved.ok) return resolved.value;
    const error = mcrFailureOnRead(resolved.failure);
    if (resolved.failure.kind === 'unavailable') throw error;
    return error;
  }
}

/** R4 / A5: the stored proof's signer is among the freshly resolved controllers (case-insensitive). */
export function signerIsController(machine: Machine, resolution: McrResolution): boolean {
  const signer = machine.identityProof?.signerAddress.toLowerCase();
  return signer !== undefined && resolution.controllerAddresses.some((address) => address.toLowerCase() === signer);
}

function controllerChanged(): DomainError {
  return new DomainError('MACHINE_NOT_ACTIVATED', 'The signer of the stored identity proof is no longer a controller of the identity', {
    reason: 'controller_changed',
  });
}
