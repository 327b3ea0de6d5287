import { ExternalHandoff } from '../catalog/catalog-types';
import { Decider, decideSteps } from '../shared/decider';
import { DomainError, notFound, stateConflict } from '../shared/domain-error';
import { redactSecrets } from '../shared/redaction';
import { TaskStatus, taskStatusesAllowing, taskTransition, TaskTrigger } from './task-status';

export type { TaskStatus } from './task-status';

// ---------------------------------------------------------------------------------------------------
// §8.5.1 types, exactly as the API returns them.
// ---------------------------------------------------------------------------------------------------

export type Task = {
  id: string;
  machineId: string;
  orderId: string | null;
  skillKey: string;
  operation: string;
  status: TaskStatus;
  /** The input of the latest execution, redacted (§9). */
  input: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
};

export type RouteTarget = 'provider' | 'runtime-endpoint' | 'handoff';

export type Route = {
  id: string;
  taskId: string;
  providerKey: string;
  target: RouteTarget;
  /** Set when `target` is `runtime-endpoint`. */
  runtimeEndpointId: string | null;
  url: string | null;
  reason: string;
  createdAt: string;
};

export type RunStatus = 'running' | 'succeeded' | 'failed';

export type Run = {
  id: string;
  taskId: string;
  routeId: string;
  /** 1-based, counts all runs of the task. */
  attempt: number;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
};

export type OutcomeStatus = 'delivered' | 'handoff' | 'failed';

export type Outcome = {
  id: string;
  taskId: string;
  runId: string;
  status: OutcomeStatus;
  /** `delivered`: the result, redacted (§9); otherwise null. */
  output: unknown;
  handoff: ExternalHandoff | null;
  createdAt: string;
};

// ---------------------------------------------------------------------------------------------------
// Events (§8.7.2): one stream `task-{task}` holds the task and its routes, runs and outcomes. Creation
// events carry the entity as the API returns it; transition events `{ from, to, at }` plus the fields
// the transition sets (§8.7.1).
// ---------------------------------------------------------------------------------------------------

export type TaskStatusChanged = {
  from: TaskStatus;
  to: TaskStatus;
  at: string;
  /** Set when an execution starts routing: the (redacted) input of that execution. */
  input?: Record<string, unknown>;
};

export type RunFinished = {
  runId: string;
  from: 'running';
  to: 'succeeded' | 'failed';
  at: string;
  finishedAt: string;
  durationMs: number;
  error: string | null;
};

export type TaskEvent =
  | { type: 'task.created'; data: Task }
  | { type: 'task.status_changed'; data: TaskStatusChanged }
  | { type: 'route.selected'; data: Route }
  | { type: 'run.started'; data: Run }
  | { type: 'run.finished'; data: RunFinished }
  | { type: 'outcome.recorded'; data: Outcome };

/**
 * Routes, runs and outcomes in the order they were recorded. `routeAwaitingRun`: the route selected in
 * the current execution whose run has not started yet (cleared when the task returns to `pending`).
 */
export type TaskState =
  | { kind: 'none' }
  | {
      kind: 'live';
      task: Task;
      routes: readonly Route[];
      runs: readonly Run[];
      outcomes: readonly Outcome[];
      routeAwaitingRun: string | null;
    };

export type LiveTaskState = Extract<TaskState, { kind: 'live' }>;

// ---------------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------------

/** The first `execute` of an order (§7.5.10 step 8). `input` is redacted by the decider. */
export type CreateTask = {
  type: 'create';
  id: string;
  machineId: string;
  orderId: string;
  skillKey: string;
  operation: string;
  input: Record<string, unknown>;
};

/** An `execute` starts: `pending` → `routing`, recording the execution's input (redacted by the decider). */
export type StartRouting = { type: 'start_routing'; id: string; input: Record<string, unknown> };

/** One candidate of §8.5.2 chosen for the next attempt. */
export type SelectRoute = {
  type: 'select_route';
  id: string;
  routeId: string;
  providerKey: string;
  target: RouteTarget;
  runtimeEndpointId: string | null;
  url: string | null;
  reason: string;
};

/** The attempt on the latest route starts; the first one of an execution moves the task to `running`. */
export type StartRun = { type: 'start_run'; id: string; runId: string; routeId: string };

/** The run in flight ends at the decision time; `failed` carries the §8.5.3 error text. */
export type FinishRun = { type: 'finish_run'; id: string; runId: string } & ({ status: 'succeeded' } | { status: 'failed'; error: string });

export type OutcomeResult =
  { status: 'delivered'; output: unknown } | { status: 'handoff'; handoff: ExternalHandoff } | { status: 'failed' };

/** The execution's result for the latest run; moves the task to `succeeded`, `handed_off` or `failed`. */
export type RecordOutcome = { type: 'record_outcome'; id: string; outcomeId: string; runId: string; result: OutcomeResult };

export type TaskCommand =
  | CreateTask
  | StartRouting
  | SelectRoute
  | StartRun
  | FinishRun
  | RecordOutcome
  /** A retryable failure: back to `pending` (§8.5.3). */
  | { type: 'return_to_pending'; id: string }
  /** The order was cancelled while the task was `pending` (§7.5.13). */
  | { type: 'fail_for_cancelled_order'; id: string }
  /** Several steps recorded together (one append), e.g. routing, the route and its run. */
  | { type: 'steps'; id: string; steps: TaskCommand[] };

const ENTITY = 'task';

const OUTCOME_TRIGGER: Record<OutcomeStatus, TaskTrigger> = {
  delivered: 'delivered',
  handoff: 'handed_off',
  failed: 'non_retryable_failure',
};

/** The run status an outcome needs its run to have ended with. */
const OUTCOME_RUN_STATUS: Record<OutcomeStatus, RunStatus> = { delivered: 'succeeded', handoff: 'succeeded', failed: 'failed' };

export const taskDecider: Decider<TaskCommand, TaskState, TaskEvent> = {
  initialState: () => ({ kind: 'none' }),

  evolve(state, event) {
    if (event.type === 'task.created') {
      if (state.kind !== 'none') return state;
      return { kind: 'live', task: event.data, routes: [], runs: [], outcomes: [], routeAwaitingRun: null };
    }
    if (state.kind !== 'live') return state;
    return applyTaskEvent(state, event);
  },

  decide(command, state, context) {
    const { now } = context;
    if (command.type === 'steps') return decideSteps(taskDecider, command.steps, state, context);
    if (command.type === 'create') return create(command, state, now);
    if (state.kind === 'none') throw notFound(ENTITY, command.id);
    switch (command.type) {
      case 'start_routing':
        return [statusChanged(state, 'routing_started', now, { input: redactSecrets(command.input) })];
      case 'select_route':
        return selectRoute(command, state, now);
      case 'start_run':
        return startRun(command, state, now);
      case 'finish_run':
        return finishRun(command, state, now);
      case 'record_outcome':
        return recordOutcome(command, state, now);
      case 'return_to_pending':
        return returnToPending(state, now);
      case 'fail_for_cancelled_order':
        return [statusChanged(state, 'order_cancelled', now)];
    }
  },
};

/** The task stream after one more event (not `task.created`): shared by the decider and read models. */
function applyTaskEvent(state: LiveTaskState, event: TaskEvent): LiveTaskState {
  switch (event.type) {
    case 'task.created':
      return state;
    case 'task.status_changed': {
      const { to, at, input } = event.data;
      const task = { ...state.task, status: to, ...(input !== undefined ? { input } : {}), updatedAt: at };
      return { ...state, task, routeAwaitingRun: to === 'pending' ? null : state.routeAwaitingRun };
    }
    case 'route.selected':
      return { ...state, routes: [...state.routes, event.data], routeAwaitingRun: event.data.id };
    case 'run.started':
      return { ...state, runs: [...state.runs, event.data], routeAwaitingRun: null };
    case 'run.finished': {
      const { runId, to, finishedAt, durationMs, error } = event.data;
      const runs = state.runs.map((run) => (run.id === runId ? { ...run, status: to, finishedAt, durationMs, error } : run));
      return { ...state, runs };
    }
    case 'outcome.recorded':
      return { ...state, outcomes: [...state.outcomes, event.data] };
  }
}

function create(command: CreateTask, state: TaskState, now: string): TaskEvent[] {
  if (state.kind !== 'none') throw stateConflict(ENTITY, command.id, state.task.status, 'exists');
  const task: Task = {
    id: command.id,
    machineId: command.machineId,
    orderId: command.orderId,
    skillKey: command.skillKey,
    operation: command.operation,
    status: 'pending',
    input: redactSecrets(command.input),
    createdAt: now,
    updatedAt: now,
  };
  return [{ type: 'task.created', data: task }];
}

/**
 * A route may be selected while routing (before the first attempt of an execution) or while running
 * after the previous attempt failed (the next candidate, §8.5.3). Each route gets exactly one run.
 */
function selectRoute(command: SelectRoute, state: LiveTaskState, now: string): TaskEvent[] {
  const { task } = state;
  assertStatus(state, ['routing', 'running'], 'run_started');
  if (state.routeAwaitingRun !== null) throw conflict(task, 'route_awaiting_run');
  const run = latestRun(state);
  if (task.status === 'running' && run?.status === 'running') throw conflict(task, 'run_in_progress');
  if (task.status === 'running' && run?.status === 'succeeded') throw conflict(task, 'run_succeeded');
  if (state.routes.some((route) => route.id === command.routeId)) throw stateConflict('route', command.routeId, 'selected', 'exists');
  const runtimeEndpoint = command.target === 'runtime-endpoint';
  if (runtimeEndpoint !== (command.runtimeEndpointId !== null)) {
    throw new TypeError('runtimeEndpointId is set exactly when the route targets a runtime endpoint');
  }
  const route: Route = {
    id: command.routeId,
    taskId: task.id,
    providerKey: command.providerKey,
    target: command.target,
    runtimeEndpointId: command.runtimeEndpointId,
    url: command.url,
    reason: command.reason,
    createdAt: now,
  };
  return [{ type: 'route.selected', data: route }];
}

function startRun(command: StartRun, state: LiveTaskState, now: string): TaskEvent[] {
  const { task } = state;
  assertStatus(state, ['routing', 'running'], 'run_started');
  const route = state.routes.find((r) => r.id === command.routeId);
  if (!route) throw notFound('route', command.routeId);
  if (state.routeAwaitingRun === null) throw conflict(task, 'route_required');
  if (route.id !== state.routeAwaitingRun) throw stateConflict('route', route.id, 'selected', 'route_not_awaiting_run');
  if (state.runs.some((run) => run.id === command.runId)) throw stateConflict('run', command.runId, 'started', 'exists');
  const run: Run = {
    id: command.runId,
    taskId: task.id,
    routeId: route.id,
    attempt: state.runs.length + 1,
    status: 'running',
    startedAt: now,
    finishedAt: null,
    durationMs: null,
    error: null,
  };
  const events: TaskEvent[] = [{ type: 'run.started', data: run }];
  if (task.status === 'routing') events.push(statusChanged(state, 'run_started', now));
  return events;
}

function finishRun(command: FinishRun, state: LiveTaskState, now: string): TaskEvent[] {
  const run = state.runs.find((r) => r.id === command.runId);
  if (!run) throw notFound('run', command.runId);
  if (run.status !== 'running') throw stateConflict('run', run.id, run.status, 'run_finished', ['running']);
  const error = command.status === 'failed' ? command.error : null;
  if (command.status === 'failed' && command.error.length === 0) throw new TypeError('A failed run needs an error text');
  const durationMs = Math.max(0, Date.parse(now) - Date.parse(run.startedAt));
  return [
    {
      type: 'run.finished',
      data: { runId: run.id, from: 'running', to: command.status, at: now, finishedAt: now, durationMs, error },
    },
  ];
}

function recordOutcome(command: RecordOutcome, state: LiveTaskState, now: string): TaskEvent[] {
  const { task } = state;
  const trigger = OUTCOME_TRIGGER[command.result.status];
  assertStatus(state, ['running'], trigger);
  const run = latestRun(state);
  if (!run || run.id !== command.runId) {
    if (!state.runs.some((r) => r.id === command.runId)) throw notFound('run', command.runId);
    throw conflict(task, 'not_latest_run');
  }
  if (run.status === 'running') throw conflict(task, 'run_in_progress');
  const needed = OUTCOME_RUN_STATUS[command.result.status];
  if (run.status !== needed) throw conflict(task, needed === 'succeeded' ? 'run_not_succeeded' : 'run_not_failed');
  const result = command.result;
  const outcome: Outcome = {
    id: command.outcomeId,
    taskId: task.id,
    runId: run.id,
    status: result.status,
    output: result.status === 'delivered' ? redactSecrets(result.output) : null,
    handoff: result.status === 'handoff' ? result.handoff : null,
    createdAt: now,
  };
  return [{ type: 'outcome.recorded', data: outcome }, statusChanged(state, trigger, now)];
}

/** A retryable failure ends an execution without an outcome; no run may still be in flight. */
function returnToPending(state: LiveTaskState, now: string): TaskEvent[] {
  assertStatus(state, ['routing', 'running'], 'retryable_failure');
  const run = latestRun(state);
  if (state.task.status === 'running' && run?.status === 'running') throw conflict(state.task, 'run_in_progress');
  if (state.task.status === 'running' && run?.status === 'succeeded') throw conflict(state.task, 'run_succeeded');
  return [statusChanged(state, 'retryable_failure', now)];
}

function statusChanged(
  state: LiveTaskState,
  trigger: TaskTrigger,
  now: string,
  extra: { input?: Record<string, unknown> } = {},
): TaskEvent {
  const from = state.task.status;
  const to = taskTransition(from, trigger);
  if (to === null) throw invalidTransition(state.task, trigger);
  return { type: 'task.status_changed', data: { from, to, at: now, ...extra } };
}

function assertStatus(state: LiveTaskState, statuses: readonly TaskStatus[], trigger: TaskTrigger): void {
  if (!statuses.includes(state.task.status)) throw invalidTransition(state.task, trigger, statuses);
}

function invalidTransition(task: Task, trigger: TaskTrigger, allowed?: readonly TaskStatus[]): DomainError {
  return stateConflict(ENTITY, task.id, task.status, 'invalid_transition', [...(allowed ?? taskStatusesAllowing(trigger))]);
}

function conflict(task: Task, reason: string): DomainError {
  return stateConflict(ENTITY, task.id, task.status, reason);
}

/** The latest run of the task, or undefined before the first attempt. */
export function latestRun(state: LiveTaskState): Run | undefined {
  return state.runs[state.runs.length - 1];
}

/** The latest route of the task, or undefined before the first attempt. */
export function latestRoute(state: LiveTaskState): Route | undefined {
  return state.routes[state.routes.length - 1];
}

/** The latest outcome of the task, or undefined. */
export function latestOutcome(state: LiveTaskState): Outcome | undefined {
  return state.outcomes[state.outcomes.length - 1];
}

// ---------------------------------------------------------------------------------------------------
// Stream and audit entity
// ---------------------------------------------------------------------------------------------------

export function taskStream(id: string, machineId: string) {
  return { streamId: `task-${id}`, entityType: ENTITY, entityId: id, machineId };
}

/** §8.7.2: the audit entity of an event of the task stream. */
export function taskEventEntity(taskId: string, event: TaskEvent): { entityType: 'task' | 'route' | 'run' | 'outcome'; entityId: string } {
  switch (event.type) {
    case 'task.created':
    case 'task.status_changed':
      return { entityType: 'task', entityId: taskId };
    case 'route.selected':
      return { entityType: 'route', entityId: event.data.id };
    case 'run.started':
      return { entityType: 'run', entityId: event.data.id };
    case 'run.finished':
      return { entityType: 'run', entityId: event.data.runId };
    case 'outcome.recorded':
      return { entityType: 'outcome', entityId: event.data.id };
  }
}
