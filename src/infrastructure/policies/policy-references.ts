import { Injectable } from '@nestjs/common';
import { MachineReferences } from '../../application/ports/machine-references.port';
import { ReadsPolicies } from './policies.read-model';

/**
 * The policy half of `MACHINE_REFERENCES` (§4.1 `policyIds`: each must name an existing policy),
 * answered by the `policies` read model; a deleted policy is unknown.
 */
@Injectable()
export class PolicyReferences extends ReadsPolicies implements Pick<MachineReferences, 'unknownPolicyIds'> {
  unknownPolicyIds(policyIds: readonly string[]): Promise<string[]> {
    return Promise.resolve(this.policies.unknownIds(policyIds));
  }
}
