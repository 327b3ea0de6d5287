import { getAddress } from 'viem';
import { Clock } from '../../application/ports/clock.port';
import { McrFailure, McrResolution, McrResolver, McrResult } from '../../application/ports/mcr-resolver.port';
import { LruMap } from '../../domain/shared/lru-map';

export type HttpMcrResolverOptions = {
  /** PEAQOS_MCR_API_URL; a path prefix is kept, trailing slashes are dropped. */
  baseUrl: string;
  /** PEAQOS_MCR_TIMEOUT_MS, applied to each request (headers and body). */
  timeoutMs: number;
  /** PEAQOS_MCR_CACHE_TTL_MS; 0 disables the cache. */
  cacheTtlMs: number;
  clock: Clock;
  /** Upper bound of cached URLs; the least recently used entry is evicted first. */
  maxCacheEntries?: number;
};

const DEFAULT_MAX_CACHE_ENTRIES = 5_000;
const MACHINE_ID = /^peaqos:machine:([1-9][0-9]{0,77})$/;
const PEAQ_DID = /^did:peaq:(0x[0-9a-fA-F]{40})$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

type Fetched = { kind: 'ok'; body: unknown; cached: boolean } | { kind: 'not_found' } | { kind: 'failed'; failure: McrFailure };
type Step<T> = { ok: true; value: T } | { ok: false; failure: McrFailure };

/**
 * McrResolver over the peaqOS MCR HTTP API (§4.3): Machine Card for `peaqos:machine:<id>`, then the
 * bond record and the operator of the DID, concurrently. Successful responses are cached per URL.
 */
export class HttpMcrResolver implements McrResolver {
  private readonly baseUrl: string;
  private readonly cache: ResponseCache;

  constructor(private readonly options: HttpMcrResolverOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.cache = new ResponseCache(options.maxCacheEntries ?? DEFAULT_MAX_CACHE_ENTRIES);
  }

  async resolve(identityRef: string, options: { fresh?: boolean } = {}): Promise<McrResult> {
    const fresh = options.fresh === true;
    const did = await this.didOf(identityRef, fresh);
    if (!did.ok) return did;

    // §4.3 step 2: both lookups run concurrently; the bond record decides existence, so its failure
    // wins over a failure of the operator lookup.
    const [bond, operator] = await Promise.all([this.bondStatusOf(did.value, fresh), this.operatorOf(did.value, fresh)]);
    if (!bond.ok) return bond;
    if (!operator.ok) return operator;

    const didAddress = checksum(PEAQ_DID.exec(did.value)![1]);
    const controllerAddresses = [didAddress];
    if (operator.value !== null && operator.value.toLowerCase() !== didAddress.toLowerCase()) {
      controllerAddresses.push(operator.value);
    }
    const value: McrResolution = { did: `did:peaq:${didAddress}`, bondStatus: bond.value, controllerAddresses };
    return { ok: true, value };
  }

  /** §4.3 step 1. A DID identityRef is used as is (the caller normalised it, §4.2). */
  private async didOf(identityRef: string, fresh: boolean): Promise<Step<string>> {
    if (PEAQ_DID.test(identityRef)) return { ok: true, value: identityRef };
    const machine = MACHINE_ID.exec(identityRef);
    if (!machine) return fail({ kind: 'unsupported_did' });

    const url = `${this.baseUrl}/machines/${machine[1]}`;
    const fetched = await this.get(url, fresh);
    if (fetched.kind === 'failed') return fail(fetched.failure);
    if (fetched.kind === 'not_found') return fail({ kind: 'not_found' });
    if (!isObject(fetched.body)) return fail(badResponse());
    const did = fetched.body.did;
    const match = typeof did === 'string' ? PEAQ_DID.exec(did) : null;
    if (!match) return fail({ kind: 'unsupported_did' });
    this.remember(url, fetched);
    return { ok: true, value: `did:peaq:${checksum(match[1])}` };
  }

  private async bondStatusOf(did: string, fresh: boolean): Promise<Step<McrResolution['bondStatus']>> {
    const url = `${this.baseUrl}/mcr/${did}`;
    const fetched = await this.get(url, fresh);
    if (fetched.kind === 'failed') return fail(fetched.failure);
    if (fetched.kind === 'not_found') return fail({ kind: 'not_found' });
    if (!isObject(fetched.body) || typeof fetched.body.bond_status !== 'string') return fail(badResponse());
    this.remember(url, fetched);
    // §4.3 step 4 only asks "bonded or not": any other status string counts as not bonded.
    return { ok: true, value: fetched.body.bond_status === 'bonded' ? 'bonded' : 'unbonded' };
  }

  /** The operator's EIP-55 address, or null when MCR knows none (404, missing or unusable value). */
  private async operatorOf(did: string, fresh: boolean): Promise<Step<string | null>> {
    const url = `${this.baseUrl}/machine/${did}`;
    const fetched = await this.get(url, fresh);
    if (fetched.kind === 'failed') return fail(fetched.failure);
    if (fetched.kind === 'not_found') return { ok: true, value: null };
    this.remember(url, fetched);
    const peaqos = isObject(fetched.body) ? fetched.body.peaqos : undefined;
    const operator = isObject(peaqos) ? peaqos.operator : undefined;
    if (typeof operator !== 'string') return { ok: true, value: null };
    if (ADDRESS.test(operator)) return { ok: true, value: checksum(operator) };
    const asDid = PEAQ_DID.exec(operator);
    return { ok: true, value: asDid ? checksum(asDid[1]) : null };
  }

  /**
   * Only usable 2xx responses are cached: callers remember a response once they accepted it. A cache
   * hit keeps its original expiry (the TTL counts from the upstream answer, not from the last read).
   */
  private remember(url: string, fetched: Fetched): void {
    if (fetched.kind !== 'ok' || fetched.cached || this.options.cacheTtlMs <= 0) return;
    this.cache.set(url, fetched.body, this.options.clock.now().getTime() + this.options.cacheTtlMs);
  }

  private async get(url: string, fresh: boolean): Promise<Fetched> {
    if (!fresh && this.options.cacheTtlMs > 0) {
      const cached = this.cache.get(url, this.options.clock.now().getTime());
      if (cached !== undefined) return { kind: 'ok', body: cached.body, cached: true };
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        credentials: 'omit',
        redirect: 'follow',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      return { kind: 'failed', failure: transportFailure(error) };
    }

    if (response.status === 404 || response.status === 400) {
      // Item 24: 400 counts as "not found". A stale cached copy must not outlive a definite answer.
      this.cache.delete(url);
      await discard(response);
      return { kind: 'not_found' };
    }
    if (response.status < 200 || response.status > 299) {
      await discard(response);
      return { kind: 'failed', failure: { kind: 'unavailable', reason: 'upstream_status', upstreamStatus: response.status } };
    }

    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      return { kind: 'failed', failure: transportFailure(error) };
    }
    try {
      return { kind: 'ok', body: JSON.parse(text) as unknown, cached: false };
    } catch {
      return { kind: 'failed', failure: badResponse() };
    }
  }
}

function transportFailure(error: unknown): McrFailure {
  // AbortSignal.timeout rejects fetch (and a pending body read) with a DOMException named TimeoutError.
  const name = error instanceof Error || error instanceof DOMException ? error.name : '';
  return { kind: 'unavailable', reason: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network' };
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // The body is not needed; a broken stream changes nothing.
  }
}

function badResponse(): McrFailure {
  return { kind: 'unavailable', reason: 'bad_response' };
}

function fail(failure: McrFailure): { ok: false; failure: McrFailure } {
  return { ok: false, failure };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A bounded LRU of parsed response bodies with absolute expiry times. */
class ResponseCache {
  private readonly entries: LruMap<string, { body: unknown; expiresAt: number }>;

  constructor(maxEntries: number) {
    this.entries = new LruMap(maxEntries);
  }

  get(url: string, now: number): { body: unknown } | undefined {
    const entry = this.entries.get(url);
    if (!entry) return undefined;
    if (now < entry.expiresAt) return { body: entry.body };
    this.entries.delete(url);
    return undefined;
  }

  set(url: string, body: unknown, expiresAt: number): void {
    this.entries.set(url, { body, expiresAt });
  }

  delete(url: string): void {
    this.entries.delete(url);
  }

  get size(): number {
    return this.entries.size;
  }
}

function checksum(address: string): string {
  return getAddress(address as `0x${string}`);
}
