import { LruMap } from '../../domain/shared/lru-map';

/**
 * Parsed JSON documents of read-model rows, kept by row key and checked against the row's current
 * text: a row read again unchanged (the common case: an order read by each step of its lifecycle) is
 * not parsed again, and a changed row never hits, so nothing has
 * to be invalidated. Values are shared between callers: treat them as immutable. Bounded; least
 * recently used out.
 */
export class ParsedJsonCache<T> {
  private readonly entries: LruMap<string, { text: string; value: T }>;

  constructor(capacity = 10_000) {
    this.entries = new LruMap(capacity);
  }

  parse(key: string, text: string): T {
    const hit = this.entries.get(key);
    const value = hit && hit.text === text ? hit.value : (JSON.parse(text) as T);
    this.remember(key, text, value);
    return value;
  }

  /** What `text` parses to is `value` (a writer that serialised `value` into the row). */
  remember(key: string, text: string, value: T): void {
    this.entries.set(key, { text, value });
  }
}
