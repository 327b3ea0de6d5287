import { Injectable } from '@nestjs/common';
import { MachinePolicyDenials } from '../../application/ports/machine-policy-denials.port';
import { CatalogService } from '../../domain/catalog/catalog-types';
import { MachinePolicyDenial, policyDenialsForService } from '../../domain/policy/machine-policy';
import { ReadsPolicies } from './policies.read-model';

/**
 * `MACHINE_POLICY_DENIALS` (§6.3.4 `policyDenials`) over the `policies` read model. Ids that name no
 * live policy (a dangling id) deny nothing.
 */
@Injectable()
export class PolicyDenials extends ReadsPolicies implements MachinePolicyDenials {
  denialsFor(policyIds: readonly string[], service: CatalogService): Promise<MachinePolicyDenial[]> {
    return Promise.resolve(policyDenialsForService(this.policies.byIds(policyIds), service));
  }
}
