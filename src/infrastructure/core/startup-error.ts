/** A start-up failure attributable to one configuration variable (§2.4). */
export class StartupError extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`Invalid configuration: ${variable}: ${reason}`);
    this.name = 'StartupError';
  }
}
