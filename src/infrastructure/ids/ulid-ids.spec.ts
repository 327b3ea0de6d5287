import { randomBytes } from 'node:crypto';
import { encodeRandom, UlidIds } from './ulid-ids';

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]+$/;

describe('UlidIds (§0.5)', () => {
  it('makes <prefix>_ followed by 26 upper-case Crockford base32 characters', () => {
    const ids = new UlidIds();
    for (const prefix of ['evt', 'mach', 'ord', 'pol']) {
      const id = ids.next(prefix);
      expect(id).toMatch(new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`));
    }
  });

  it('encodes the millisecond time in the first 10 characters', () => {
    // The ULID specification's example: 1469918176385 → 01ARYZ6S41.
    expect(new UlidIds(() => 1469918176385).ulid().slice(0, 10)).toBe('01ARYZ6S41');
    expect(new UlidIds(() => 0).ulid().slice(0, 10)).toBe('0000000000');
    expect(new UlidIds(() => 2 ** 48 - 1).ulid().slice(0, 10)).toBe('7ZZZZZZZZZ');
  });

  it('has a random part that differs between generators', () => {
    const a = new UlidIds(() => 1_700_000_000_000).ulid();
    const b = new UlidIds(() => 1_700_000_000_000).ulid();
    expect(a.slice(0, 10)).toBe(b.slice(0, 10));
    expect(a.slice(10)).toMatch(CROCKFORD);
    expect(a).not.toBe(b);
  });

  it('is strictly increasing within the same millisecond', () => {
    const ids = new UlidIds(() => 1_700_000_000_000);
    const made = Array.from({ length: 1000 }, () => ids.next('evt'));
    expect(new Set(made).size).toBe(made.length);
    expect([...made].sort()).toEqual(made);
    expect(new Set(made.map((id) => id.slice(4, 14))).size).toBe(1);
  });

  it('sorts by time across milliseconds', () => {
    let now = 1_700_000_000_000;
    const ids = new UlidIds(() => now);
    const made: string[] = [];
    for (let i = 0; i < 50; i++) {
      made.push(ids.next('ord'));
      now += i % 3 === 0 ? 1 : 0;
    }
    expect([...made].sort()).toEqual(made);
  });

  it('orders ids of different generators by their time prefix', () => {
    const earlier = new UlidIds(() => 1_700_000_000_000).ulid();
    const later = new UlidIds(() => 1_700_000_000_001).ulid();
    expect(earlier < later).toBe(true);
    expect(new UlidIds(() => 1_699_999_999_999 + 2 ** 20).ulid() > later).toBe(true);
  });

  it('stays monotonic when the clock goes backwards', () => {
    let now = 1_700_000_000_500;
    const ids = new UlidIds(() => now);
    const first = ids.ulid();
    now -= 400;
    const second = ids.ulid();
    expect(second > first).toBe(true);
    expect(second.slice(0, 10)).toBe(first.slice(0, 10));
  });

  it('uses the system time by default', () => {
    const before = Date.now();
    const id = new UlidIds().ulid();
    const after = Date.now();
    const time = [...id.slice(0, 10)].reduce((t, c) => t * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(c), 0);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
  });

  it('encodes the 80 random bits exactly as the big-integer definition does', () => {
    const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const reference = (bytes: Uint8Array) => {
      let value = 0n;
      for (const b of bytes) value = (value << 8n) | BigInt(b);
      let out = '';
      for (let i = 0; i < 16; i++) {
        out = CROCKFORD[Number(value & 31n)] + out;
        value >>= 5n;
      }
      return out;
    };
    const cases = [new Uint8Array(10), new Uint8Array(10).fill(0xff), Uint8Array.from([0x80, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 0xfe])];
    for (let i = 0; i < 2000; i++) cases.push(new Uint8Array(randomBytes(10)));
    for (const bytes of cases) expect(encodeRandom(bytes)).toBe(reference(bytes));
  });
});
