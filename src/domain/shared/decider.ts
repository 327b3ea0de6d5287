/**
 * An aggregate as a pure decider (ARCHITECTURE §2): no I/O, no clock of its own. Anything that needs
 * I/O is looked up by the handler and passed in through the command or the context.
 */
export type DomainEvent<T extends string = string, D = Record<string, unknown>> = { type: T; data: D };

export type DecideContext = {
  /** The decision time as an ISO-8601 UTC string with milliseconds (§0.4). */
  now: string;
};

export interface Decider<C, S, E extends DomainEvent, X extends DecideContext = DecideContext> {
  initialState(): S;
  evolve(state: S, event: E): S;
  /** Returns the events the command produces (possibly none) or throws a DomainError. */
  decide(command: C, state: S, context: X): E[];
}

export function fold<S, E extends DomainEvent>(decider: Pick<Decider<never, S, E>, 'initialState' | 'evolve'>, events: E[]): S {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState());
}

/**
 * Several commands decided as one (one append): each on the state the previous ones left. The events
 * of all of them, in order; the first refusal refuses the whole.
 */
export function decideSteps<C, S, E extends DomainEvent, X extends DecideContext>(
  decider: Decider<C, S, E, X>,
  commands: readonly C[],
  state: S,
  context: X,
): E[] {
  const events: E[] = [];
  let current = state;
  for (const command of commands) {
    const decided = decider.decide(command, current, context);
    events.push(...decided);
    current = decided.reduce((s, e) => decider.evolve(s, e), current);
  }
  return events;
}
