/**
 * What search and execution need of a machine's runtime endpoints (§8.2): which provider keys have a
 * usable one (effective status `active` or `degraded`). The runtime-endpoints feature answers it.
 */
export interface UsableRuntimeEndpoints {
  providerKeysOf(machineId: string): Promise<ReadonlySet<string>>;
}
export const USABLE_RUNTIME_ENDPOINTS = Symbol('UsableRuntimeEndpoints');
