import { DecideContext, Decider, DomainEvent, fold } from '../../src/domain/shared/decider';
import { DomainError, ErrorDetails } from '../../src/domain/shared/domain-error';
import { ErrorCode } from '../../src/domain/shared/error-codes';

/**
 * Given/when/then specs for pure deciders (STYLE.md): `given` events are folded into the state,
 * `when` runs `decide`, and `then…` checks the outcome. Each `then…` throws a readable error when the
 * outcome differs, so it can be used inside `it(...)` or called directly by other helpers.
 */
export type DeciderSpec<C, S, E extends DomainEvent, X extends DecideContext = DecideContext> = {
  /** `context` overrides members of the spec's context for this command (e.g. a looked-up fact). */
  given(events: readonly E[]): { when(command: C, context?: Partial<X>): DeciderSpecOutcome<S, E> };
};

export type DeciderSpecOutcome<S, E extends DomainEvent> = {
  /** `decide` returns exactly these events (deep equality, order matters). */
  then(expected: readonly E[]): void;
  /** `decide` throws a DomainError with this code whose details contain `detailsSubset`. */
  thenThrows(code: ErrorCode, detailsSubset?: ErrorDetails): void;
  /** The state after folding the given and the decided events equals `expected` or satisfies the predicate. */
  thenState(expected: S | ((state: S) => boolean)): void;
};

export function deciderSpec<C, S, E extends DomainEvent, X extends DecideContext>(
  decider: Decider<C, S, E, X>,
  context: X,
): DeciderSpec<C, S, E, X> {
  return {
    given: (events) => ({
      when: (command, overrides) => {
        const decide = (): Outcome<E> => {
          try {
            return { events: decider.decide(command, fold(decider, [...events]), { ...context, ...overrides }) };
          } catch (error) {
            return { error };
          }
        };
        const decided = (): E[] => {
          const outcome = decide();
          if ('error' in outcome) throw new Error(`Expected events, but decide threw ${describeError(outcome.error)}`);
          return outcome.events;
        };
        return {
          then(expected) {
            expect(decided()).toEqual(expected);
          },
          thenThrows(code, detailsSubset) {
            const outcome = decide();
            if (!('error' in outcome)) {
              throw new Error(`Expected DomainError ${code}, but decide returned ${JSON.stringify(outcome.events)}`);
            }
            const error = outcome.error;
            if (!(error instanceof DomainError) || error.code !== code) {
              throw new Error(`Expected DomainError ${code}, but decide threw ${describeError(error)}`);
            }
            if (detailsSubset) expect(error.details ?? {}).toMatchObject(detailsSubset);
          },
          thenState(expected) {
            const state = decided().reduce((s, e) => decider.evolve(s, e), fold(decider, [...events]));
            if (typeof expected === 'function') {
              if (!(expected as (state: S) => boolean)(state))
                throw new Error(`State does not satisfy the predicate: ${JSON.stringify(state)}`);
            } else {
              expect(state).toEqual(expected);
            }
          },
        };
      },
    }),
  };
}

type Outcome<E> = { events: E[] } | { error: unknown };

function describeError(error: unknown): string {
  if (error instanceof DomainError) return `DomainError ${error.code} (${error.message}) ${JSON.stringify(error.details ?? {})}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

// ---------------------------------------------------------------------------------------------------
// Transition tables (ARCHITECTURE §2): every (state, command) pair is either legal or illegal.
// ---------------------------------------------------------------------------------------------------

export type TableState<SN extends string, E> = { name: SN; given: readonly E[] };
export type TableCommand<CN extends string, C> = { name: CN; command: C };

export type Transition<E> = { legal: readonly E[] } | { illegal: ErrorCode; details?: ErrorDetails };

/** The pair is allowed and decides exactly these events (`[]` for an idempotent no-op). */
export const legal = <E>(events: readonly E[]): Transition<E> => ({ legal: events });
/** The pair is refused with this DomainError code (and details containing `details`). */
export const illegal = <E = never>(code: ErrorCode, details?: ErrorDetails): Transition<E> => ({ illegal: code, details });

export type TransitionTable<C, E, SN extends string, CN extends string> = {
  states: ReadonlyArray<TableState<SN, E>>;
  commands: ReadonlyArray<TableCommand<CN, C>>;
  /** The expected outcome of every pair; returning undefined for a pair fails that pair. */
  expect(state: SN, command: CN): Transition<E> | undefined;
};

/** Checks one pair; throws a readable error when the decider disagrees with the table. */
export function checkTransition<C, S, E extends DomainEvent, X extends DecideContext>(
  spec: DeciderSpec<C, S, E, X>,
  state: TableState<string, E>,
  command: TableCommand<string, C>,
  expected: Transition<E> | undefined,
): void {
  if (expected === undefined) throw new Error(`The table has no expectation for (${state.name}, ${command.name})`);
  const outcome = spec.given(state.given).when(command.command);
  try {
    if ('legal' in expected) outcome.then(expected.legal);
    else outcome.thenThrows(expected.illegal, expected.details);
  } catch (error) {
    throw new Error(`(${state.name}, ${command.name}): ${(error as Error).message}`);
  }
}

/** Walks every (state, command) pair and returns the failures (empty when the table holds). */
export function walkTransitionTable<C, S, E extends DomainEvent, X extends DecideContext, SN extends string, CN extends string>(
  spec: DeciderSpec<C, S, E, X>,
  table: TransitionTable<C, E, SN, CN>,
): Array<{ state: SN; command: CN; message: string }> {
  const failures: Array<{ state: SN; command: CN; message: string }> = [];
  for (const state of table.states) {
    for (const command of table.commands) {
      try {
        checkTransition(spec, state, command, table.expect(state.name, command.name));
      } catch (error) {
        failures.push({ state: state.name, command: command.name, message: (error as Error).message });
      }
    }
  }
  return failures;
}

/** Registers one jest test per (state, command) pair, grouped by state. Call it inside a describe. */
export function transitionTable<C, S, E extends DomainEvent, X extends DecideContext, SN extends string, CN extends string>(
  spec: DeciderSpec<C, S, E, X>,
  table: TransitionTable<C, E, SN, CN>,
): void {
  for (const state of table.states) {
    describe(`in state ${state.name}`, () => {
      for (const command of table.commands) {
        const expected = table.expect(state.name, command.name);
        const label =
          expected === undefined
            ? 'has an expectation'
            : 'legal' in expected
              ? `decides ${expected.legal.map((e) => e.type).join(', ') || 'nothing'}`
              : `is refused with ${expected.illegal}`;
        it(`${command.name} ${label}`, () => checkTransition(spec, state, command, expected));
      }
    });
  }
}
