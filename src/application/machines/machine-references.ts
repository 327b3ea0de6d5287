import { notFound } from '../../domain/shared/domain-error';
import { MachineReferences } from '../ports/machine-references.port';

/** §4.1: every `skillKeys` entry names a skill and every `policyIds` entry a policy, else 404. */
export async function assertReferencesExist(
  references: MachineReferences,
  { skillKeys, policyIds }: { skillKeys?: readonly string[]; policyIds?: readonly string[] },
): Promise<void> {
  if (skillKeys?.length) {
    const [unknown] = await references.unknownSkillKeys(skillKeys);
    if (unknown !== undefined) throw notFound('skill', unknown);
  }
  if (policyIds?.length) {
    const [unknown] = await references.unknownPolicyIds(policyIds);
    if (unknown !== undefined) throw notFound('policy', unknown);
  }
}
