import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { agentPairingDecider, agentPairingStream } from '../../domain/pairing/agent-pairing.decider';
import { Machine } from '../../domain/machine/machine.decider';
import { MachineArchiveFollowUps } from '../machines/machine-archive-follow-ups';
import { PAIRINGS_READ_MODEL, PairingsReadModel } from '../ports/pairings-read-model.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';

/**
 * §4.7 (a): archiving a machine revokes every `active` or `paused` pairing of it, clearing their
 * sessions. The machine had no open orders (archiving checked), so no pairing has any either.
 */
@Injectable()
export class RevokePairingsOfArchivedMachine implements OnModuleInit {
  constructor(
    private readonly followUps: MachineArchiveFollowUps,
    private readonly streams: AggregateStreams,
    @Inject(PAIRINGS_READ_MODEL) private readonly pairings: PairingsReadModel,
  ) {}

  onModuleInit(): void {
    this.followUps.register({ name: 'revoke agent pairings', run: (machine, ctx) => this.run(machine, ctx) });
  }

  private async run(machine: Machine, ctx: CommandContext): Promise<void> {
    for (const pairing of this.pairings.notRevokedOf(machine.id)) {
      await this.streams.handle(
        agentPairingStream(pairing.id, machine.id),
        agentPairingDecider,
        { type: 'revoke', id: pairing.id, machineId: machine.id, force: false, openOrders: { orderIds: [] } },
        ctx,
      );
    }
  }
}
