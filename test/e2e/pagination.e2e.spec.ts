import { encodeCursor } from '../../src/http/pagination/cursor';
import { ControllableClock } from '../support/controllable-clock';
import { expectValidationError } from '../support/http-expectations';
import { PROBE_NOTES_LIST_ENDPOINT } from '../support/probe/probe.controller';
import { NOTES_URL, noteId } from '../support/probe/probe-requests';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';

const T0 = '2026-03-01T10:00:00.000Z';
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function at(offsetMs: number): string {
  return new Date(Date.parse(T0) + offsetMs).toISOString();
}

function listUrl(query: Record<string, string | undefined>): string {
  const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
  return `${NOTES_URL}${params.size ? `?${params}` : ''}`;
}

/** Follows `nextCursor` until it is absent (§0.10), bounded so a broken cursor cannot loop forever. */
async function walk(t: TestApp, query: { limit?: string; titlePrefix?: string }): Promise<TestResponse[]> {
  const pages: TestResponse[] = [];
  let cursor: string | undefined;
  do {
    const page = await t.inject({ method: 'GET', url: listUrl({ ...query, cursor }) });
    expect(page.status).toBe(200);
    pages.push(page);
    cursor = page.body.nextCursor;
  } while (cursor !== undefined && pages.length < 20);
  return pages;
}

const idsOf = (pages: TestResponse[]) => pages.flatMap((p) => p.body.items.map((i: { id: string }) => i.id));

/** Creates notes at the given clock offsets; returns their ids in creation order. */
async function seed(t: TestApp, clock: ControllableClock, notes: Array<[title: string, offsetMs: number]>): Promise<string[]> {
  const ids: string[] = [];
  for (const [title, offset] of notes) {
    clock.set(at(offset));
    ids.push(await noteId(t, title));
  }
  return ids;
}

describe('§0.10 pagination of GET /probe/notes (keyset by createdAt, then id, ascending)', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  let all: string[];
  let byTitle: Map<string, string>;

  beforeAll(async () => {
    t = await startTestApp({ clock });
    // Equal timestamps on purpose: ties are broken by id (ids are time-ordered, so creation order).
    const notes: Array<[string, number]> = [
      ['alpha-1', 0],
      ['alpha-2', 0],
      ['beta-1', 1000],
      ['alpha-3', 1000],
      ['beta-2', 2000],
      ['alpha-4', 3000],
      ['beta-3', 3000],
    ];
    all = await seed(t, clock, notes);
    byTitle = new Map(notes.map(([title], i) => [title, all[i]]));
  });
  afterAll(() => t?.close());

  it('returns every item exactly once, in order, across pages of 2', async () => {
    const pages = await walk(t, { limit: '2' });
    expect(pages.map((p) => p.body.items.length)).toEqual([2, 2, 2, 1]);
    expect(idsOf(pages)).toEqual(all);
  });

  it('omits nextCursor on the last page (never null) and gives an opaque base64url cursor before it', async () => {
    const pages = await walk(t, { limit: '2' });
    for (const page of pages.slice(0, -1)) {
      expect(Object.keys(page.body).sort()).toEqual(['items', 'nextCursor']);
      expect(page.body.nextCursor).toMatch(BASE64URL);
    }
    expect(Object.keys(pages[pages.length - 1].body)).toEqual(['items']);
  });

  it('omits nextCursor when the last page is exactly full', async () => {
    const pages = await walk(t, { limit: '2', titlePrefix: 'alpha' });
    expect(pages.map((p) => p.body.items.length)).toEqual([2, 2]);
    expect(idsOf(pages)).toEqual(['alpha-1', 'alpha-2', 'alpha-3', 'alpha-4'].map((title) => byTitle.get(title)));
    expect(pages[1].body).not.toHaveProperty('nextCursor');
  });

  it('defaults to a limit of 100', async () => {
    const [page] = await walk(t, {});
    expect(page.body).toEqual({ items: expect.any(Array) });
    expect(idsOf([page])).toEqual(all);
  });

  it('allows a changed limit with a cursor', async () => {
    const first = await t.inject({ method: 'GET', url: listUrl({ limit: '2' }) });
    const rest = await t.inject({ method: 'GET', url: listUrl({ limit: '5', cursor: first.body.nextCursor }) });
    expect(rest.status).toBe(200);
    expect(idsOf([first, rest])).toEqual(all);
    expect(rest.body).not.toHaveProperty('nextCursor');
  });

  describe('rejects a cursor with 400 VALIDATION_ERROR, reason invalid_cursor', () => {
    const expectInvalidCursor = (response: TestResponse) => {
      expectValidationError(response, { location: 'query', path: 'cursor' });
      expect(response.body.error.details.reason).toBe('invalid_cursor');
    };
    const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
    let validCursor: string;
    beforeAll(async () => {
      validCursor = (await t.inject({ method: 'GET', url: listUrl({ limit: '1' }) })).body.nextCursor;
    });

    it.each([
      ['not base64url', () => '!!!'],
      ['with padding', () => `${validCursor}=`],
      ['empty', () => ''],
      ['decoding to no JSON', () => 'abc'],
      ['decoding to null', () => b64('null')],
      ['without a sort key', () => b64(JSON.stringify({ e: PROBE_NOTES_LIST_ENDPOINT, f: 'x' }))],
      ['with a sort key of another shape', () => encodeCursor(PROBE_NOTES_LIST_ENDPOINT, {}, [1])],
      ['issued by another endpoint', () => encodeCursor('GET /probe/other-notes', {}, [T0, all[0]])],
      ['truncated', () => validCursor.slice(0, -3)],
    ])('%s', async (_, cursor) => {
      expectInvalidCursor(await t.inject({ method: 'GET', url: listUrl({ cursor: cursor() }) }));
    });

    it('combined with different filter values', async () => {
      const alphaCursor = (await t.inject({ method: 'GET', url: listUrl({ limit: '1', titlePrefix: 'alpha' }) })).body.nextCursor;
      expectInvalidCursor(await t.inject({ method: 'GET', url: listUrl({ cursor: alphaCursor }) }));
      expectInvalidCursor(await t.inject({ method: 'GET', url: listUrl({ cursor: alphaCursor, titlePrefix: 'beta' }) }));
      expectInvalidCursor(await t.inject({ method: 'GET', url: listUrl({ cursor: validCursor, titlePrefix: 'alpha' }) }));
    });

    it('given more than once', async () => {
      const response = await t.inject({ method: 'GET', url: `${NOTES_URL}?cursor=${validCursor}&cursor=${validCursor}` });
      expectValidationError(response, { location: 'query', path: 'cursor' });
    });
  });
});

describe('§0.10 keyset stability under concurrent inserts', () => {
  const clock = new ControllableClock(T0);
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ clock });
  });
  afterAll(() => t?.close());

  it('never repeats an item and skips items inserted before the cursor position', async () => {
    const [first, second, third] = await seed(t, clock, [
      ['n-1', 1000],
      ['n-2', 2000],
      ['n-3', 3000],
    ]);
    const page1 = await t.inject({ method: 'GET', url: listUrl({ limit: '2' }) });
    expect(idsOf([page1])).toEqual([first, second]);

    const [early, late] = await seed(t, clock, [
      ['n-early', 0],
      ['n-late', 9000],
    ]);
    const rest = await t.inject({ method: 'GET', url: listUrl({ limit: '10', cursor: page1.body.nextCursor }) });
    expect(idsOf([rest])).toEqual([third, late]);
    expect(idsOf([rest])).not.toContain(early);
  });
});
