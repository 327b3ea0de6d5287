import { LruMap } from './lru-map';

describe('LruMap', () => {
  it('drops the least recently used entry beyond its capacity; get and set make a key the most recent', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect([lru.has('a'), lru.has('b'), lru.has('c')]).toEqual([true, false, true]);
    lru.set('a', 4);
    lru.set('d', 5);
    expect([lru.peek('a'), lru.has('c'), lru.peek('d'), lru.size]).toEqual([4, false, 5, 2]);
  });

  it('peek does not refresh; delete and clear remove; capacity 0 keeps nothing', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.peek('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.has('a')).toBe(false);
    lru.delete('b');
    expect(lru.size).toBe(1);
    lru.clear();
    expect(lru.size).toBe(0);
    const none = new LruMap<string, number>(0);
    none.set('a', 1);
    expect(none.get('a')).toBeUndefined();
  });
});
