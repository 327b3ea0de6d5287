/**
 * Every object (and array) deepFreeze has frozen together with everything reachable from it: an object
 * here and each of its members are frozen, and so on all the way down. canonicalJson relies on it to
 * serialise such a value once (§0.12).
 */
const deepFrozen = new WeakSet<object>();

/**
 * Freezes a value and everything reachable from it (values shared by every request: nothing may change
 * them). An object someone else froze shallowly is still walked, so that its members are frozen too;
 * a cycle is walked once. If freezing fails part way (a typed array with elements cannot be frozen),
 * nothing this call visited counts as deep-frozen.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !deepFrozen.has(value)) {
    const visited: object[] = [];
    try {
      freezeFrom(value, visited);
    } catch (error) {
      for (const object of visited) deepFrozen.delete(object);
      throw error;
    }
  }
  return value;
}

/** Whether deepFreeze has frozen `value` and everything reachable from it; false for a merely (shallowly) frozen one. */
export function isDeepFrozen(value: object): boolean {
  return deepFrozen.has(value);
}

function freezeFrom(value: object, visited: object[]): void {
  Object.freeze(value);
  // Recorded before its members are walked: a cycle back to it stops here.
  deepFrozen.add(value);
  visited.push(value);
  for (const member of Object.values(value)) {
    if (typeof member === 'object' && member !== null && !deepFrozen.has(member)) freezeFrom(member, visited);
  }
}
