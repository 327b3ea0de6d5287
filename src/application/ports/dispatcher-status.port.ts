/** The execution dispatcher as readiness sees it (§3.2 `runtime`). */
export interface DispatcherStatus {
  isRunning(): boolean;
  endpointCounts(): { usable: number; unreachable: number };
}
export const DISPATCHER_STATUS = Symbol('DispatcherStatus');
