import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { GetMachine, ListMachines, MachinePage } from '../../application/machines/machine-queries';
import { RegisterMachine, RegisterMachineRequest } from '../../application/machines/register-machine';
import { UpdateMachine, UpdateMachineRequest } from '../../application/machines/update-machine';
import { machineSortKey, MachineSortKey } from '../../application/ports/machines-read-model.port';
import { CommandContext } from '../../application/shared/command-context';
import { Machine } from '../../domain/machine/machine.decider';
import { decodeStringCursor, encodeCursor, ListResponse, parseLimit } from '../pagination/cursor';
import { withoutNulls } from '../shared/without-nulls';
import { RequestContext } from '../shared/request-context.decorator';
import { CreateMachineDto, ListMachinesQuery, MachineIdParam, UpdateMachineDto } from './machines.dto';

/** The endpoint name cursors of the list are bound to (§0.10). */
export const MACHINES_LIST_ENDPOINT = 'GET /machines';

@Controller('machines')
export class MachinesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  /** §4.6.2 */
  @Get()
  async list(@Query() query: ListMachinesQuery): Promise<ListResponse<Machine>> {
    const limit = parseLimit(query.limit);
    const filters = { status: query.status, ownerId: query.ownerId, includeDrafts: query.includeDrafts === 'true' };
    const after =
      query.cursor === undefined ? null : (decodeStringCursor(query.cursor, MACHINES_LIST_ENDPOINT, filters, 2) as MachineSortKey);
    const page = await this.queries.execute<ListMachines, MachinePage>(new ListMachines(filters, after, limit));
    const response: ListResponse<Machine> = { items: page.items };
    if (page.scanned.length > limit) {
      response.nextCursor = encodeCursor(MACHINES_LIST_ENDPOINT, filters, machineSortKey(page.scanned[limit - 1]));
    }
    return response;
  }

  /** §4.6.3 */
  @Post()
  async create(@Body() dto: CreateMachineDto, @RequestContext() ctx: CommandContext): Promise<{ item: Machine }> {
    const request = withoutNulls(dto) as RegisterMachineRequest;
    const item = await this.commands.execute<RegisterMachine, Machine>(new RegisterMachine(request, ctx));
    return { item };
  }

  /** §4.6.4 */
  @Get(':machineId')
  async get(@Param() { machineId }: MachineIdParam): Promise<{ item: Machine }> {
    const item = await this.queries.execute<GetMachine, Machine>(new GetMachine(machineId));
    return { item };
  }

  /** §4.6.5 */
  @Patch(':machineId')
  async update(
    @Param() { machineId }: MachineIdParam,
    @Body() dto: UpdateMachineDto,
    @RequestContext() ctx: CommandContext,
  ): Promise<{ item: Machine }> {
    const request = withoutNulls(dto) as UpdateMachineRequest;
    const item = await this.commands.execute<UpdateMachine, Machine>(new UpdateMachine(machineId, request, ctx));
    return { item };
  }
}
