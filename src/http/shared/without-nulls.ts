/**
 * §0.3: in requests, an optional member sent as `null` is treated as absent. Returns a plain copy of
 * a validated DTO without its `null` (and `undefined`) top-level members.
 */
export function withoutNulls<T extends object>(dto: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== null && value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], null>;
  };
}
