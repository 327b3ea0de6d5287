import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { Policy } from '../../domain/policy/policy.decider';
import { notFound } from '../../domain/shared/domain-error';
import { POLICIES_READ_MODEL, PoliciesReadModel, PolicySortKey } from '../ports/policies-read-model.port';

/** §8.6 `GET /policies`: up to `limit + 1` policies after `after` (the extra one tells that a next page exists). */
export class ListPolicies {
  constructor(
    readonly after: PolicySortKey | null,
    readonly limit: number,
  ) {}
}

@QueryHandler(ListPolicies)
export class ListPoliciesHandler implements IQueryHandler<ListPolicies, Policy[]> {
  constructor(@Inject(POLICIES_READ_MODEL) private readonly policies: PoliciesReadModel) {}

  execute({ after, limit }: ListPolicies): Promise<Policy[]> {
    return Promise.resolve(this.policies.page(after, limit + 1));
  }
}

/** §8.6 `GET /policies/:policyId`: unknown and deleted ids are 404, whatever their prefix (§0.5). */
export class GetPolicy {
  constructor(readonly policyId: string) {}
}

@QueryHandler(GetPolicy)
export class GetPolicyHandler implements IQueryHandler<GetPolicy, Policy> {
  constructor(@Inject(POLICIES_READ_MODEL) private readonly policies: PoliciesReadModel) {}

  execute({ policyId }: GetPolicy): Promise<Policy> {
    const policy = this.policies.byId(policyId);
    if (!policy) throw notFound('policy', policyId);
    return Promise.resolve(policy);
  }
}
