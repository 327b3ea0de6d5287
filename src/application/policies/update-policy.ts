import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Policy, policyDecider, PolicyRulesPatch, policyStream } from '../../domain/policy/policy.decider';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';

/** §8.6 `UpdatePolicyRequest` after validation: `null` in `rules` removes a member. */
export type UpdatePolicyRequest = { name?: string; description?: string; rules?: PolicyRulesPatch };

/** §8.6 `PATCH /policies/:policyId`. */
export class UpdatePolicy {
  constructor(
    readonly policyId: string,
    readonly request: UpdatePolicyRequest,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(UpdatePolicy)
export class UpdatePolicyHandler implements ICommandHandler<UpdatePolicy, Policy> {
  constructor(private readonly streams: AggregateStreams) {}

  async execute({ policyId, request, ctx }: UpdatePolicy): Promise<Policy> {
    // Writes decide on the policy's own stream: unknown and deleted ids are the decider's NOT_FOUND.
    const { state } = await this.streams.handle(policyStream(policyId), policyDecider, { type: 'update', id: policyId, ...request }, ctx);
    if (state.kind !== 'live') throw new Error(`Updating ${policyId} left no policy`);
    return state.policy;
  }
}
