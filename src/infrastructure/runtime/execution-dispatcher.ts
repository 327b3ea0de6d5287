import { DispatcherStatus } from '../../application/ports/dispatcher-status.port';

/**
 * The execution dispatcher's lifecycle. It runs from application bootstrap to shutdown; runtime
 * endpoints and provider dispatch (§8.2, §8.5) register with it when they are built, so today it
 * reports zero endpoints.
 */
export class ExecutionDispatcher implements DispatcherStatus {
  private running = false;

  start(): void {
    this.running = true;
  }

  stop(): void {
    this.running = false;
  }

  isRunning(): boolean {
    return this.running;
  }

  endpointCounts(): { usable: number; unreachable: number } {
    return { usable: 0, unreachable: 0 };
  }
}
