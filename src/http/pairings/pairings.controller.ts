import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { CreatePairing, PairingWithToken } from '../../application/pairings/create-pairing';
import { IssuePairingChallenge } from '../../application/pairings/issue-pairing-challenge';
import { GetPairing, ListPairings } from '../../application/pairings/pairing-queries';
import { RevokePairing } from '../../application/pairings/revoke-pairing';
import { RotatePairingSession } from '../../application/pairings/rotate-pairing-session';
import { UpdatePairing, UpdatePairingRequest } from '../../application/pairings/update-pairing';
import { pairingSortKey, PairingSortKey } from '../../application/ports/pairings-read-model.port';
import { CommandContext } from '../../application/shared/command-context';
import { AgentPairing } from '../../domain/pairing/agent-pairing.decider';
import { AgentPairingChallenge } from '../../domain/pairing/pairing-challenge.decider';
import { MachineIdParam } from '../machines/machines.dto';
import { decodeStringCursor, encodeCursor, ListResponse, parseLimit, toPage } from '../pagination/cursor';
import { RequestContext } from '../shared/request-context.decorator';
import { withoutNulls } from '../shared/without-nulls';
import {
  CreatePairingChallengeDto,
  CreatePairingDto,
  CreatePairingSessionDto,
  ListPairingsQuery,
  PairingPathParams,
  RevokePairingQuery,
  UpdatePairingDto,
} from './pairings.dto';

export const PAIRINGS_LIST_ENDPOINT = 'GET /machines/:machineId/agent-pairings';

type Item<T> = { item: T };
/** §5.1: `pairingToken` appears only in the create and rotate responses. */
type WithToken = AgentPairing & { pairingToken: string };

@Controller('machines/:machineId/agent-pairings')
export class PairingsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  /** §5.8.1 */
  @Get()
  async list(@Param() { machineId }: MachineIdParam, @Query() query: ListPairingsQuery): Promise<ListResponse<AgentPairing>> {
    const limit = parseLimit(query.limit);
    const filters = { machineId, status: query.status };
    const after =
      query.cursor === undefined ? null : (decodeStringCursor(query.cursor, PAIRINGS_LIST_ENDPOINT, filters, 2) as PairingSortKey);
    const rows = await this.queries.execute<ListPairings, AgentPairing[]>(new ListPairings(machineId, query.status, after, limit));
    return toPage(
      rows,
      limit,
      (pairing) => encodeCursor(PAIRINGS_LIST_ENDPOINT, filters, pairingSortKey(pairing)),
      (pairing) => pairing,
    );
  }

  /** §5.8.3 */
  @Post('challenges')
  async issueChallenge(
    @Param() { machineId }: MachineIdParam,
    @Body() dto: CreatePairingChallengeDto,
    @RequestContext() ctx: CommandContext,
  ): Promise<Item<AgentPairingChallenge>> {
    const item = await this.commands.execute<IssuePairingChallenge, AgentPairingChallenge>(new IssuePairingChallenge(machineId, dto, ctx));
    return { item };
  }

  /** §5.8.4 */
  @Post()
  async create(
    @Param() { machineId }: MachineIdParam,
    @Body() dto: CreatePairingDto,
    @RequestContext() ctx: CommandContext,
  ): Promise<Item<WithToken>> {
    const result = await this.commands.execute<CreatePairing, PairingWithToken>(
      new CreatePairing(machineId, withoutNulls(dto) as CreatePairingDto, ctx),
    );
    return { item: withToken(result) };
  }

  /** §5.8.2 */
  @Get(':pairingId')
  async get(@Param() { machineId, pairingId }: PairingPathParams): Promise<Item<AgentPairing>> {
    const item = await this.queries.execute<GetPairing, AgentPairing>(new GetPairing(machineId, pairingId));
    return { item };
  }

  /** §5.8.5 */
  @Post(':pairingId/sessions')
  async rotate(
    @Param() { machineId, pairingId }: PairingPathParams,
    @Body() dto: CreatePairingSessionDto,
    @RequestContext() ctx: CommandContext,
  ): Promise<Item<WithToken>> {
    const result = await this.commands.execute<RotatePairingSession, PairingWithToken>(
      new RotatePairingSession(machineId, pairingId, withoutNulls(dto), ctx),
    );
    return { item: withToken(result) };
  }

  /** §5.8.6 */
  @Patch(':pairingId')
  async update(
    @Param() { machineId, pairingId }: PairingPathParams,
    @Body() dto: UpdatePairingDto,
    @RequestContext() ctx: CommandContext,
  ): Promise<Item<AgentPairing>> {
    // `description: null` clears (§5.1); other members sent as null are absent (§0.3).
    const request: UpdatePairingRequest = { ...withoutNulls(dto), ...(dto.description === null ? { description: null } : {}) };
    const item = await this.commands.execute<UpdatePairing, AgentPairing>(new UpdatePairing(machineId, pairingId, request, ctx));
    return { item };
  }

  /** §5.8.7 */
  @Post(':pairingId/revoke')
  @HttpCode(200)
  async revoke(
    @Param() { machineId, pairingId }: PairingPathParams,
    @Query() query: RevokePairingQuery,
    @RequestContext() ctx: CommandContext,
  ): Promise<Item<AgentPairing>> {
    const item = await this.commands.execute<RevokePairing, AgentPairing>(
      new RevokePairing(machineId, pairingId, query.force === 'true', ctx),
    );
    return { item };
  }
}

function withToken({ pairing, pairingToken }: PairingWithToken): WithToken {
  return { ...pairing, pairingToken };
}
