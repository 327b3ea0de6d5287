import { UsableRuntimeEndpoints } from '../../application/ports/runtime-endpoints.port';

/** Before runtime endpoints can be registered (§8.2) no machine has a usable one. */
export class NoRuntimeEndpoints implements UsableRuntimeEndpoints {
  providerKeysOf(): Promise<ReadonlySet<string>> {
    return Promise.resolve(new Set<string>());
  }
}
