/**
 * Plain JSON data deepFreeze has frozen all the way down: plain objects (prototype Object or null) and
 * arrays whose members are data properties holding primitives or such data. Nothing in it can change,
 * and neither can its JSON text: canonicalJson serialises such a value once (§0.12). A frozen Date,
 * getter, function or class instance is frozen but never recorded, nor is anything that contains one.
 */
const frozenData = new WeakSet<object>();

/**
 * Freezes a value and everything reachable from it (values shared by every request: nothing may change
 * them). An object someone else froze shallowly is still walked, so that its members are frozen too;
 * a cycle is walked once. If freezing fails part way (a typed array with elements cannot be frozen),
 * nothing this call visited counts as frozen data.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    const visited: object[] = [];
    try {
      freezeFrom(value, new Set(), visited);
    } catch (error) {
      for (const object of visited) frozenData.delete(object);
      throw error;
    }
  }
  return value;
}

/** Whether deepFreeze has frozen `value` and everything below it, and it is plain JSON data. */
export function isDeepFrozen(value: object): boolean {
  return frozenData.has(value);
}

/** Freezes `value` and everything below it; whether it is plain data (then recorded as such). */
function freezeFrom(value: object, walking: Set<object>, visited: object[]): boolean {
  // Already recorded, or a cycle back to an object being walked (judged where the walk started).
  if (frozenData.has(value) || walking.has(value)) return true;
  walking.add(value);
  Object.freeze(value);
  const prototype: unknown = Object.getPrototypeOf(value);
  let plain = Array.isArray(value) ? prototype === Array.prototype : prototype === Object.prototype || prototype === null;
  for (const key of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if (!('value' in descriptor)) {
      plain = false;
      continue;
    }
    const member: unknown = descriptor.value;
    if (typeof member === 'function') plain = false;
    else if (typeof member === 'object' && member !== null && !freezeFrom(member, walking, visited)) plain = false;
  }
  walking.delete(value);
  if (plain) {
    frozenData.add(value);
    visited.push(value);
  }
  return plain;
}
