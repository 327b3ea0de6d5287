import { createHash } from 'node:crypto';

/**
 * RFC 8785 JSON Canonicalization Scheme (§0.12). ECMAScript's JSON.stringify already serialises
 * strings and numbers exactly as JCS requires; JCS adds member ordering by UTF-16 code units (the
 * default JS string comparison) and rejects values JSON cannot represent.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('Canonical JSON cannot represent a non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
      const record = value as Record<string, unknown>;
      if (typeof (record as { toJSON?: unknown }).toJSON === 'function') {
        return canonicalJson((record as { toJSON: () => unknown }).toJSON());
      }
      const members = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`Canonical JSON cannot represent a value of type ${typeof value}`);
  }
}

/** Lower-case SHA-256 hex of a string's UTF-8 bytes. */
export function sha256Hex(input: string | Buffer): string {
  return createHash('sha256').update(input).digest('hex');
}

/** SHA-256 hex of the canonical JSON of `value` (§0.12). */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
