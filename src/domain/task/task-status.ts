/** §8.5.1 `Task["status"]`. */
export const TASK_STATUSES = ['pending', 'routing', 'running', 'succeeded', 'failed', 'handed_off'] as const;

export type TaskStatus = (typeof TASK_STATUSES)[number];

/** §8.5.1: statuses a task never leaves. */
export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ['succeeded', 'failed', 'handed_off'];

export function isTerminalTaskStatus(status: TaskStatus): boolean {
  return TERMINAL_TASK_STATUSES.includes(status);
}

/** What moves a task: the trigger column of the §8.5.1 lifecycle. */
export type TaskTrigger =
  /** The first `execute` of an order creates its task (§7.5.10 step 8). */
  | 'create'
  /** An `execute` starts resolving a route. */
  | 'routing_started'
  /** The first run of this execution starts. */
  | 'run_started'
  /** Native success: outcome `delivered`. */
  | 'delivered'
  /** External handoff: outcome `handoff`. */
  | 'handed_off'
  /** Non-retryable failure: outcome `failed`. */
  | 'non_retryable_failure'
  /** Retryable failure: back to `pending`, the next `execute` routes again. */
  | 'retryable_failure'
  /** The order was cancelled while the task was `pending` (§7.5.13). */
  | 'order_cancelled';

/** One row of the lifecycle table; `from: null` means the task does not exist yet. */
export type TaskTransitionRow = { from: readonly TaskStatus[] | null; to: TaskStatus; triggers: readonly TaskTrigger[] };

/** §8.5.1, the complete task transition table as data: no other transition exists. */
export const TASK_TRANSITIONS: readonly TaskTransitionRow[] = [
  { from: null, to: 'pending', triggers: ['create'] },
  { from: ['pending'], to: 'routing', triggers: ['routing_started'] },
  { from: ['routing'], to: 'running', triggers: ['run_started'] },
  { from: ['running'], to: 'succeeded', triggers: ['delivered'] },
  { from: ['running'], to: 'handed_off', triggers: ['handed_off'] },
  { from: ['running'], to: 'failed', triggers: ['non_retryable_failure'] },
  { from: ['routing', 'running'], to: 'pending', triggers: ['retryable_failure'] },
  { from: ['pending'], to: 'failed', triggers: ['order_cancelled'] },
];

/** Where `trigger` moves a task in status `from` (`null`: not created yet), or `null` when the table has no such transition. */
export function taskTransition(from: TaskStatus | null, trigger: TaskTrigger): TaskStatus | null {
  for (const row of TASK_TRANSITIONS) {
    if (!row.triggers.includes(trigger)) continue;
    if (row.from === null ? from !== null : from === null || !row.from.includes(from)) continue;
    return row.to;
  }
  return null;
}

/** The statuses from which `trigger` moves a task (for `allowed` in STATE_CONFLICT details), in §8.5.1 order. */
export function taskStatusesAllowing(trigger: TaskTrigger): TaskStatus[] {
  const allowed = new Set<TaskStatus>();
  for (const row of TASK_TRANSITIONS) if (row.triggers.includes(trigger)) for (const from of row.from ?? []) allowed.add(from);
  return TASK_STATUSES.filter((status) => allowed.has(status));
}
