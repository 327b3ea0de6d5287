/**
 * §0.3: in requests, an optional member sent as `null` is treated as absent. Returns a plain copy of
 * a validated DTO without its `null` (and `undefined`) top-level members.
 */
export function withoutNulls<T extends object>(dto: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== null && value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], null>;
  };
}

/** `withoutNulls` at every depth of nested objects (arrays are kept as they are), for requests where `null` never has a meaning. */
export function withoutNullsDeep<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, member]) => member !== null && member !== undefined)
      .map(([key, member]) => [key, withoutNullsDeep(member)]),
  ) as T;
}
