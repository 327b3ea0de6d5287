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
 * value with `toJSON` (a Date) is written through it. The text of a deep-frozen object or array
 * (deepFreeze) is computed once and reused.
 */
export function canonicalJson(value: unknown): string {
  return append('', value);
}

/** In frozenTexts: a deep-frozen value whose text cannot be kept (see `unstable`); it stays so. */
const UNSTABLE = false;

/**
 * The canonical text of each deep-frozen object and array met (deepFreeze: the catalogue, the service
 * snapshot every order of a service embeds), computed once: nothing in it can change, so neither can
 * its text. Only deep-frozen values are kept; anything else may change between two calls.
 */
const frozenTexts = new WeakMap<object, string | typeof UNSTABLE>();

/**
 * While a deep-frozen value's text is being computed: whether something in it could still write
 * differently next time, so that the text must not be kept. A frozen Date keeps its time in an internal
 * slot freezing does not protect (any value with `toJSON` is therefore treated so), a getter may return
 * anything, and the prototype of a class instance may still change. Saved and restored around each
 * such computation, as they nest.
 */
let unstable = false;

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
  const known = frozenTexts.get(value);
  if (typeof known === 'string') return out + known;
  if (known === UNSTABLE) {
    out = appendStructure(out, value);
    unstable = true;
    return out;
  }
  const outer = unstable;
  unstable = !isPlainData(value);
  try {
    const text = appendStructure('', value);
    // What made it unstable (a Date, a toJSON, a getter, a prototype) is there for good.
    frozenTexts.set(value, unstable ? UNSTABLE : text);
    return out + text;
  } finally {
    // Unstable inside makes the enclosing value unstable too; after a throw (which a toJSON or a getter
    // on the way may catch) the enclosing value's flag is at least what it was.
    unstable ||= outer;
  }
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
  if (typeof record.toJSON === 'function') {
    out = append(out, (record.toJSON as () => unknown)());
    // After the call: whatever it did, an enclosing deep-frozen value's text is not kept.
    unstable = true;
    return out;
  }
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

/**
 * A plain object or array whose members are all data properties: what it writes depends on nothing
 * but them. Checked once per deep-frozen value, before its text is first kept.
 */
function isPlainData(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== Array.prototype && prototype !== null) return false;
  for (const key of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined || !('value' in descriptor)) return false;
  }
  return true;
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
