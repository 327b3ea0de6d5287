import { createHash } from 'node:crypto';
import { canonicalHash, canonicalJson, sha256Hex } from './canonical-json';
import { deepFreeze } from './deep-freeze';

// §0.12: RFC 8785 (JCS) — members sorted by UTF-16 code units, minimal escaping, ECMAScript numbers.
describe('canonicalJson (§0.12, RFC 8785)', () => {
  describe('RFC 8785 examples', () => {
    it('serialises the primitive-data example of §3.2.2', () => {
      const input = {
        // The RFC's literal as written: it parses to the same double as 333333333.3333333.
        // eslint-disable-next-line no-loss-of-precision
        numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001],
        string: '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/',
        literals: [null, true, false],
      };
      expect(canonicalJson(input)).toBe(
        String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
      );
    });

    it('sorts the members of the §3.2.3 example by UTF-16 code units', () => {
      const input = {
        '\u20ac': 'Euro Sign',
        '\r': 'Carriage Return',
        '\ufb33': 'Hebrew Letter Dalet With Dagesh',
        '1': 'One',
        '\ud83d\ude00': 'Emoji: Grinning Face',
        '\u0080': 'Control',
        '\u00f6': 'Latin Small Letter O With Diaeresis',
      };
      expect(canonicalJson(input)).toBe(
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
          '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
      );
    });
  });

  describe('member order', () => {
    it('puts upper-case before lower-case letters (code unit order, not locale order)', () => {
      expect(canonicalJson({ b: 1, a: 2, B: 3, A: 4, _: 5 })).toBe('{"A":4,"B":3,"_":5,"a":2,"b":1}');
    });

    it('sorts digit names as strings and prefixes first', () => {
      expect(canonicalJson({ '9': 0, '10': 0, '1': 0, ab: 0, a: 0, '': 0 })).toBe('{"":0,"1":0,"10":0,"9":0,"a":0,"ab":0}');
    });

    it('orders a non-BMP name by its surrogates, before a high BMP character', () => {
      // U+1F600 > U+FB01 as code points, but its first code unit 0xD83D < 0xFB01.
      expect(canonicalJson({ '\ufb01': 1, '\u{1F600}': 2, '\uff21': 3, z: 4 })).toBe('{"z":4,"\u{1F600}":2,"\ufb01":1,"\uff21":3}');
    });

    it('does not depend on insertion order', () => {
      expect(canonicalJson({ x: 1, y: { b: 2, a: 1 } })).toBe(canonicalJson({ y: { a: 1, b: 2 }, x: 1 }));
    });
  });

  describe('numbers (ECMAScript Number#toString)', () => {
    it.each([
      [1e21, '1e+21'],
      [1e20, '100000000000000000000'],
      [1e-7, '1e-7'],
      [1e-6, '0.000001'],
      [-0, '0'],
      [0.1 + 0.2, '0.30000000000000004'],
      [-1.5, '-1.5'],
      [4.5, '4.5'],
      [100, '100'],
      [Number.MAX_SAFE_INTEGER, '9007199254740991'],
      [5e-324, '5e-324'],
      [Number.MAX_VALUE, '1.7976931348623157e+308'],
    ])('serialises %p as %s', (value, expected) => {
      expect(canonicalJson(value)).toBe(expected);
      expect(canonicalJson([value])).toBe(`[${expected}]`);
    });

    it.each([NaN, Infinity, -Infinity])('rejects the non-finite number %p at any depth', (value) => {
      expect(() => canonicalJson(value)).toThrow(TypeError);
      expect(() => canonicalJson([1, value])).toThrow(TypeError);
      expect(() => canonicalJson({ a: { b: value } })).toThrow(TypeError);
    });
  });

  describe('strings', () => {
    it('uses the short escapes for \\b \\t \\n \\f \\r, " and \\\\', () => {
      expect(canonicalJson('\b\t\n\f\r"\\')).toBe(String.raw`"\b\t\n\f\r\"\\"`);
    });

    it('escapes the other control characters as lower-case \\u00xx', () => {
      expect(canonicalJson('\u0000\u0001\u000b\u000e\u001f')).toBe(String.raw`"\u0000\u0001\u000b\u000e\u001f"`);
    });

    it('leaves everything else unescaped: /, DEL, non-ASCII, non-BMP, U+2028', () => {
      const raw = '/\u007f\u00e9\u20ac\u{1F600}\u2028';
      expect(canonicalJson(raw)).toBe(`"${raw}"`);
    });

    it('escapes lone surrogates as \\udxxx and keeps a pair as it is', () => {
      expect(canonicalJson('a\ud800b\udfffc\ud83d\ude00')).toBe(String.raw`"a\ud800b\udfffc` + '\ud83d\ude00"');
      expect(canonicalJson({ '\udc00': 1 })).toBe(String.raw`{"\udc00":1}`);
    });

    it('escapes member names like strings', () => {
      expect(canonicalJson({ 'a"b\n': 1 })).toBe(String.raw`{"a\"b\n":1}`);
    });
  });

  describe('structure', () => {
    it('serialises literals', () => {
      expect(canonicalJson(null)).toBe('null');
      expect(canonicalJson(true)).toBe('true');
      expect(canonicalJson(false)).toBe('false');
      expect(canonicalJson({})).toBe('{}');
      expect(canonicalJson([])).toBe('[]');
    });

    it('keeps array order, sorts objects at every depth, and has no whitespace', () => {
      const value = { z: [3, 1, { y: 1, x: [{ b: true, a: null }] }], a: { c: { e: 'e', d: 'd' } } };
      expect(canonicalJson(value)).toBe('{"a":{"c":{"d":"d","e":"e"}},"z":[3,1,{"x":[{"a":null,"b":true}],"y":1}]}');
    });

    it('writes undefined array items and holes as null, as JSON.stringify does', () => {
      const holey: unknown[] = new Array(3);
      holey[1] = undefined;
      holey[2] = 1;
      expect(canonicalJson(holey)).toBe('[null,null,1]');
      expect(canonicalJson(holey)).toBe(JSON.stringify(holey));
    });

    it('sorts an object with many members as keys.sort() does', () => {
      const names = Array.from({ length: 40 }, (_, i) => `k${(i * 7919) % 40}${i % 3 === 0 ? 'Z' : 'a'}`);
      const record = Object.fromEntries(names.map((name, i) => [name, i]));
      expect(Object.keys(JSON.parse(canonicalJson(record)) as object)).toEqual([...names].sort());
    });

    it('drops members whose value is undefined, at any depth', () => {
      expect(canonicalJson({ a: undefined, b: 1, c: { d: undefined } })).toBe('{"b":1,"c":{}}');
    });

    it('serialises a value with toJSON (a Date) through it', () => {
      expect(canonicalJson({ at: new Date('2025-01-01T00:00:00.000Z') })).toBe('{"at":"2025-01-01T00:00:00.000Z"}');
    });

    it('rejects values JSON cannot represent', () => {
      expect(() => canonicalJson(1n)).toThrow(TypeError);
      expect(() => canonicalJson({ a: 1n })).toThrow(TypeError);
      expect(() => canonicalJson(undefined)).toThrow(TypeError);
    });
  });
});

// The former implementation (map/filter/join), kept as the reference the faster one must match byte for byte.
function referenceCanonicalJson(value: unknown): string {
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
      if (Array.isArray(value)) return `[${value.map((v) => referenceCanonicalJson(v === undefined ? null : v)).join(',')}]`;
      const record = value as Record<string, unknown>;
      if (typeof (record as { toJSON?: unknown }).toJSON === 'function') {
        return referenceCanonicalJson((record as { toJSON: () => unknown }).toJSON());
      }
      const members = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${referenceCanonicalJson(record[k])}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`Canonical JSON cannot represent a value of type ${typeof value}`);
  }
}

describe('canonicalJson against the reference implementation (random values)', () => {
  /** mulberry32: a seeded generator, so that a failure is reproducible. */
  function generator(seed: number) {
    let state = seed >>> 0;
    const next = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const int = (n: number) => Math.floor(next() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)];
    return { next, int, pick };
  }

  const CHARACTERS = [
    'a',
    'b',
    'Z',
    '0',
    '9',
    '_',
    ' ',
    '/',
    '"',
    '\\',
    '\u0000',
    '\b',
    '\t',
    '\n',
    '\u000b',
    '\f',
    '\r',
    '\u001f',
    '\u007f',
    '\u0080',
    'é',
    '\u2028',
    '€',
    '\ufb01',
    '\uffff',
    '\ud83d\ude00',
    '\ud800',
    '\udfff',
  ] as const;
  const NUMBERS = [
    0,
    -0,
    1,
    -1,
    1e21,
    1e20,
    1e-7,
    1e-6,
    5e-324,
    -5e-324,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    0.1 + 0.2,
    333333333.3333333,
    4.5,
    2 ** 53 + 2,
  ] as const;
  const NAMES = ['', 'a', 'A', 'b', 'aa', 'ab', '1', '10', '9', '01', '__proto__x', 'toString', 'constructor', 'length'] as const;

  function randomValue(random: ReturnType<typeof generator>, depth: number): unknown {
    const string = () => Array.from({ length: random.int(depth > 2 ? 6 : 24) }, () => random.pick(CHARACTERS)).join('');
    const kind = random.int(depth >= 4 ? 6 : 9);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return random.next() < 0.5;
      case 2: {
        const choice = random.int(4);
        if (choice === 0) return random.pick(NUMBERS);
        if (choice === 1) return random.int(2_000_001) - 1_000_000;
        if (choice === 2) return (random.next() - 0.5) * 10 ** (random.int(60) - 30);
        // Any finite double, from random bits.
        const view = new DataView(new ArrayBuffer(8));
        view.setUint32(0, random.int(2 ** 32));
        view.setUint32(4, random.int(2 ** 32));
        const double = view.getFloat64(0);
        return Number.isFinite(double) ? double : 0;
      }
      case 3:
      case 4:
        return string();
      case 5:
        return random.next() < 0.1 ? new Date(random.int(4_000_000_000_000)) : string();
      case 6: {
        const length = random.int(6);
        return Array.from({ length }, () => (random.next() < 0.1 ? undefined : randomValue(random, depth + 1)));
      }
      default: {
        const record: Record<string, unknown> = {};
        // Now and then more members than the insertion sort takes.
        const size = random.next() < 0.05 ? 17 + random.int(20) : random.int(7);
        for (let i = 0; i < size; i++) {
          const name = random.next() < 0.4 ? random.pick(NAMES) : string();
          record[name] = random.next() < 0.1 ? undefined : randomValue(random, depth + 1);
        }
        return record;
      }
    }
  }

  /** Now and then a value JSON cannot represent, somewhere inside. */
  function withUnrepresentable(random: ReturnType<typeof generator>, value: unknown): unknown {
    const bad = random.pick([NaN, Infinity, -Infinity, 1n, Symbol('s'), () => 1] as const);
    return random.next() < 0.5 ? [value, bad] : { z: value, [random.pick(NAMES)]: bad };
  }

  const outcome = (serialise: (value: unknown) => string, value: unknown) => {
    try {
      return { json: serialise(value) };
    } catch (error) {
      return { error: `${(error as Error).constructor.name}: ${(error as Error).message}` };
    }
  };

  it('writes exactly what the former implementation wrote, for 4,000 random values', () => {
    const random = generator(8785);
    for (let i = 0; i < 4000; i++) {
      const value = randomValue(random, 0);
      const expected = referenceCanonicalJson(value);
      const actual = canonicalJson(value);
      if (actual !== expected) expect({ value, actual }).toEqual({ value, actual: expected });
    }
  });

  it('throws the same TypeError as the former implementation for a value JSON cannot represent', () => {
    const random = generator(1);
    for (let i = 0; i < 500; i++) {
      const value = withUnrepresentable(random, randomValue(random, 1));
      const expected = outcome(referenceCanonicalJson, value);
      expect(expected).toHaveProperty('error');
      expect(outcome(canonicalJson, value)).toEqual(expected);
    }
  });

  /** Deep-freezes some subtrees of `value` (now and then all of it), leaving the rest mutable. */
  function freezeSome(random: ReturnType<typeof generator>, value: unknown): unknown {
    if (typeof value !== 'object' || value === null || value instanceof Date) return value;
    if (random.next() < 0.3) return deepFreeze(value);
    for (const member of Object.values(value)) freezeSome(random, member);
    return value;
  }

  it('writes what the former implementation wrote for values with deep-frozen parts, in fresh wrappers, call after call', () => {
    const random = generator(1732);
    for (let i = 0; i < 2000; i++) {
      const value = freezeSome(random, randomValue(random, 0));
      const expected = referenceCanonicalJson(value);
      for (let call = 0; call < 3; call++) {
        const wrapper = { id: `ord_${i}_${call}`, createdAt: '2025-01-01T00:00:00.000Z', serviceSnapshot: value, again: [value] };
        const actual = canonicalJson(wrapper);
        const reference = referenceCanonicalJson(wrapper);
        if (actual !== reference) expect({ value, call, actual }).toEqual({ value, call, actual: reference });
        if (canonicalJson(value) !== expected)
          expect({ value, call, actual: canonicalJson(value) }).toEqual({ value, call, actual: expected });
      }
    }
  });

  it('throws the same TypeError as the former implementation for a deep-frozen value JSON cannot represent, every time', () => {
    const random = generator(2);
    for (let i = 0; i < 300; i++) {
      const value = deepFreeze(withUnrepresentable(random, randomValue(random, 1)));
      const expected = outcome(referenceCanonicalJson, { value });
      expect(expected).toHaveProperty('error');
      expect(outcome(canonicalJson, { value })).toEqual(expected);
      expect(outcome(canonicalJson, { value })).toEqual(expected);
    }
  });
});

describe('canonicalJson of deep-frozen values (text computed once)', () => {
  /** What `run` returns, and the objects whose members it listed (Object.keys) on the way. */
  function walkedBy(run: () => string): { result: string; walked: unknown[] } {
    const keys = jest.spyOn(Object, 'keys');
    try {
      const result = run();
      return { result, walked: keys.mock.calls.map(([object]) => object as unknown) };
    } finally {
      keys.mockRestore();
    }
  }

  const snapshot = () => ({
    id: 'svc.one',
    operations: ['get-price', 'a\u0000"'],
    pricing: { model: 'fixed', amount: 0.5, notes: ['per call', 'é\n'], nothing: undefined },
    contracts: { z: { type: 'object', required: ['symbol'] }, A: [], '': [undefined, 1e21, -0] },
    flags: [true, false, null],
  });

  it('writes a deep-frozen value inside fresh mutable wrappers exactly as the reference does, call after call', () => {
    const frozen = deepFreeze(snapshot());
    for (let i = 0; i < 3; i++) {
      const order = {
        id: `ord_${i}`,
        createdAt: '2025-01-01T00:00:00.000Z',
        serviceSnapshot: frozen,
        parts: [frozen.pricing, frozen.contracts],
      };
      expect(canonicalJson(order)).toBe(referenceCanonicalJson(order));
      expect(canonicalJson(order)).toBe(referenceCanonicalJson({ ...order, serviceSnapshot: snapshot() }));
    }
    expect(canonicalJson(frozen)).toBe(referenceCanonicalJson(snapshot()));
    expect(canonicalJson(frozen.pricing)).toBe(referenceCanonicalJson(snapshot().pricing));
  });

  it('serialises a deep-frozen value once: later calls walk only the mutable wrapper', () => {
    const frozen = deepFreeze(snapshot());
    const order = { id: 'ord_1', serviceSnapshot: frozen };
    const expected = referenceCanonicalJson(order);
    expect(canonicalJson(order)).toBe(expected);
    const wrapper = { ...order };
    expect(walkedBy(() => canonicalJson(wrapper))).toEqual({ result: expected, walked: [wrapper] });
  });

  it('never keeps the text of a mutable object: a change shows in the next call', () => {
    const order = { status: 'created', nested: { list: [1] as unknown[] } };
    expect(canonicalJson(order)).toBe('{"nested":{"list":[1]},"status":"created"}');
    order.status = 'confirmed';
    order.nested.list.push({ b: 2 });
    expect(canonicalJson(order)).toBe('{"nested":{"list":[1,{"b":2}]},"status":"confirmed"}');
  });

  it('never keeps the text of a shallowly frozen object: a change to a member shows in the next call', () => {
    const member = { n: 1 };
    const shallow = Object.freeze({ member, list: Object.freeze([member]) });
    expect(canonicalJson(shallow)).toBe('{"list":[{"n":1}],"member":{"n":1}}');
    member.n = 2;
    expect(canonicalJson(shallow)).toBe('{"list":[{"n":2}],"member":{"n":2}}');
    deepFreeze(shallow);
    expect(canonicalJson(shallow)).toBe('{"list":[{"n":2}],"member":{"n":2}}');
  });

  it('does not keep the text of a deep-frozen value holding a Date, whose time freezing does not fix', () => {
    const at = new Date('2025-01-01T00:00:00.000Z');
    const frozen = deepFreeze({ at, inner: { list: [at] } });
    expect(canonicalJson({ frozen })).toBe('{"frozen":{"at":"2025-01-01T00:00:00.000Z","inner":{"list":["2025-01-01T00:00:00.000Z"]}}}');
    at.setTime(Date.parse('2026-06-01T00:00:00.000Z'));
    expect(canonicalJson({ frozen })).toBe('{"frozen":{"at":"2026-06-01T00:00:00.000Z","inner":{"list":["2026-06-01T00:00:00.000Z"]}}}');
    at.setTime(0);
    expect(canonicalJson(frozen)).toBe('{"at":"1970-01-01T00:00:00.000Z","inner":{"list":["1970-01-01T00:00:00.000Z"]}}');
  });

  it('does not keep the text of a deep-frozen value whose toJSON may answer differently', () => {
    let current: unknown = deepFreeze({ v: 1 });
    const frozen = deepFreeze({ wrapped: { toJSON: () => current } });
    expect(canonicalJson(frozen)).toBe('{"wrapped":{"v":1}}');
    current = [2];
    expect(canonicalJson(frozen)).toBe('{"wrapped":[2]}');
  });

  it('does not keep the text of a deep-frozen value with a getter', () => {
    let n = 1;
    const frozen = deepFreeze({
      outer: {
        get n() {
          return n;
        },
      },
    });
    expect(canonicalJson(frozen)).toBe('{"outer":{"n":1}}');
    n = 2;
    expect(canonicalJson(frozen)).toBe('{"outer":{"n":2}}');
  });

  it('does not keep the text of a deep-frozen class instance, whose prototype may still change', () => {
    class Point {
      x = 1;
    }
    const point = deepFreeze(new Point());
    expect(canonicalJson({ point })).toBe('{"point":{"x":1}}');
    (Point.prototype as unknown as { toJSON: () => unknown }).toJSON = () => 'p';
    expect(canonicalJson({ point })).toBe('{"point":"p"}');
  });

  it('keeps the text of a deep-frozen object without a prototype', () => {
    const bare = deepFreeze(Object.assign(Object.create(null) as Record<string, unknown>, { b: 1, a: [true] }));
    expect(canonicalJson(bare)).toBe('{"a":[true],"b":1}');
    expect(canonicalJson({ bare })).toBe('{"bare":{"a":[true],"b":1}}');
  });

  it('keeps the texts of the stable parts of a deep-frozen value that is not', () => {
    const stable = deepFreeze({ deep: { list: [{ a: 1 }] } });
    const frozen = deepFreeze({ at: new Date(0), stable });
    const expected = '{"at":"1970-01-01T00:00:00.000Z","stable":{"deep":{"list":[{"a":1}]}}}';
    expect(canonicalJson(frozen)).toBe(expected);
    // The outer object's own members only: `stable` comes from its kept text.
    expect(walkedBy(() => canonicalJson(frozen))).toEqual({ result: expected, walked: [frozen] });
  });
});

describe('sha256Hex', () => {
  it('is the lower-case hex of the SHA-256 digest', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes the UTF-8 bytes of a string, and accepts bytes', () => {
    const utf8 = Buffer.from('\u20ac\u{1F600}', 'utf8');
    const expected = createHash('sha256').update(utf8).digest('hex');
    expect(sha256Hex('\u20ac\u{1F600}')).toBe(expected);
    expect(sha256Hex(utf8)).toBe(expected);
  });
});

describe('canonicalHash', () => {
  it('is the SHA-256 hex of the canonical JSON', () => {
    const value = { b: [1, 'é'], a: null };
    expect(canonicalHash(value)).toBe(sha256Hex('{"a":null,"b":[1,"é"]}'));
    expect(canonicalHash(value)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for equal values built in another member order', () => {
    expect(canonicalHash({ a: 1, b: { c: 2, d: 3 } })).toBe(canonicalHash({ b: { d: 3, c: 2 }, a: 1 }));
  });
});
