import { minimalCatalogFile } from '../../../test/support/catalog-fixture';
import { validateCatalogFile } from './catalog-file';
import { LoadedCatalog } from './loaded-catalog';
import { SkillReferences } from './skill-references';

describe('SkillReferences (§4.1 skillKeys)', () => {
  const result = validateCatalogFile(minimalCatalogFile());
  if (!result.ok) throw new Error('fixture rejected');
  const references = new SkillReferences(new LoadedCatalog(result.contents));

  it('answers the keys that name no skill, in the order given', async () => {
    expect(await references.unknownSkillKeys(['storage.object', 'oracle.price-feed', 'ORACLE.PRICE-FEED'])).toEqual([
      'storage.object',
      'ORACLE.PRICE-FEED',
    ]);
  });

  it('answers none when every key names a skill', async () => {
    expect(await references.unknownSkillKeys(['oracle.price-feed'])).toEqual([]);
    expect(await references.unknownSkillKeys([])).toEqual([]);
  });
});
