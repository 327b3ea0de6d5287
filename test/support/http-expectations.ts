import { TestResponse } from './test-app';

type Location = 'body' | 'query' | 'path' | 'header';

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** §0.7/§0.8: an ErrorResponse with exactly `{ error: { code, message, details? } }`. */
export function expectError(response: TestResponse, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(response.body)).toEqual(['error']);
  expect(typeof response.body.error.message).toBe('string');
  const { details } = response.body.error;
  if (details !== undefined) expect(details).toEqual(expect.any(Object));
  expect(response.headers['x-correlation-id']).toEqual(expect.any(String));
}

/**
 * §0.8: 400 VALIDATION_ERROR whose `details.errors` is non-empty, every entry a `{ location, path,
 * message }`, and containing each expected entry.
 */
export function expectValidationError(response: TestResponse, ...expected: Array<{ location: Location; path: string }>): void {
  expectError(response, 400, 'VALIDATION_ERROR');
  const errors = response.body.error.details?.errors;
  expect(Array.isArray(errors) && errors.length > 0).toBe(true);
  for (const entry of errors) {
    expect(entry).toEqual({
      location: expect.stringMatching(/^(body|query|path|header)$/),
      path: expect.any(String),
      message: expect.any(String),
    });
    expect(entry.message.length).toBeGreaterThan(0);
  }
  for (const want of expected) expect(errors).toContainEqual(expect.objectContaining(want));
}
