import { Inject, Injectable } from '@nestjs/common';
import { CATALOG, Catalog } from '../../application/ports/catalog.port';
import { MachineReferences } from '../../application/ports/machine-references.port';

/**
 * The skill half of `MACHINE_REFERENCES` (§4.1 `skillKeys`: each must name a skill of the registry),
 * answered by the loaded catalogue. Keys are compared exactly (catalogue keys are lower-case, §0.5).
 */
@Injectable()
export class SkillReferences implements Pick<MachineReferences, 'unknownSkillKeys'> {
  constructor(@Inject(CATALOG) private readonly catalog: Catalog) {}

  unknownSkillKeys(skillKeys: readonly string[]): Promise<string[]> {
    return Promise.resolve(skillKeys.filter((key) => this.catalog.skill(key) === undefined));
  }
}
