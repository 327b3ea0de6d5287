import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AgentPairing, PairingStatus } from '../../domain/pairing/agent-pairing.decider';
import { notFound } from '../../domain/shared/domain-error';
import { MachineGates } from '../machines/machine-gates';
import { PAIRINGS_READ_MODEL, PairingSortKey, PairingsReadModel } from '../ports/pairings-read-model.port';

/** §5.8.1: up to `limit + 1` pairings after `after` (the extra one tells that a next page exists). */
export class ListPairings {
  constructor(
    readonly machineId: string,
    readonly status: PairingStatus | undefined,
    readonly after: PairingSortKey | null,
    readonly limit: number,
  ) {}
}

@QueryHandler(ListPairings)
export class ListPairingsHandler implements IQueryHandler<ListPairings, AgentPairing[]> {
  constructor(
    @Inject(PAIRINGS_READ_MODEL) private readonly pairings: PairingsReadModel,
    private readonly gates: MachineGates,
  ) {}

  execute({ machineId, status, after, limit }: ListPairings): Promise<AgentPairing[]> {
    this.gates.existence(machineId);
    return Promise.resolve(this.pairings.page(machineId, status, after, limit + 1));
  }
}

/** §5.8.2: a pairing of another machine is not found. */
export class GetPairing {
  constructor(
    readonly machineId: string,
    readonly pairingId: string,
  ) {}
}

@QueryHandler(GetPairing)
export class GetPairingHandler implements IQueryHandler<GetPairing, AgentPairing> {
  constructor(
    @Inject(PAIRINGS_READ_MODEL) private readonly pairings: PairingsReadModel,
    private readonly gates: MachineGates,
  ) {}

  execute({ machineId, pairingId }: GetPairing): Promise<AgentPairing> {
    this.gates.existence(machineId);
    const pairing = this.pairings.byId(pairingId);
    if (!pairing || pairing.machineId !== machineId) throw notFound('agent-pairing', pairingId);
    return Promise.resolve(pairing);
  }
}
