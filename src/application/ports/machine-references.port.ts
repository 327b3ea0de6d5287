/**
 * Existence of what a machine record references (§4.1 `skillKeys`, `policyIds`): answered by the
 * skill registry and the policies read model.
 */
export interface MachineReferences {
  /** The keys that name no skill in the registry, in the order given. */
  unknownSkillKeys(skillKeys: readonly string[]): Promise<string[]>;
  /** The ids that name no existing (non-deleted) policy, in the order given. */
  unknownPolicyIds(policyIds: readonly string[]): Promise<string[]>;
}
export const MACHINE_REFERENCES = Symbol('MachineReferences');
