import { TestApp, TestResponse } from '../test-app';

export const NOTES_URL = '/api/v1/probe/notes';
/** Well-formed, never issued by the test apps. */
export const UNKNOWN_NOTE_ID = 'note_01JD8Y6K3W5T2Q9R7M4N0P1B2C';

export const MIB = 1_048_576;

type Headers = Record<string, string>;

/** A JSON body of exactly `bytes` bytes: `{"title":"xxx…"}`. */
export function bodyOfSize(bytes: number): string {
  return JSON.stringify({ title: 'x'.repeat(bytes - '{"title":""}'.length) });
}

export function createNote(t: TestApp, body: Record<string, unknown> = { title: 'A note' }, headers: Headers = {}): Promise<TestResponse> {
  return t.inject({ method: 'POST', url: NOTES_URL, payload: body, headers });
}

export function renameNote(t: TestApp, id: string, title: string, headers: Headers = {}): Promise<TestResponse> {
  return t.inject({ method: 'PATCH', url: `${NOTES_URL}/${id}`, payload: { title }, headers });
}

/** Creates a note and returns its id, failing loudly when the create did not succeed. */
export async function noteId(t: TestApp, title = 'A note', headers: Headers = {}): Promise<string> {
  const response = await createNote(t, { title }, headers);
  if (response.status !== 201) throw new Error(`create note: ${response.status} ${response.text}`);
  return response.body.item.id as string;
}

export function rawJson(
  t: TestApp,
  method: 'POST' | 'PATCH',
  url: string,
  payload: string,
  contentType = 'application/json',
): Promise<TestResponse> {
  return t.inject({ method, url, payload, headers: { 'content-type': contentType } });
}
