import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Policy, policyDecider, PolicyRulesPatch, policyStream } from '../../domain/policy/policy.decider';
import { IDS, Ids } from '../ports/ids.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';

/** §8.6 `CreatePolicyRequest` after validation. */
export type CreatePolicyRequest = { name: string; description?: string; rules?: PolicyRulesPatch };

/** §8.6 `POST /policies`. */
export class CreatePolicy {
  constructor(
    readonly request: CreatePolicyRequest,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(CreatePolicy)
export class CreatePolicyHandler implements ICommandHandler<CreatePolicy, Policy> {
  constructor(
    private readonly streams: AggregateStreams,
    @Inject(IDS) private readonly ids: Ids,
  ) {}

  async execute({ request, ctx }: CreatePolicy): Promise<Policy> {
    const id = this.ids.next('pol');
    const { state } = await this.streams.handle(policyStream(id), policyDecider, { type: 'create', id, ...request }, ctx);
    if (state.kind !== 'live') throw new Error(`Creating ${id} stored no policy`);
    return state.policy;
  }
}
