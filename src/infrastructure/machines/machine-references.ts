import { Injectable } from '@nestjs/common';
import { MachineReferences } from '../../application/ports/machine-references.port';
import { SkillReferences } from '../catalog/skill-references';
import { PolicyReferences } from '../policies/policy-references';

/** §4.1: `skillKeys` must name skills of the catalogue, `policyIds` existing policies. */
@Injectable()
export class CatalogAndPolicyReferences implements MachineReferences {
  constructor(
    private readonly skills: SkillReferences,
    private readonly policies: PolicyReferences,
  ) {}

  unknownSkillKeys(skillKeys: readonly string[]): Promise<string[]> {
    return this.skills.unknownSkillKeys(skillKeys);
  }

  unknownPolicyIds(policyIds: readonly string[]): Promise<string[]> {
    return this.policies.unknownPolicyIds(policyIds);
  }
}
