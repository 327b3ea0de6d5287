import { isTerminalTaskStatus, TASK_STATUSES, TaskStatus, taskStatusesAllowing, taskTransition, TaskTrigger } from './task-status';

const TRIGGERS: TaskTrigger[] = [
  'create',
  'routing_started',
  'run_started',
  'delivered',
  'handed_off',
  'non_retryable_failure',
  'retryable_failure',
  'order_cancelled',
];

/** §8.5.1 written out independently of TASK_TRANSITIONS; every pair not listed has no transition. */
// prettier-ignore
const SPEC: Record<TaskStatus | 'none', Partial<Record<TaskTrigger, TaskStatus>>> = {
  none:       { create: 'pending' },
  pending:    { routing_started: 'routing', order_cancelled: 'failed' },
  routing:    { run_started: 'running', retryable_failure: 'pending' },
  running:    { delivered: 'succeeded', handed_off: 'handed_off', non_retryable_failure: 'failed', retryable_failure: 'pending' },
  succeeded:  {},
  failed:     {},
  handed_off: {},
};

describe('§8.5.1 task transition table', () => {
  for (const from of ['none', ...TASK_STATUSES] as const) {
    describe(`from ${from}`, () => {
      for (const trigger of TRIGGERS) {
        const expected = SPEC[from][trigger] ?? null;
        it(`${trigger} → ${expected ?? 'no transition'}`, () => {
          expect(taskTransition(from === 'none' ? null : from, trigger)).toBe(expected);
        });
      }
    });
  }

  it.each<[TaskTrigger, TaskStatus[]]>([
    ['create', []],
    ['routing_started', ['pending']],
    ['run_started', ['routing']],
    ['delivered', ['running']],
    ['handed_off', ['running']],
    ['non_retryable_failure', ['running']],
    ['retryable_failure', ['routing', 'running']],
    ['order_cancelled', ['pending']],
  ])('%s is allowed from %j', (trigger, allowed) => {
    expect(taskStatusesAllowing(trigger)).toEqual(allowed);
  });

  it('succeeded, failed and handed_off are terminal', () => {
    expect(TASK_STATUSES.filter(isTerminalTaskStatus)).toEqual(['succeeded', 'failed', 'handed_off']);
  });
});
