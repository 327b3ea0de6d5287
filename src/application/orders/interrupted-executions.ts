import { Inject, Injectable } from '@nestjs/common';
import { marketOrderDecider, marketOrderStream } from '../../domain/order/market-order.decider';
import { OrderRecords } from '../../domain/order/market-order-types';
import { latestRun, TaskCommand, taskDecider, taskStream } from '../../domain/task/task.decider';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CLOCK, Clock } from '../ports/clock.port';
import { IDS, Ids } from '../ports/ids.port';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';
import { orderPaymentSettings } from './order-payment-settings';

/** Beyond the longest execution can legitimately take (two candidates, each bounded by the timeout). */
export function interruptedAfterMs(config: Pick<AppConfig, 'executeTimeoutMs'>): number {
  return 2 * config.executeTimeoutMs + 60_000;
}

export const INTERRUPTED_RUN_ERROR = 'interrupted: the execution ended without a recorded result';

/**
 * An order stays `executing` only while an `execute` is in flight. Were the process to stop between
 * step 8 and the end of step 9, nothing would ever move it again (execute answers
 * `execution_in_progress`, cancel `order_not_cancellable`). Once an execution is older than any
 * in-flight one can be, the next `execute` or `cancel` of the order ends it first:
 * - a run had started: the request may have reached the provider, so it is not retried blindly —
 *   run failed, outcome failed, task and order `failed` (a held payment can be refunded);
 * - no run had started: nothing was sent — the order returns to its status before the execution and
 *   the task to `pending`, as after a retryable failure.
 */
@Injectable()
export class InterruptedExecutions {
  constructor(
    private readonly streams: AggregateStreams,
    @Inject(IDS) private readonly ids: Ids,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The records as they are once a stale execution has been ended (unchanged otherwise). */
  async endIfInterrupted(records: OrderRecords, ctx: CommandContext): Promise<OrderRecords> {
    const { order } = records;
    if (order.status !== 'executing' || order.taskId === null || order.routeId === null || order.runId === null) return records;
    if (this.clock.now().getTime() - Date.parse(order.updatedAt) < interruptedAfterMs(this.config)) return records;

    const stream = taskStream(order.taskId, order.machineId);
    const { state } = await this.streams.load(stream.streamId, taskDecider);
    const run = state.kind === 'live' ? latestRun(state) : undefined;
    const runInFlight = state.kind === 'live' && state.task.status === 'running' && run?.status === 'running';
    const outcomeId = runInFlight ? this.ids.next('out') : null;
    if (state.kind === 'live' && (state.task.status === 'routing' || state.task.status === 'running')) {
      const steps: TaskCommand[] = runInFlight
        ? [
            { type: 'finish_run', id: order.taskId, runId: run!.id, status: 'failed', error: INTERRUPTED_RUN_ERROR },
            { type: 'record_outcome', id: order.taskId, outcomeId: outcomeId!, runId: run!.id, result: { status: 'failed' } },
          ]
        : [{ type: 'return_to_pending', id: order.taskId }];
      await this.streams.handle(stream, taskDecider, { type: 'steps', id: order.taskId, steps }, ctx, { waitForReadModels: false });
    }
    const { state: ended } = await this.streams.handle(
      marketOrderStream(order.id, order.machineId),
      marketOrderDecider,
      {
        type: 'finish_execution',
        orderId: order.id,
        routeId: runInFlight ? run!.routeId : order.routeId,
        runId: runInFlight ? run!.id : order.runId,
        result: runInFlight
          ? { kind: 'failed', outcomeId: outcomeId!, errorMessage: INTERRUPTED_RUN_ERROR }
          : { kind: 'retryable_failure', errorMessage: 'interrupted before the request was sent' },
      },
      ctx,
      { context: { settings: orderPaymentSettings(this.config) } },
    );
    if (ended.kind !== 'live') return records;
    return { order: ended.order, payment: ended.payment };
  }
}
