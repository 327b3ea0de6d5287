import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { CreatePolicy, CreatePolicyRequest } from '../../application/policies/create-policy';
import { DeletePolicy } from '../../application/policies/delete-policy';
import { GetPolicy, ListPolicies } from '../../application/policies/policy-queries';
import { UpdatePolicy, UpdatePolicyRequest } from '../../application/policies/update-policy';
import { policySortKey, PolicySortKey } from '../../application/ports/policies-read-model.port';
import { CommandContext } from '../../application/shared/command-context';
import { Policy } from '../../domain/policy/policy.decider';
import { decodeStringCursor, encodeCursor, ListResponse, parseLimit, toPage } from '../pagination/cursor';
import { ListQueryDto } from '../pagination/list-query.dto';
import { RequestContext } from '../shared/request-context.decorator';
import { withoutNulls } from '../shared/without-nulls';
import { CreatePolicyDto, PolicyIdParam, UpdatePolicyDto } from './policies.dto';

/** The endpoint name cursors of the list are bound to (§0.10); the list has no filters. */
export const POLICIES_LIST_ENDPOINT = 'GET /policies';

type Item<T> = { item: T };

/** §8.6 (no machine gate). */
@Controller('policies')
export class PoliciesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  async list(@Query() query: ListQueryDto): Promise<ListResponse<Policy>> {
    const limit = parseLimit(query.limit);
    const after = query.cursor === undefined ? null : (decodeStringCursor(query.cursor, POLICIES_LIST_ENDPOINT, {}, 2) as PolicySortKey);
    const rows = await this.queries.execute<ListPolicies, Policy[]>(new ListPolicies(after, limit));
    return toPage(
      rows,
      limit,
      (policy) => encodeCursor(POLICIES_LIST_ENDPOINT, {}, policySortKey(policy)),
      (policy) => policy,
    );
  }

  @Post()
  async create(@Body() dto: CreatePolicyDto, @RequestContext() ctx: CommandContext): Promise<Item<Policy>> {
    // Members sent as null are absent (§0.3), inside `rules` too (the decider drops them).
    const request = withoutNulls(dto) as CreatePolicyRequest;
    const item = await this.commands.execute<CreatePolicy, Policy>(new CreatePolicy(request, ctx));
    return { item };
  }

  @Get(':policyId')
  async get(@Param() { policyId }: PolicyIdParam): Promise<Item<Policy>> {
    const item = await this.queries.execute<GetPolicy, Policy>(new GetPolicy(policyId));
    return { item };
  }

  @Patch(':policyId')
  async update(
    @Param() { policyId }: PolicyIdParam,
    @Body() dto: UpdatePolicyDto,
    @RequestContext() ctx: CommandContext,
  ): Promise<Item<Policy>> {
    // `null` inside `rules` removes a member (§8.6); `name`, `description` or `rules` sent as null are absent (§0.3).
    const request = withoutNulls(dto) as UpdatePolicyRequest;
    const item = await this.commands.execute<UpdatePolicy, Policy>(new UpdatePolicy(policyId, request, ctx));
    return { item };
  }

  @Delete(':policyId')
  @HttpCode(204)
  async remove(@Param() { policyId }: PolicyIdParam, @RequestContext() ctx: CommandContext): Promise<void> {
    await this.commands.execute<DeletePolicy, void>(new DeletePolicy(policyId, ctx));
  }
}
