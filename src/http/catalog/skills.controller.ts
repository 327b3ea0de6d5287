import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { GetSkill, ListSkills } from '../../application/catalog/catalog-queries';
import { SkillSummary } from '../../domain/catalog/catalog-types';
import { decodeStringCursor, encodeCursor, ListResponse, parseLimit, toPage } from '../pagination/cursor';
import { ListSkillsQuery, SkillKeyParam } from './catalog.dto';

/** The endpoint name cursors of the list are bound to (§0.10). */
export const SKILLS_LIST_ENDPOINT = 'GET /skills';

@Controller('skills')
export class SkillsController {
  constructor(private readonly queries: QueryBus) {}

  /** §6.3.1 */
  @Get()
  async list(@Query() query: ListSkillsQuery): Promise<ListResponse<SkillSummary>> {
    const limit = parseLimit(query.limit);
    const filters = { serviceType: query.serviceType, providerKey: query.providerKey };
    const after = query.cursor === undefined ? null : decodeStringCursor(query.cursor, SKILLS_LIST_ENDPOINT, filters, 1)[0];
    const rows = await this.queries.execute<ListSkills, SkillSummary[]>(new ListSkills(filters, after, limit));
    return toPage(
      rows,
      limit,
      (skill) => encodeCursor(SKILLS_LIST_ENDPOINT, filters, [skill.key]),
      (skill) => skill,
    );
  }

  /** §6.3.2 */
  @Get(':skillKey')
  async get(@Param() { skillKey }: SkillKeyParam): Promise<{ item: SkillSummary }> {
    const item = await this.queries.execute<GetSkill, SkillSummary>(new GetSkill(skillKey));
    return { item };
  }
}
