/**
 * In-process "something was appended" signal. Readers wait on it instead of polling, so an idle
 * subscription costs no CPU. `version` lets a reader detect an append that happened between its
 * last read and its wait.
 */
export class AppendSignal {
  private waiters: Array<() => void> = [];
  version = 0;

  notify(): void {
    this.version += 1;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves at the next notify(), or at once if one happened since `seenVersion`. */
  waitSince(seenVersion: number): Promise<void> {
    if (this.version !== seenVersion) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
