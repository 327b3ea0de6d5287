import { MarketOrderRecord } from '../../domain/order/market-order-types';
import { taskDecider, taskStream } from '../../domain/task/task.decider';
import { AggregateStreams } from '../shared/aggregate-streams';
import { CommandContext } from '../shared/command-context';

/**
 * §7.5.13 (and a forced pairing revocation, §5.8.7): once an order is cancelled, its task, if it is
 * `pending` (a retryable failure left it there), becomes `failed`. Caused by the cancellation event.
 */
export async function failPendingTaskOfCancelledOrder(
  streams: AggregateStreams,
  order: MarketOrderRecord,
  ctx: CommandContext,
): Promise<void> {
  if (order.status !== 'cancelled' || order.taskId === null) return;
  const stream = taskStream(order.taskId, order.machineId);
  const { state } = await streams.load(stream.streamId, taskDecider);
  if (state.kind !== 'live' || state.task.status !== 'pending') return;
  await streams.handle(stream, taskDecider, { type: 'fail_for_cancelled_order', id: order.taskId }, ctx, { waitForReadModels: false });
}
