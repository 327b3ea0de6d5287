import { Module } from '@nestjs/common';
import { ActingPairings } from '../../application/pairings/acting-pairing';
import { AgentPairingProofs } from '../../application/pairings/agent-pairing-proofs';
import { CreatePairingHandler } from '../../application/pairings/create-pairing';
import { IssuePairingChallengeHandler } from '../../application/pairings/issue-pairing-challenge';
import { GetPairingHandler, ListPairingsHandler } from '../../application/pairings/pairing-queries';
import { RevokePairingHandler } from '../../application/pairings/revoke-pairing';
import { RevokePairingsOfArchivedMachine } from '../../application/pairings/revoke-pairings-of-archived-machine';
import { RotatePairingSessionHandler } from '../../application/pairings/rotate-pairing-session';
import { UpdatePairingHandler } from '../../application/pairings/update-pairing';
import { PAIRINGS_READ_MODEL } from '../../application/ports/pairings-read-model.port';
import { PairingsController } from '../../http/pairings/pairings.controller';
import { IdentityModule } from '../identity/identity.module';
import { MachinesModule } from '../machines/machines.module';
import { SqlitePairingsReadModel } from './pairings.read-model';

export { pairingsProjection } from './pairings.projection';

/** Machine Agent pairings (§5): challenges, pairings, sessions, the `agent_pairings` read model. */
@Module({
  imports: [MachinesModule, IdentityModule],
  controllers: [PairingsController],
  providers: [
    { provide: PAIRINGS_READ_MODEL, useClass: SqlitePairingsReadModel },
    AgentPairingProofs,
    IssuePairingChallengeHandler,
    CreatePairingHandler,
    RotatePairingSessionHandler,
    UpdatePairingHandler,
    RevokePairingHandler,
    ListPairingsHandler,
    GetPairingHandler,
    RevokePairingsOfArchivedMachine,
    ActingPairings,
  ],
  exports: [PAIRINGS_READ_MODEL, ActingPairings],
})
export class PairingsModule {}
