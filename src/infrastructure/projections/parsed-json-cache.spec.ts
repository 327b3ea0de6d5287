import { ParsedJsonCache } from './parsed-json-cache';

describe('ParsedJsonCache', () => {
  it('parses a row once while its text is unchanged, and again as soon as it changed', () => {
    const cache = new ParsedJsonCache<{ n: number }>();
    const first = cache.parse('a', '{"n":1}');
    expect(cache.parse('a', '{"n":1}')).toBe(first);
    const changed = cache.parse('a', '{"n":2}');
    expect(changed).toEqual({ n: 2 });
    expect(cache.parse('a', '{"n":1}')).toEqual({ n: 1 });
    expect(cache.parse('a', '{"n":1}')).not.toBe(first);
  });

  it('keeps rows apart by key and forgets the least recently used beyond its capacity', () => {
    const cache = new ParsedJsonCache<{ n: number }>(2);
    const a = cache.parse('a', '{"n":1}');
    const b = cache.parse('b', '{"n":1}');
    expect(b).not.toBe(a);
    expect(cache.parse('a', '{"n":1}')).toBe(a);
    cache.parse('c', '{"n":3}');
    // `b` was the least recently used.
    expect(cache.parse('a', '{"n":1}')).toBe(a);
    expect(cache.parse('b', '{"n":1}')).not.toBe(b);
  });

  it('serves a value a writer remembered for the text it wrote', () => {
    const cache = new ParsedJsonCache<{ n: number }>();
    const written = { n: 5 };
    cache.remember('a', JSON.stringify(written), written);
    expect(cache.parse('a', '{"n":5}')).toBe(written);
    expect(cache.parse('a', '{"n":6}')).toEqual({ n: 6 });
  });
});
