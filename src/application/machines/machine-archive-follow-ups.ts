import { Injectable, Logger } from '@nestjs/common';
import { Machine } from '../../domain/machine/machine.decider';
import { CommandContext } from '../shared/command-context';

/** A change archiving a machine causes in another feature (§4.7), run with actor `system`. */
export type ArchiveFollowUp = { name: string; run(machine: Machine, ctx: CommandContext): Promise<void> };

/**
 * §4.7: archiving revokes the machine's pairings and machine-side agents. The features owning them
 * register here (machines must not depend on them); the machine handler runs every follow-up after
 * the archive event, with that event as causation.
 */
@Injectable()
export class MachineArchiveFollowUps {
  private readonly logger = new Logger(MachineArchiveFollowUps.name);
  private readonly followUps: ArchiveFollowUp[] = [];

  register(followUp: ArchiveFollowUp): void {
    this.followUps.push(followUp);
  }

  /** Each follow-up runs even if another failed; failures are logged (the archive itself stands). */
  async run(machine: Machine, ctx: CommandContext): Promise<void> {
    for (const followUp of this.followUps) {
      try {
        await followUp.run(machine, ctx);
      } catch (error) {
        this.logger.error(`Archive follow-up ${followUp.name} failed for ${machine.id}: ${(error as Error).message}`);
      }
    }
  }
}
