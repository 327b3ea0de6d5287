import { Decider } from '../../src/domain/shared/decider';
import { DomainError, notFound, stateConflict } from '../../src/domain/shared/domain-error';
import { checkTransition, deciderSpec, illegal, legal, Transition, transitionTable, walkTransitionTable } from './decider-spec';

// A tiny door: installed → closed ⇄ open, closed ⇄ locked. Opening an open door is a no-op.
type DoorEvent =
  | { type: 'door.installed'; data: { id: string; at: string } }
  | { type: 'door.opened'; data: { at: string } }
  | { type: 'door.closed'; data: { at: string } }
  | { type: 'door.locked'; data: { at: string; by: string } }
  | { type: 'door.unlocked'; data: { at: string } };
type DoorStatus = 'closed' | 'open' | 'locked';
type DoorState = { kind: 'none' } | { kind: 'installed'; id: string; status: DoorStatus };
type DoorCommand =
  | { type: 'install'; id: string }
  | { type: 'open' }
  | { type: 'close' }
  | { type: 'lock'; by: string }
  | { type: 'unlock' }
  | { type: 'explode' };

const transitions: Record<DoorStatus, Partial<Record<DoorCommand['type'], DoorEvent['type']>>> = {
  closed: { open: 'door.opened', lock: 'door.locked' },
  open: { close: 'door.closed' },
  locked: { unlock: 'door.unlocked' },
};

const doorDecider: Decider<DoorCommand, DoorState, DoorEvent> = {
  initialState: () => ({ kind: 'none' }),
  evolve(state, event) {
    if (event.type === 'door.installed') return { kind: 'installed', id: event.data.id, status: 'closed' };
    if (state.kind === 'none') return state;
    const status = ({ 'door.opened': 'open', 'door.closed': 'closed', 'door.locked': 'locked', 'door.unlocked': 'closed' } as const)[
      event.type
    ];
    return { ...state, status };
  },
  decide(command, state, { now }) {
    if (command.type === 'explode') throw new Error('boom');
    if (command.type === 'install') {
      if (state.kind !== 'none') throw new DomainError('STATE_CONFLICT', 'Door exists', { reason: 'exists' });
      return [{ type: 'door.installed', data: { id: command.id, at: now } }];
    }
    if (state.kind === 'none') throw notFound('door', '?');
    if (command.type === 'open' && state.status === 'open') return [];
    const type = transitions[state.status][command.type];
    if (!type) throw stateConflict('door', state.id, state.status, `cannot_${command.type}`, Object.keys(transitions[state.status]));
    if (type === 'door.locked') return [{ type, data: { at: now, by: (command as { by: string }).by } }];
    return [{ type, data: { at: now } } as DoorEvent];
  },
};

const NOW = '2026-01-01T00:00:00.000Z';
const spec = deciderSpec(doorDecider, { now: NOW });
const installed: DoorEvent = { type: 'door.installed', data: { id: 'door_1', at: NOW } };
const opened: DoorEvent = { type: 'door.opened', data: { at: NOW } };
const locked: DoorEvent = { type: 'door.locked', data: { at: NOW, by: 'ann' } };

describe('deciderSpec', () => {
  describe('then', () => {
    it('passes when decide returns exactly the expected events', () =>
      spec
        .given([installed])
        .when({ type: 'open' })
        .then([{ type: 'door.opened', data: { at: NOW } }]));

    it('passes the context to decide', () =>
      spec
        .given([])
        .when({ type: 'install', id: 'door_9' })
        .then([{ type: 'door.installed', data: { id: 'door_9', at: NOW } }]));

    it('passes for a command that decides nothing', () => spec.given([installed, opened]).when({ type: 'open' }).then([]));

    it('lets a command override the context', () =>
      spec
        .given([installed])
        .when({ type: 'open' }, { now: '2026-02-02T00:00:00.000Z' })
        .then([{ type: 'door.opened', data: { at: '2026-02-02T00:00:00.000Z' } }]));

    it('fails when the events differ', () => {
      expect(() =>
        spec
          .given([installed])
          .when({ type: 'open' })
          .then([{ type: 'door.closed', data: { at: NOW } }]),
      ).toThrow();
      expect(() => spec.given([installed]).when({ type: 'open' }).then([])).toThrow();
    });

    it('fails naming the DomainError when decide throws', () => {
      expect(() => spec.given([installed, locked]).when({ type: 'open' }).then([])).toThrow(/decide threw DomainError STATE_CONFLICT/);
    });
  });

  describe('thenThrows', () => {
    it('passes on the expected code and a subset of the details', () => {
      spec.given([installed, locked]).when({ type: 'open' }).thenThrows('STATE_CONFLICT');
      spec.given([installed, locked]).when({ type: 'open' }).thenThrows('STATE_CONFLICT', { reason: 'cannot_open', status: 'locked' });
      spec
        .given([installed, locked])
        .when({ type: 'open' })
        .thenThrows('STATE_CONFLICT', { allowed: ['unlock'] });
    });

    it('fails when decide returns events', () => {
      expect(() => spec.given([installed]).when({ type: 'open' }).thenThrows('STATE_CONFLICT')).toThrow(/decide returned/);
    });

    it('fails on another code', () => {
      expect(() => spec.given([installed, locked]).when({ type: 'open' }).thenThrows('NOT_FOUND')).toThrow(
        /Expected DomainError NOT_FOUND/,
      );
    });

    it('fails when the details do not contain the subset', () => {
      expect(() => spec.given([installed, locked]).when({ type: 'open' }).thenThrows('STATE_CONFLICT', { reason: 'other' })).toThrow();
      expect(() => spec.given([installed, locked]).when({ type: 'open' }).thenThrows('STATE_CONFLICT', { missing: 1 })).toThrow();
    });

    it('fails when decide throws something that is not a DomainError', () => {
      expect(() => spec.given([]).when({ type: 'explode' }).thenThrows('INTERNAL_ERROR')).toThrow(/Error: boom/);
    });
  });

  describe('thenState', () => {
    it('folds the given and the decided events', () => {
      spec.given([installed]).when({ type: 'lock', by: 'ann' }).thenState({ kind: 'installed', id: 'door_1', status: 'locked' });
      spec
        .given([installed])
        .when({ type: 'open' })
        .thenState((s) => s.kind === 'installed' && s.status === 'open');
    });

    it('fails on another state or a false predicate', () => {
      expect(() => spec.given([installed]).when({ type: 'open' }).thenState({ kind: 'none' })).toThrow();
      expect(() =>
        spec
          .given([installed])
          .when({ type: 'open' })
          .thenState(() => false),
      ).toThrow(/predicate/);
    });

    it('fails when decide throws', () => {
      expect(() =>
        spec
          .given([installed, locked])
          .when({ type: 'open' })
          .thenState(() => true),
      ).toThrow(/STATE_CONFLICT/);
    });
  });
});

// ---------------------------------------------------------------------------------------------------

const states = [
  { name: 'none', given: [] },
  { name: 'closed', given: [installed] },
  { name: 'open', given: [installed, opened] },
  { name: 'locked', given: [installed, locked] },
] as const;
const commands = [
  { name: 'open', command: { type: 'open' } },
  { name: 'close', command: { type: 'close' } },
  { name: 'lock', command: { type: 'lock', by: 'ann' } },
  { name: 'unlock', command: { type: 'unlock' } },
] as const;
type StateName = (typeof states)[number]['name'];
type CommandName = (typeof commands)[number]['name'];

const doorTable: Record<StateName, Record<CommandName, Transition<DoorEvent>>> = {
  none: { open: illegal('NOT_FOUND'), close: illegal('NOT_FOUND'), lock: illegal('NOT_FOUND'), unlock: illegal('NOT_FOUND') },
  closed: {
    open: legal([opened]),
    close: illegal('STATE_CONFLICT', { reason: 'cannot_close' }),
    lock: legal([locked]),
    unlock: illegal('STATE_CONFLICT', { status: 'closed' }),
  },
  open: {
    open: legal([]),
    close: legal([{ type: 'door.closed', data: { at: NOW } }]),
    lock: illegal('STATE_CONFLICT', { allowed: ['close'] }),
    unlock: illegal('STATE_CONFLICT'),
  },
  locked: {
    open: illegal('STATE_CONFLICT'),
    close: illegal('STATE_CONFLICT'),
    lock: illegal('STATE_CONFLICT'),
    unlock: legal([{ type: 'door.unlocked', data: { at: NOW } }]),
  },
};
const table = { states: [...states], commands: [...commands], expect: (s: StateName, c: CommandName) => doorTable[s][c] };

describe('transitionTable', () => {
  describe('registers one test per (state, command) pair', () => {
    transitionTable(spec, table);
  });

  it('walks all 16 pairs and finds nothing wrong in a correct table', () => {
    expect(walkTransitionTable(spec, table)).toEqual([]);
  });

  it('reports every pair whose outcome differs from the table, naming the pair', () => {
    const wrong = {
      ...table,
      expect: (s: StateName, c: CommandName) =>
        s === 'locked' && c === 'open' ? legal([opened]) : s === 'closed' && c === 'open' ? illegal('STATE_CONFLICT') : doorTable[s][c],
    };
    const failures = walkTransitionTable(spec, wrong);
    expect(failures.map(({ state, command }) => [state, command])).toEqual([
      ['closed', 'open'],
      ['locked', 'open'],
    ]);
    expect(failures[0].message).toMatch(/^\(closed, open\): Expected DomainError STATE_CONFLICT/);
    expect(failures[1].message).toMatch(/^\(locked, open\): Expected events, but decide threw DomainError STATE_CONFLICT/);
  });

  it('reports a wrong error code and wrong details', () => {
    const state = states[3];
    expect(() => checkTransition(spec, state, commands[0], illegal('NOT_FOUND'))).toThrow(/\(locked, open\)/);
    expect(() => checkTransition(spec, state, commands[0], illegal('STATE_CONFLICT', { status: 'open' }))).toThrow(/\(locked, open\)/);
  });

  it('treats a pair without an expectation as a failure', () => {
    const partial = { ...table, expect: (s: StateName, c: CommandName) => (s === 'none' ? undefined : doorTable[s][c]) };
    const failures = walkTransitionTable(spec, partial);
    expect(failures).toHaveLength(4);
    expect(failures[0].message).toBe('The table has no expectation for (none, open)');
  });
});
