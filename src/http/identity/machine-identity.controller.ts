import { Body, Controller, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { IssueMachineIdentityChallenge } from '../../application/identity/issue-machine-identity-challenge';
import { CommandContext } from '../../application/shared/command-context';
import { MachineIdentityChallenge } from '../../domain/identity-challenge/identity-challenge.decider';
import { RequestContext } from '../shared/request-context.decorator';
import { CreateMachineIdentityChallengeDto } from './machine-identity.dto';

@Controller('machine-identity')
export class MachineIdentityController {
  constructor(private readonly commands: CommandBus) {}

  /** §4.6.1 */
  @Post('challenges')
  async issueChallenge(
    @Body() dto: CreateMachineIdentityChallengeDto,
    @RequestContext() ctx: CommandContext,
  ): Promise<{ item: MachineIdentityChallenge }> {
    const item = await this.commands.execute<IssueMachineIdentityChallenge, MachineIdentityChallenge>(
      new IssueMachineIdentityChallenge(dto.identityRef, ctx),
    );
    return { item };
  }
}
