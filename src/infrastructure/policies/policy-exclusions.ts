import { Injectable } from '@nestjs/common';
import { MachinePolicyExclusions } from '../../application/ports/machine-policy-exclusions.port';
import { CatalogService } from '../../domain/catalog/catalog-types';
import { machinePolicyExclusionReasons } from '../../domain/policy/machine-policy';
import { ReadsPolicies } from './policies.read-model';

/**
 * `MACHINE_POLICY_EXCLUSIONS` (§6.4.4 X5) over the `policies` read model: the policies are read once
 * per search; ids that name no live policy exclude nothing.
 */
@Injectable()
export class PolicyExclusions extends ReadsPolicies implements MachinePolicyExclusions {
  reasonsFor(policyIds: readonly string[]): Promise<(service: CatalogService) => string[]> {
    const policies = this.policies.byIds(policyIds);
    // A machine without live policies (the common case) excludes nothing: no call per service.
    if (policies.length === 0) return Promise.resolve(() => NONE);
    return Promise.resolve((service) => machinePolicyExclusionReasons(policies, service));
  }
}

/** Shared and frozen: callers only read it. */
const NONE = Object.freeze([]) as unknown as string[];
