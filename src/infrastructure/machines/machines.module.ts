import { Module } from '@nestjs/common';
import { IdentityReservations } from '../../application/machines/identity-reservations';
import { MachineArchiveFollowUps } from '../../application/machines/machine-archive-follow-ups';
import { MachineGates } from '../../application/machines/machine-gates';
import { MachineIdentityProofs } from '../../application/machines/machine-identity-proofs';
import { GetMachineHandler, ListMachinesHandler } from '../../application/machines/machine-queries';
import { RegisterMachineHandler } from '../../application/machines/register-machine';
import { UpdateMachineHandler } from '../../application/machines/update-machine';
import { MACHINES_READ_MODEL } from '../../application/ports/machines-read-model.port';
import { MachinesController } from '../../http/machines/machines.controller';
import { IdentityModule } from '../identity/identity.module';
import { SqliteMachinesReadModel } from './machines.read-model';

export { machinesProjection } from './machines.projection';

/**
 * Machines (§4): registration, updates and archiving, the `machines` read model, and the machine gates
 * (§1.4) every machine-scoped feature uses.
 */
@Module({
  imports: [IdentityModule],
  controllers: [MachinesController],
  providers: [
    { provide: MACHINES_READ_MODEL, useClass: SqliteMachinesReadModel },
    IdentityReservations,
    MachineIdentityProofs,
    MachineArchiveFollowUps,
    MachineGates,
    RegisterMachineHandler,
    UpdateMachineHandler,
    GetMachineHandler,
    ListMachinesHandler,
  ],
  exports: [MACHINES_READ_MODEL, MachineGates, MachineArchiveFollowUps],
})
export class MachinesModule {}
