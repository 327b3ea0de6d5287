import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { IDS, Ids } from '../../../src/application/ports/ids.port';
import { AggregateStreams } from '../../../src/application/shared/aggregate-streams';
import { CommandContext } from '../../../src/application/shared/command-context';
import { DomainError, notFound } from '../../../src/domain/shared/domain-error';
import { decodeStringCursor, encodeCursor, ListResponse, parseLimit, toPage } from '../../../src/http/pagination/cursor';
import { RequestContext } from '../../../src/http/shared/request-context.decorator';
import { checkSessionBinding, SessionClaims } from '../../../src/domain/pairing/session-auth';
import { AgentEndpoint } from '../../../src/http/auth/agent-pairing-token.guard';
import { AgentSession } from '../../../src/http/auth/agent-session.decorator';
import { ProbeDownstream } from './probe-downstream';
import { ProbeNoteCommand, probeNoteDecider, ProbeNoteState, probeNoteStream } from './probe-note.decider';
import { CreateProbeNoteDto, ProbeAgentActionDto, ListProbeNotesQuery, NoteIdParam, RenameProbeNoteDto, SlowProbeDto } from './probe.dto';
import { ProbeNoteSortKey, ProbeNotesReader, ProbeNoteView, sortKeyOf, toProbeNoteView } from './probe-notes.reader';

/** The endpoint name cursors of the list are bound to (§0.10). */
export const PROBE_NOTES_LIST_ENDPOINT = 'GET /probe/notes';

type Item<T> = { item: T };

/**
 * Test-only endpoints that exercise every HTTP convention of §0 the way a real feature would use them:
 * whole DTOs bound per route, writes through AggregateStreams, reads from a projection.
 */
@Controller('probe')
export class ProbeController {
  constructor(
    private readonly streams: AggregateStreams,
    private readonly notes: ProbeNotesReader,
    private readonly downstream: ProbeDownstream,
    @Inject(IDS) private readonly ids: Ids,
  ) {}

  @Post('notes')
  create(@Body() dto: CreateProbeNoteDto, @RequestContext() ctx: CommandContext): Promise<Item<ProbeNoteView>> {
    const id = this.ids.next('note');
    return this.write(id, { type: 'create', id, title: dto.title, tags: dto.tags, color: dto.meta?.color }, ctx);
  }

  @Patch('notes/:noteId')
  rename(
    @Param() { noteId }: NoteIdParam,
    @Body() dto: RenameProbeNoteDto,
    @RequestContext() ctx: CommandContext,
  ): Promise<Item<ProbeNoteView>> {
    return this.write(noteId, { type: 'rename', id: noteId, title: dto.title }, ctx);
  }

  @Post('notes/:noteId/archive')
  @HttpCode(200)
  archive(@Param() { noteId }: NoteIdParam, @RequestContext() ctx: CommandContext): Promise<Item<ProbeNoteView>> {
    return this.write(noteId, { type: 'archive', id: noteId }, ctx);
  }

  @Get('notes')
  list(@Query() query: ListProbeNotesQuery): ListResponse<ProbeNoteView> {
    const limit = parseLimit(query.limit);
    const filters = { titlePrefix: query.titlePrefix };
    const after =
      query.cursor === undefined ? null : (decodeStringCursor(query.cursor, PROBE_NOTES_LIST_ENDPOINT, filters, 2) as ProbeNoteSortKey);
    // One row more than the page: it only tells whether a next page exists.
    const views = this.notes.list(filters, after, limit + 1);
    return toPage(
      views,
      limit,
      (view) => encodeCursor(PROBE_NOTES_LIST_ENDPOINT, filters, sortKeyOf(view)),
      (view) => view,
    );
  }

  @Get('notes/:noteId')
  get(@Param() { noteId }: NoteIdParam): Item<ProbeNoteView> {
    const view = this.notes.byId(noteId);
    if (!view) throw notFound('probe-note', noteId);
    return { item: view };
  }

  /** An unexpected failure on purpose: the plain Error must leave as 500 INTERNAL_ERROR without internals. */
  @Post('boom')
  @HttpCode(200)
  boom(): never {
    throw new Error('probe exploded at /srv/secret/internals.ts:42');
  }

  /** Holds its Idempotency-Key for `ms` milliseconds, to observe IDEMPOTENCY_IN_FLIGHT (§0.11 rule 3). */
  @Post('slow')
  @HttpCode(200)
  async slow(@Body() dto: SlowProbeDto): Promise<Item<{ sleptMs: number }>> {
    await new Promise((resolve) => setTimeout(resolve, dto.ms));
    return { item: { sleptMs: dto.ms } };
  }

  /** 503 while the probe's downstream is unavailable (§0.8 Retry-After, §0.11 rule 5). */
  @Post('unavailable')
  @HttpCode(200)
  unavailable(): Item<{ call: number }> {
    const { available, call } = this.downstream.call();
    if (!available) {
      throw new DomainError('SERVICE_UNAVAILABLE', 'The probe downstream is unavailable', { reason: 'probe_downstream_unavailable' });
    }
    return { item: { call } };
  }

  /**
   * A stand-in agent endpoint (§1.2) until search and orders exist: guarded like them (steps 1–8
   * before body validation), then bound to the body's machine and pairing (step 9).
   */
  @Post('agent-action')
  @HttpCode(200)
  @AgentEndpoint()
  agentAction(
    @Body() dto: ProbeAgentActionDto,
    @AgentSession() session: SessionClaims | null,
    @RequestContext() ctx: CommandContext,
  ): Item<{ machineId: string; pairingId: string | null; actor: CommandContext['actor'] }> {
    if (session) checkSessionBinding(session, { machineId: dto.machineId, pairingId: dto.agentPairingId });
    return { item: { machineId: dto.machineId, pairingId: session?.pairingId ?? null, actor: ctx.actor } };
  }

  private async write(id: string, command: ProbeNoteCommand, ctx: CommandContext): Promise<Item<ProbeNoteView>> {
    const { state } = await this.streams.handle(probeNoteStream(id), probeNoteDecider, command, ctx);
    return { item: toProbeNoteView(noteOf(state)) };
  }
}

function noteOf(state: ProbeNoteState) {
  if (state.kind === 'none') throw new Error('A probe note command succeeded without a note');
  return state.note;
}

/** The sort key a cursor carries must be (created_at, id); anything else is not our cursor (§0.10). */
