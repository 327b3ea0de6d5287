import { createHash } from 'node:crypto';
import { isDeepFrozen } from './deep-freeze';

/**
 * RFC 8785 JSON Canonicalization Scheme (§0.12). ECMAScript's JSON.stringify already serialises
 * strings and numbers exactly as JCS requires; JCS adds member ordering by UTF-16 code units (the
 * default JS string comparison) and rejects values JSON cannot represent.
 *
 * On the hot path (the hash chain of every appended event, idempotency fingerprints): one recursive
 * pass appending to a string, with no intermediate arrays. Members whose value is `undefined` are
 * left out and `undefined` array items (and holes) written as `null`, as JSON.stringify does; a
 * value with `toJSON` (a Date) is written through it. The text of frozen plain data (deepFreeze) is
 * computed once and reused.
 */
export function canonicalJson(value: unknown): string {
  return append('', value);
}

/**
 * The canonical text of each frozen plain-data object and array met (deepFreeze: the catalogue, the
 * service snapshot every order of a service embeds), computed once: nothing in it can change, so
 * neither can its text. Nothing else is kept; anything else may change between two calls.
 */
const frozenTexts = new WeakMap<object, string>();

function append(out: string, value: unknown): string {
  switch (typeof value) {
    case 'string':
      return out + quote(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('Canonical JSON cannot represent a non-finite number');
      // Number::toString, as JSON.stringify writes a finite number (-0 as 0).
      return out + String(value);
    case 'boolean':
      return out + (value ? 'true' : 'false');
    case 'object':
      if (value === null) return out + 'null';
      // Object.isFrozen first: false at once for the mutable objects that are the rule.
      if (Object.isFrozen(value) && isDeepFrozen(value)) return appendFrozen(out, value);
      return appendStructure(out, value);
    default:
      throw new TypeError(`Canonical JSON cannot represent a value of type ${typeof value}`);
  }
}

function appendFrozen(out: string, value: object): string {
  let text = frozenTexts.get(value);
  if (text === undefined) {
    text = appendStructure('', value);
    frozenTexts.set(value, text);
  }
  return out + text;
}

/** An array, or an object (through its `toJSON` when it has one). */
function appendStructure(out: string, value: object): string {
  if (Array.isArray(value)) {
    out += '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const item: unknown = value[i];
      out = item === undefined ? out + 'null' : append(out, item);
    }
    return out + ']';
  }
  const record = value as Record<string, unknown>;
  if (typeof record.toJSON === 'function') return append(out, (record.toJSON as () => unknown)());
  const keys = sortKeys(Object.keys(record));
  out += '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const member = record[keys[i]];
    if (member === undefined) continue;
    out += first ? `${quote(keys[i])}:` : `,${quote(keys[i])}:`;
    first = false;
    out = append(out, member);
  }
  return out + '}';
}

/** No character JSON.stringify escapes: `"`, backslash, a control character, a surrogate (lone ones are escaped). */
// eslint-disable-next-line no-control-regex -- U+0000 to U+001F are exactly the characters to find
const VERBATIM = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** JSON.stringify of a string (exactly JCS), without its cost for the common string that needs no escape. */
function quote(text: string): string {
  return VERBATIM.test(text) ? `"${text}"` : JSON.stringify(text);
}

/**
 * `keys.sort()`: the same order (`<` on strings compares UTF-16 code units, as the default sort
 * comparator does; names are distinct, so stability is moot), by insertion for the small objects
 * that are the rule, where it is much cheaper than Array#sort.
 */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i];
    let j = i - 1;
    for (; j >= 0 && keys[j] > key; j--) keys[j + 1] = keys[j];
    keys[j + 1] = key;
  }
  return keys;
}

/** Lower-case SHA-256 hex of a string's UTF-8 bytes. */
export function sha256Hex(input: string | Buffer): string {
  return createHash('sha256').update(input).digest('hex');
}

/** SHA-256 hex of the canonical JSON of `value` (§0.12). */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
