import { MachineReferences } from '../../application/ports/machine-references.port';

/**
 * References before the skill registry and policies exist: no skill and no policy is known, so every
 * referenced key or id is unknown (404, §4.1). The catalogue and policies features replace it.
 */
export class EmptyMachineReferences implements MachineReferences {
  unknownSkillKeys(skillKeys: readonly string[]): Promise<string[]> {
    return Promise.resolve([...skillKeys]);
  }
  unknownPolicyIds(policyIds: readonly string[]): Promise<string[]> {
    return Promise.resolve([...policyIds]);
  }
}
