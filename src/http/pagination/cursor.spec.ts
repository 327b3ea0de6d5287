import { DomainError } from '../../domain/shared/domain-error';
import { decodeCursor, DEFAULT_LIMIT, encodeCursor, parseLimit, toPage } from './cursor';

const ENDPOINT = 'GET /machines';
const FILTERS = { status: 'active', policyId: 'pol_1' };

function rejection(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected decodeCursor to throw');
}

function expectInvalidCursor(fn: () => unknown): void {
  const error = rejection(fn);
  expect(error.code).toBe('VALIDATION_ERROR');
  expect(error.details?.reason).toBe('invalid_cursor');
  expect(error.details?.errors).toEqual([{ location: 'query', path: 'cursor', message: expect.any(String) }]);
}

describe('cursors (§0.10)', () => {
  it('round-trips the sort key for the same endpoint and filters', () => {
    const key = ['2026-01-01T00:00:00.000Z', 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2C', 42, null];
    expect(decodeCursor(encodeCursor(ENDPOINT, FILTERS, key), ENDPOINT, FILTERS)).toEqual(key);
  });

  it('round-trips non-ASCII sort keys', () => {
    const key = ['Ünïcödé €', '\u{1F600}'];
    expect(decodeCursor(encodeCursor(ENDPOINT, {}, key), ENDPOINT, {})).toEqual(key);
  });

  it('is base64url without padding', () => {
    for (let n = 0; n < 12; n++) {
      const cursor = encodeCursor(ENDPOINT, FILTERS, ['x'.repeat(n), '??>>']);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    }
  });

  it('does not depend on the order of the filters, and ignores absent (undefined or null) ones', () => {
    const cursor = encodeCursor(ENDPOINT, { status: 'active', policyId: 'pol_1', since: undefined }, ['k']);
    expect(decodeCursor(cursor, ENDPOINT, { policyId: 'pol_1', status: 'active', tag: null })).toEqual(['k']);
  });

  it('rejects a cursor issued by another endpoint', () => {
    const cursor = encodeCursor('GET /market/orders', FILTERS, ['k']);
    expectInvalidCursor(() => decodeCursor(cursor, ENDPOINT, FILTERS));
  });

  it('rejects a cursor combined with different filter values', () => {
    const cursor = encodeCursor(ENDPOINT, FILTERS, ['k']);
    expectInvalidCursor(() => decodeCursor(cursor, ENDPOINT, { ...FILTERS, status: 'archived' }));
    expectInvalidCursor(() => decodeCursor(cursor, ENDPOINT, { status: 'active' }));
    expectInvalidCursor(() => decodeCursor(cursor, ENDPOINT, { ...FILTERS, machineId: 'mach_1' }));
  });

  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

  it.each([
    ['not base64url', 'not a cursor!'],
    ['the empty string', ''],
    ['padded base64', Buffer.from(JSON.stringify({ e: ENDPOINT, f: 'x', k: [] })).toString('base64')],
    ['standard base64 characters', 'ab+/cd'],
    ['not JSON', b64('hello')],
    ['JSON null', b64('null')],
    ['a JSON number', b64('42')],
    ['a JSON string', b64('"cursor"')],
    ['a JSON array', b64('[1,2]')],
    ['an object without a sort key', b64(JSON.stringify({ e: ENDPOINT, f: 'x' }))],
    ['an object whose sort key is not an array', b64(JSON.stringify({ e: ENDPOINT, f: 'x', k: 'k' }))],
    ['truncated', encodeCursor(ENDPOINT, FILTERS, ['k']).slice(0, 10)],
  ])('rejects %s', (_label, cursor) => {
    expectInvalidCursor(() => decodeCursor(cursor, ENDPOINT, FILTERS));
  });
});

describe('parseLimit', () => {
  it('defaults to 100', () => {
    expect(DEFAULT_LIMIT).toBe(100);
    expect(parseLimit(undefined)).toBe(100);
    expect(parseLimit('25')).toBe(25);
  });
});

describe('toPage (§0.10)', () => {
  const cursorFor = (row: { id: string }) => `after-${row.id}`;
  const toItem = (row: { id: string }) => ({ id: row.id.toUpperCase() });
  const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}` }));

  it('omits nextCursor (never null) when the rows fit in the page', () => {
    for (const n of [0, 1, 3]) {
      const page = toPage(rows(n), 3, cursorFor, toItem);
      expect(page).not.toHaveProperty('nextCursor');
      expect(page.items).toHaveLength(n);
      expect(JSON.stringify(page)).not.toContain('null');
    }
  });

  it('returns limit items and the cursor of the last one when there is one more row', () => {
    const page = toPage(rows(4), 3, cursorFor, toItem);
    expect(page).toEqual({ items: [{ id: 'R0' }, { id: 'R1' }, { id: 'R2' }], nextCursor: 'after-r2' });
  });
});
