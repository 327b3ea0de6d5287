import { deepFreeze, isDeepFrozen } from './deep-freeze';

describe('deepFreeze', () => {
  it('freezes a value and every object and array reachable from it, and returns it', () => {
    const value = { a: { b: [{ c: 1 }, [2]] }, d: 'x' };
    expect(deepFreeze(value)).toBe(value);
    for (const object of [value, value.a, value.a.b, value.a.b[0], value.a.b[1]]) {
      expect(Object.isFrozen(object)).toBe(true);
      expect(isDeepFrozen(object)).toBe(true);
    }
    expect(() => {
      (value.a.b[0] as { c: number }).c = 2;
    }).toThrow(TypeError);
  });

  it('returns a primitive or null as it is', () => {
    expect(deepFreeze(1)).toBe(1);
    expect(deepFreeze('s')).toBe('s');
    expect(deepFreeze(null)).toBeNull();
    expect(deepFreeze(undefined)).toBeUndefined();
  });

  it('freezes the members of an object someone else froze shallowly', () => {
    const inner = { n: 1, list: [{ m: 2 }] };
    const outer = Object.freeze({ inner });
    expect(isDeepFrozen(outer)).toBe(false);
    deepFreeze(outer);
    expect(Object.isFrozen(inner)).toBe(true);
    expect(Object.isFrozen(inner.list)).toBe(true);
    expect(Object.isFrozen(inner.list[0])).toBe(true);
    expect([isDeepFrozen(outer), isDeepFrozen(inner), isDeepFrozen(inner.list[0])]).toEqual([true, true, true]);
  });

  it('freezes below a shallowly frozen member of a mutable object', () => {
    const grandChild = { z: 1 };
    const value = { child: Object.freeze({ grandChild }) };
    deepFreeze(value);
    expect(Object.isFrozen(grandChild)).toBe(true);
    expect(isDeepFrozen(grandChild)).toBe(true);
  });

  it('walks a cycle once', () => {
    type Node = { name: string; next?: Node; self?: Node; list?: unknown[] };
    const a: Node = { name: 'a' };
    const b: Node = { name: 'b', next: a };
    a.next = b;
    a.self = a;
    a.list = [a, b, [a]];
    expect(deepFreeze(a)).toBe(a);
    for (const object of [a, b, a.list, a.list[2] as object]) {
      expect(Object.isFrozen(object)).toBe(true);
      expect(isDeepFrozen(object)).toBe(true);
    }
  });

  it('leaves a member already deep-frozen as it is and freezes the rest', () => {
    const shared = deepFreeze({ s: [1] });
    const value = { x: shared, y: [shared], z: { w: { u: 1 } } };
    deepFreeze(value);
    expect([isDeepFrozen(value), isDeepFrozen(value.y), isDeepFrozen(value.z.w)]).toEqual([true, true, true]);
  });

  it('counts nothing it visited as deep-frozen when freezing fails part way', () => {
    const done = deepFreeze({ d: 1 });
    const sibling = { e: { f: 1 } };
    // A typed array with elements cannot be frozen.
    const value = { done, sibling, bytes: new Uint8Array(1) };
    expect(() => deepFreeze(value)).toThrow(TypeError);
    expect([isDeepFrozen(value), isDeepFrozen(sibling), isDeepFrozen(sibling.e)]).toEqual([false, false, false]);
    // What was deep-frozen before stays so.
    expect(isDeepFrozen(done)).toBe(true);
  });
});

describe('isDeepFrozen', () => {
  it('is false for a mutable object and array', () => {
    expect(isDeepFrozen({ a: 1 })).toBe(false);
    expect(isDeepFrozen([1])).toBe(false);
  });

  it('is false for a shallowly frozen object, even one with no members', () => {
    expect(isDeepFrozen(Object.freeze({ a: { b: 1 } }))).toBe(false);
    expect(isDeepFrozen(Object.freeze({}))).toBe(false);
    expect(isDeepFrozen(Object.freeze([]))).toBe(false);
  });

  it('is true for what deepFreeze froze, at any depth', () => {
    const value = deepFreeze({ a: { b: [{}] } });
    expect([isDeepFrozen(value), isDeepFrozen(value.a), isDeepFrozen(value.a.b), isDeepFrozen(value.a.b[0])]).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });
});
