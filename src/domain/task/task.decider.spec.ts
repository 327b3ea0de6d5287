import { deciderSpec, illegal, legal, Transition, transitionTable } from '../../../test/support/decider-spec';
import { ExternalHandoff } from '../catalog/catalog-types';
import { REDACTED } from '../shared/redaction';
import { Outcome, Route, Run, Task, TaskCommand, taskDecider, TaskEvent, taskEventEntity, taskStream } from './task.decider';
import { TaskStatus } from './task-status';

const T0 = '2026-01-01T00:00:00.000Z';
const NOW = '2026-01-01T00:00:01.500Z';
const ID = 'task_01';
const HANDOFF: ExternalHandoff = { label: 'Console', url: 'https://console.example.com', notes: [] };

const spec = deciderSpec(taskDecider, { now: NOW });

const task = (overrides: Partial<Task> = {}): Task => ({
  id: ID,
  machineId: 'mach_1',
  orderId: 'ord_1',
  skillKey: 'acme.quote',
  operation: 'quote',
  status: 'pending',
  input: { symbol: 'PEAQ' },
  createdAt: T0,
  updatedAt: T0,
  ...overrides,
});

const route = (id = 'route_1', at = T0): Route => ({
  id,
  taskId: ID,
  providerKey: 'acme',
  target: 'provider',
  runtimeEndpointId: null,
  url: 'https://api.example.com',
  reason: 'provider endpoint https://api.example.com',
  createdAt: at,
});

const run = (id = 'run_1', routeId = 'route_1', attempt = 1, at = T0): Run => ({
  id,
  taskId: ID,
  routeId,
  attempt,
  status: 'running',
  startedAt: at,
  finishedAt: null,
  durationMs: null,
  error: null,
});

const outcome = (status: Outcome['status'], at = T0): Outcome => ({
  id: 'out_1',
  taskId: ID,
  runId: 'run_1',
  status,
  output: status === 'delivered' ? { price: 1 } : null,
  handoff: status === 'handoff' ? HANDOFF : null,
  createdAt: at,
});

const created = (): TaskEvent => ({ type: 'task.created', data: task() });
const changed = (from: TaskStatus, to: TaskStatus, at = T0, input?: Record<string, unknown>): TaskEvent => ({
  type: 'task.status_changed',
  data: { from, to, at, ...(input ? { input } : {}) },
});
const selected = (r: Route = route()): TaskEvent => ({ type: 'route.selected', data: r });
const started = (r: Run = run()): TaskEvent => ({ type: 'run.started', data: r });
const finished = (to: 'succeeded' | 'failed', at = T0, runId = 'run_1', durationMs = 0): TaskEvent => ({
  type: 'run.finished',
  data: { runId, from: 'running', to, at, finishedAt: at, durationMs, error: to === 'failed' ? 'connection failed: refused' : null },
});
const recorded = (status: Outcome['status'], at = T0): TaskEvent => ({ type: 'outcome.recorded', data: outcome(status, at) });

const PENDING = [created()];
const ROUTING = [...PENDING, changed('pending', 'routing', T0, { symbol: 'PEAQ' })];
const ROUTE_SELECTED = [...ROUTING, selected()];
const RUNNING = [...ROUTE_SELECTED, started(), changed('routing', 'running')];
const RUN_FAILED = [...RUNNING, finished('failed')];
const RUN_SUCCEEDED = [...RUNNING, finished('succeeded')];

type StateName =
  | 'none'
  | 'pending'
  | 'routing'
  | 'route_selected'
  | 'running'
  | 'run_failed'
  | 'run_succeeded'
  | 'succeeded'
  | 'handed_off'
  | 'failed'
  | 'cancelled';

const STATES: Array<{ name: StateName; given: TaskEvent[] }> = [
  { name: 'none', given: [] },
  { name: 'pending', given: PENDING },
  { name: 'routing', given: ROUTING },
  { name: 'route_selected', given: ROUTE_SELECTED },
  { name: 'running', given: RUNNING },
  { name: 'run_failed', given: RUN_FAILED },
  { name: 'run_succeeded', given: RUN_SUCCEEDED },
  { name: 'succeeded', given: [...RUN_SUCCEEDED, recorded('delivered'), changed('running', 'succeeded')] },
  { name: 'handed_off', given: [...RUN_SUCCEEDED, recorded('handoff'), changed('running', 'handed_off')] },
  { name: 'failed', given: [...RUN_FAILED, recorded('failed'), changed('running', 'failed')] },
  { name: 'cancelled', given: [...PENDING, changed('pending', 'failed')] },
];

const STATUS_OF: Record<StateName, TaskStatus | null> = {
  none: null,
  pending: 'pending',
  routing: 'routing',
  route_selected: 'routing',
  running: 'running',
  run_failed: 'running',
  run_succeeded: 'running',
  succeeded: 'succeeded',
  handed_off: 'handed_off',
  failed: 'failed',
  cancelled: 'failed',
};

type CommandName =
  | 'create'
  | 'start_routing'
  | 'select_route'
  | 'start_run'
  | 'finish_run_succeeded'
  | 'finish_run_failed'
  | 'record_delivered'
  | 'record_handoff'
  | 'record_failed'
  | 'return_to_pending'
  | 'fail_for_cancelled_order';

const COMMANDS: Array<{ name: CommandName; command: TaskCommand }> = [
  {
    name: 'create',
    command: {
      type: 'create',
      id: ID,
      machineId: 'mach_1',
      orderId: 'ord_1',
      skillKey: 'acme.quote',
      operation: 'quote',
      input: { symbol: 'PEAQ' },
    },
  },
  { name: 'start_routing', command: { type: 'start_routing', id: ID, input: { symbol: 'KREST', apiKey: 'k' } } },
  {
    name: 'select_route',
    command: {
      type: 'select_route',
      id: ID,
      routeId: 'route_2',
      providerKey: 'acme',
      target: 'provider',
      runtimeEndpointId: null,
      url: 'https://api.example.com',
      reason: 'provider endpoint https://api.example.com',
    },
  },
  { name: 'start_run', command: { type: 'start_run', id: ID, runId: 'run_2', routeId: 'route_1' } },
  { name: 'finish_run_succeeded', command: { type: 'finish_run', id: ID, runId: 'run_1', status: 'succeeded' } },
  { name: 'finish_run_failed', command: { type: 'finish_run', id: ID, runId: 'run_1', status: 'failed', error: 'HTTP 500: boom' } },
  {
    name: 'record_delivered',
    command: {
      type: 'record_outcome',
      id: ID,
      outcomeId: 'out_2',
      runId: 'run_1',
      result: { status: 'delivered', output: { price: 2, password: 'p' } },
    },
  },
  {
    name: 'record_handoff',
    command: { type: 'record_outcome', id: ID, outcomeId: 'out_2', runId: 'run_1', result: { status: 'handoff', handoff: HANDOFF } },
  },
  { name: 'record_failed', command: { type: 'record_outcome', id: ID, outcomeId: 'out_2', runId: 'run_1', result: { status: 'failed' } } },
  { name: 'return_to_pending', command: { type: 'return_to_pending', id: ID } },
  { name: 'fail_for_cancelled_order', command: { type: 'fail_for_cancelled_order', id: ID } },
];

const conflict = (reason: string, allowed?: TaskStatus[]): Transition<TaskEvent> =>
  illegal('STATE_CONFLICT', { entityType: 'task', id: ID, reason, ...(allowed ? { allowed } : {}) });
const invalid = (allowed: TaskStatus[]) => conflict('invalid_transition', allowed);
const newOutcome = (status: Outcome['status']): Outcome => ({
  ...outcome(status, NOW),
  id: 'out_2',
  output: status === 'delivered' ? { price: 2, password: REDACTED } : null,
});

/** The expected outcome of every (state, command) pair, written from §8.5.1. */
function expectation(state: StateName, command: CommandName): Transition<TaskEvent> {
  const status = STATUS_OF[state];
  if (command === 'create') {
    return status === null
      ? legal([{ type: 'task.created', data: task({ createdAt: NOW, updatedAt: NOW }) }])
      : illegal('STATE_CONFLICT', { reason: 'exists', status });
  }
  if (status === null) return illegal('NOT_FOUND', { entityType: 'task', id: ID });
  switch (command) {
    case 'start_routing':
      return state === 'pending'
        ? legal([changed('pending', 'routing', NOW, { symbol: 'KREST', apiKey: REDACTED })])
        : invalid(['pending']);
    case 'select_route':
      if (state === 'routing' || state === 'run_failed') return legal([selected(route('route_2', NOW))]);
      if (state === 'route_selected') return conflict('route_awaiting_run');
      if (state === 'running') return conflict('run_in_progress');
      if (state === 'run_succeeded') return conflict('run_succeeded');
      return invalid(['routing', 'running']);
    case 'start_run':
      if (state === 'route_selected') return legal([started(run('run_2', 'route_1', 1, NOW)), changed('routing', 'running', NOW)]);
      if (state === 'routing') return illegal('NOT_FOUND', { entityType: 'route', id: 'route_1' });
      if (status === 'running') return conflict('route_required');
      return invalid(['routing', 'running']);
    case 'finish_run_succeeded':
    case 'finish_run_failed': {
      if (state === 'running') {
        const to = command === 'finish_run_succeeded' ? 'succeeded' : 'failed';
        const error = to === 'failed' ? 'HTTP 500: boom' : null;
        return legal([
          { type: 'run.finished', data: { runId: 'run_1', from: 'running', to, at: NOW, finishedAt: NOW, durationMs: 1500, error } },
        ]);
      }
      if (['pending', 'routing', 'route_selected', 'cancelled'].includes(state))
        return illegal('NOT_FOUND', { entityType: 'run', id: 'run_1' });
      return illegal('STATE_CONFLICT', { entityType: 'run', id: 'run_1', reason: 'run_finished', allowed: ['running'] });
    }
    case 'record_delivered':
    case 'record_handoff':
    case 'record_failed': {
      const outcomeStatus = command === 'record_delivered' ? 'delivered' : command === 'record_handoff' ? 'handoff' : 'failed';
      if (status !== 'running') return invalid(['running']);
      if (state === 'running') return conflict('run_in_progress');
      const runOk = outcomeStatus === 'failed' ? state === 'run_failed' : state === 'run_succeeded';
      if (!runOk) return conflict(outcomeStatus === 'failed' ? 'run_not_failed' : 'run_not_succeeded');
      const to: TaskStatus = outcomeStatus === 'delivered' ? 'succeeded' : outcomeStatus === 'handoff' ? 'handed_off' : 'failed';
      return legal([{ type: 'outcome.recorded', data: newOutcome(outcomeStatus) }, changed('running', to, NOW)]);
    }
    case 'return_to_pending':
      if (state === 'routing' || state === 'route_selected') return legal([changed('routing', 'pending', NOW)]);
      if (state === 'run_failed') return legal([changed('running', 'pending', NOW)]);
      if (state === 'running') return conflict('run_in_progress');
      if (state === 'run_succeeded') return conflict('run_succeeded');
      return invalid(['routing', 'running']);
    case 'fail_for_cancelled_order':
      return state === 'pending' ? legal([changed('pending', 'failed', NOW)]) : invalid(['pending']);
  }
}

describe('task decider', () => {
  describe('§8.5.1 transition table (every state × command)', () => {
    transitionTable(spec, { states: STATES, commands: COMMANDS, expect: expectation });
  });

  it('creates the task with the input redacted', () => {
    spec
      .given([])
      .when({
        type: 'create',
        id: ID,
        machineId: 'm',
        orderId: 'o',
        skillKey: 's',
        operation: 'op',
        input: { nested: { Api_Key: 'x' }, a: 1 },
      })
      .then([
        {
          type: 'task.created',
          data: {
            id: ID,
            machineId: 'm',
            orderId: 'o',
            skillKey: 's',
            operation: 'op',
            status: 'pending',
            input: { nested: { Api_Key: REDACTED }, a: 1 },
            createdAt: NOW,
            updatedAt: NOW,
          },
        },
      ]);
  });

  it('records a runtime-endpoint route with its runtimeEndpointId', () => {
    const command: TaskCommand = {
      type: 'select_route',
      id: ID,
      routeId: 'route_1',
      providerKey: 'acme',
      target: 'runtime-endpoint',
      runtimeEndpointId: 'rte_1',
      url: 'https://m.local',
      reason: 'runtime endpoint rte_1 (agent, active)',
    };
    spec
      .given(ROUTING)
      .when(command)
      .then([
        {
          type: 'route.selected',
          data: {
            ...route('route_1', NOW),
            target: 'runtime-endpoint',
            runtimeEndpointId: 'rte_1',
            url: 'https://m.local',
            reason: command.reason,
          },
        },
      ]);
    expect(() =>
      spec
        .given(ROUTING)
        .when({ ...command, runtimeEndpointId: null })
        .then([]),
    ).toThrow(/runtimeEndpointId/);
  });

  it('a route id is recorded once', () => {
    spec
      .given(RUN_FAILED)
      .when({
        type: 'select_route',
        id: ID,
        routeId: 'route_1',
        providerKey: 'acme',
        target: 'handoff',
        runtimeEndpointId: null,
        url: 'u',
        reason: 'r',
      })
      .thenThrows('STATE_CONFLICT', { entityType: 'route', id: 'route_1', reason: 'exists' });
  });

  it('the next candidate after a connection failure is attempt 2; the task stays running', () => {
    spec
      .given([...RUN_FAILED, selected(route('route_2'))])
      .when({ type: 'start_run', id: ID, runId: 'run_2', routeId: 'route_2' })
      .then([started(run('run_2', 'route_2', 2, NOW))]);
  });

  it('a run id is started once', () => {
    spec
      .given([...RUN_FAILED, selected(route('route_2'))])
      .when({ type: 'start_run', id: ID, runId: 'run_1', routeId: 'route_2' })
      .thenThrows('STATE_CONFLICT', { entityType: 'run', id: 'run_1', reason: 'exists' });
  });

  it('only the route awaiting its run can be run', () => {
    spec
      .given([...RUN_FAILED, selected(route('route_2'))])
      .when({ type: 'start_run', id: ID, runId: 'run_2', routeId: 'route_1' })
      .thenThrows('STATE_CONFLICT', { entityType: 'route', id: 'route_1', reason: 'route_not_awaiting_run' });
  });

  it('attempt counts all runs of the task across executions; a retryable return drops an unrun route', () => {
    const afterRetry = [...RUN_FAILED, selected(route('route_2')), changed('running', 'pending'), changed('pending', 'routing', T0, {})];
    spec
      .given(afterRetry)
      .when({ type: 'start_run', id: ID, runId: 'run_2', routeId: 'route_2' })
      .thenThrows('STATE_CONFLICT', { reason: 'route_required' });
    spec
      .given([...afterRetry, selected(route('route_3'))])
      .when({ type: 'start_run', id: ID, runId: 'run_2', routeId: 'route_3' })
      .then([started(run('run_2', 'route_3', 2, NOW)), changed('routing', 'running', NOW)]);
  });

  it('an outcome is for the latest run', () => {
    const given = [...RUN_FAILED, selected(route('route_2')), started(run('run_2', 'route_2', 2)), finished('succeeded', T0, 'run_2')];
    spec
      .given(given)
      .when({ type: 'record_outcome', id: ID, outcomeId: 'out_1', runId: 'run_1', result: { status: 'failed' } })
      .thenThrows('STATE_CONFLICT', { reason: 'not_latest_run' });
    spec
      .given(given)
      .when({ type: 'record_outcome', id: ID, outcomeId: 'out_1', runId: 'run_9', result: { status: 'failed' } })
      .thenThrows('NOT_FOUND', { entityType: 'run', id: 'run_9' });
  });

  it('folds routes, runs, outcomes and the task as the API returns them', () => {
    spec
      .given(RUN_SUCCEEDED)
      .when({
        type: 'record_outcome',
        id: ID,
        outcomeId: 'out_2',
        runId: 'run_1',
        result: { status: 'delivered', output: [{ secret: 's' }] },
      })
      .thenState({
        kind: 'live',
        task: task({ status: 'succeeded', updatedAt: NOW }),
        routes: [route()],
        runs: [{ ...run(), status: 'succeeded', finishedAt: T0, durationMs: 0 }],
        outcomes: [{ ...newOutcome('delivered'), output: [{ secret: REDACTED }] }],
        routeAwaitingRun: null,
      });
  });

  it('start_routing replaces the task input with the (redacted) input of the execution', () => {
    spec
      .given(PENDING)
      .when({ type: 'start_routing', id: ID, input: { token: 1, password: 'x' } })
      .thenState((s) => s.kind === 'live' && s.task.status === 'routing' && s.task.input.password === REDACTED && s.task.updatedAt === NOW);
  });

  it('a failed run needs an error text', () => {
    expect(() => spec.given(RUNNING).when({ type: 'finish_run', id: ID, runId: 'run_1', status: 'failed', error: '' }).then([])).toThrow(
      /error text/,
    );
  });

  it('steps: the first execution in one decision (create, routing, route, run), each step on the state the previous left', () => {
    spec
      .given([])
      .when({
        type: 'steps',
        id: ID,
        steps: [
          {
            type: 'create',
            id: ID,
            machineId: 'mach_1',
            orderId: 'ord_1',
            skillKey: 'acme.quote',
            operation: 'quote',
            input: { symbol: 'PEAQ' },
          },
          { type: 'start_routing', id: ID, input: { symbol: 'PEAQ' } },
          {
            type: 'select_route',
            id: ID,
            routeId: 'route_1',
            providerKey: 'acme',
            target: 'provider',
            runtimeEndpointId: null,
            url: 'https://api.example.com',
            reason: 'provider endpoint https://api.example.com',
          },
          { type: 'start_run', id: ID, runId: 'run_1', routeId: 'route_1' },
        ],
      })
      .then([
        { type: 'task.created', data: task({ createdAt: NOW, updatedAt: NOW }) },
        changed('pending', 'routing', NOW, { symbol: 'PEAQ' }),
        selected(route('route_1', NOW)),
        started(run('run_1', 'route_1', 1, NOW)),
        changed('routing', 'running', NOW),
      ]);
  });

  it('steps: one refused step refuses them all (nothing of the earlier steps is recorded)', () => {
    spec
      .given(RUN_SUCCEEDED)
      .when({
        type: 'steps',
        id: ID,
        steps: [
          { type: 'record_outcome', id: ID, outcomeId: 'out_1', runId: 'run_1', result: { status: 'delivered', output: { price: 1 } } },
          { type: 'return_to_pending', id: ID },
        ],
      })
      .thenThrows('STATE_CONFLICT', { entityType: 'task', reason: 'invalid_transition' });
  });

  it('taskStream', () => {
    expect(taskStream(ID, 'mach_1')).toEqual({ streamId: 'task-task_01', entityType: 'task', entityId: ID, machineId: 'mach_1' });
  });

  it.each<[TaskEvent, string, string]>([
    [created(), 'task', ID],
    [changed('pending', 'routing'), 'task', ID],
    [selected(), 'route', 'route_1'],
    [started(), 'run', 'run_1'],
    [finished('failed'), 'run', 'run_1'],
    [recorded('failed'), 'outcome', 'out_1'],
  ])('taskEventEntity(%j) → %s %s', (event, entityType, entityId) => {
    expect(taskEventEntity(ID, event)).toEqual({ entityType, entityId });
  });
});
