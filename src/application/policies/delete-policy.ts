import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { policyDecider, policyStream } from '../../domain/policy/policy.decider';
import { MACHINES_READ_MODEL, MachinesReadModel } from '../ports/machines-read-model.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';

/** §8.6 `DELETE /policies/:policyId`. */
export class DeletePolicy {
  constructor(
    readonly policyId: string,
    readonly ctx: CommandContext,
  ) {}
}

@CommandHandler(DeletePolicy)
export class DeletePolicyHandler implements ICommandHandler<DeletePolicy, void> {
  constructor(
    private readonly streams: AggregateStreams,
    @Inject(MACHINES_READ_MODEL) private readonly machines: MachinesReadModel,
  ) {}

  async execute({ policyId, ctx }: DeletePolicy): Promise<void> {
    // Only non-archived machines block; archived ones keep the dangling id (§8.6). An unknown or
    // deleted policy is the decider's NOT_FOUND, checked before the references.
    const referencedBy = this.machines.nonArchivedReferencingPolicy(policyId);
    await this.streams.handle(policyStream(policyId), policyDecider, { type: 'delete', id: policyId, referencedBy }, ctx);
  }
}
