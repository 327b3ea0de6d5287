import {
  AttemptResult,
  classifyDispatch,
  httpError,
  judgeAttempt,
  judgeDispatchAttempt,
  MAX_RESPONSE_BYTES,
  mediaType,
  parsePaymentResponseHeader,
  responseOutput,
} from './dispatch-result';

const refused: AttemptResult = { kind: 'connection_failed', detail: 'ECONNREFUSED 10.0.0.1:443' };
const timeout: AttemptResult = { kind: 'timeout', ms: 30000 };
const response = (
  status: number,
  body: Buffer | string = '{"ok":true}',
  contentType: string | null = 'application/json',
): AttemptResult => ({
  kind: 'response',
  status,
  contentType,
  body,
  sizeBytes: Buffer.byteLength(body),
});

/** A dispatch classified as the execute handler does: each attempt judged once, then the verdicts. */
const classify = (attempts: AttemptResult[]) => classifyDispatch(attempts.map(judgeDispatchAttempt));

describe('§8.5.3 dispatch classification', () => {
  it.each<[string, AttemptResult[], 'success' | 'retryable' | 'non_retryable', Array<string | null>, number | null]>([
    ['2xx JSON', [response(200)], 'success', [null], 200],
    ['201 after a connection failure', [refused, response(201)], 'success', ['connection failed: ECONNREFUSED 10.0.0.1:443', null], 201],
    [
      'every candidate failed before reaching its target',
      [refused, refused],
      'retryable',
      Array(2).fill('connection failed: ECONNREFUSED 10.0.0.1:443'),
      null,
    ],
    ['402', [response(402, 'pay')], 'retryable', ['HTTP 402: pay'], 402],
    ['429', [response(429, 'slow down')], 'retryable', ['HTTP 429: slow down'], 429],
    ['503', [refused, response(503, 'down')], 'retryable', ['connection failed: ECONNREFUSED 10.0.0.1:443', 'HTTP 503: down'], 503],
    ['timeout after sending', [timeout], 'non_retryable', ['timeout after 30000 ms'], null],
    [
      'timeout after a connection failure',
      [refused, timeout],
      'non_retryable',
      ['connection failed: ECONNREFUSED 10.0.0.1:443', 'timeout after 30000 ms'],
      null,
    ],
    ['400', [response(400, 'bad')], 'non_retryable', ['HTTP 400: bad'], 400],
    ['500', [response(500, 'boom')], 'non_retryable', ['HTTP 500: boom'], 500],
    ['404', [response(404, '')], 'non_retryable', ['HTTP 404: '], 404],
    ['2xx invalid JSON', [response(200, '{nope')], 'non_retryable', ['HTTP 200: {nope'], 200],
  ])('%s → %s', (_label, attempts, classification, errors, providerStatus) => {
    const verdict = classify(attempts);
    expect(verdict.classification).toBe(classification);
    expect(verdict.runs.map((r) => r.error)).toEqual(errors);
    expect(verdict.runs.map((r) => r.runStatus)).toEqual(errors.map((e) => (e === null ? 'succeeded' : 'failed')));
    expect(verdict.providerStatus).toBe(providerStatus);
  });

  it('a 2xx body of exactly 1 MiB succeeds; one byte more is "response too large" (non-retryable)', () => {
    const ok = { ...response(200, 'x', 'text/plain'), sizeBytes: MAX_RESPONSE_BYTES } as AttemptResult;
    const big = { ...response(200, 'x', 'text/plain'), sizeBytes: MAX_RESPONSE_BYTES + 1 } as AttemptResult;
    expect(classify([ok]).classification).toBe('success');
    expect(classify([big])).toEqual({
      classification: 'non_retryable',
      runs: [{ runStatus: 'failed', error: 'response too large', tryNext: false, status: 200 }],
      providerStatus: 200,
    });
  });

  it('a retryable status stays retryable whatever the body size', () => {
    const big = { ...response(503, 'down'), sizeBytes: MAX_RESPONSE_BYTES + 1 } as AttemptResult;
    expect(classify([big]).classification).toBe('retryable');
  });

  it('quotes the first 200 characters of the body (Buffer or string, code points kept whole)', () => {
    const body = '€'.repeat(250);
    expect(httpError(500, body)).toBe(`HTTP 500: ${'€'.repeat(200)}`);
    expect(judgeAttempt(response(500, Buffer.from(body, 'utf8'))).error).toBe(`HTTP 500: ${'€'.repeat(200)}`);
  });

  it('only a connection failure lets the next candidate be tried', () => {
    expect(judgeAttempt(refused).tryNext).toBe(true);
    for (const other of [timeout, response(200), response(503), response(500)]) expect(judgeAttempt(other).tryNext).toBe(false);
    expect(() => classify([response(503), response(200)])).toThrow(TypeError);
    expect(() => classifyDispatch([])).toThrow(TypeError);
  });

  it('judgeAttempt is the run verdict of judgeDispatchAttempt', () => {
    for (const attempt of [refused, timeout, response(200), response(503, 'down'), response(200, '{nope')]) {
      const { runStatus, error, tryNext } = judgeDispatchAttempt(attempt);
      expect(judgeAttempt(attempt)).toEqual({ runStatus, error, tryNext });
    }
    expect(judgeDispatchAttempt(response(201, '{"a":1}'))).toEqual({
      runStatus: 'succeeded',
      error: null,
      tryNext: false,
      status: 201,
      output: { a: 1 },
    });
    expect(judgeDispatchAttempt(refused).status).toBeNull();
  });

  it('parses a JSON body once: classifying reuses the verdicts', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const verdicts = [refused, response(200, '{"a":1}')].map(judgeDispatchAttempt);
      expect(classifyDispatch(verdicts)).toMatchObject({ classification: 'success', output: { a: 1 } });
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
    }
  });

  describe('Outcome.output on success', () => {
    it('application/json → the parsed body (parameters ignored)', () => {
      expect(classify([response(200, '{"a":[1,2]}', 'application/json; charset=utf-8')]).output).toEqual({ a: [1, 2] });
      expect(responseOutput('Application/JSON', Buffer.from('"s"'))).toEqual({ ok: true, value: 's' });
    });

    it('text/* → { contentType, text }', () => {
      expect(classify([response(200, 'hello', 'text/plain; charset=utf-8')]).output).toEqual({
        contentType: 'text/plain; charset=utf-8',
        text: 'hello',
      });
      expect(responseOutput('text/csv', Buffer.from('a,b'))).toEqual({ ok: true, value: { contentType: 'text/csv', text: 'a,b' } });
    });

    it('anything else → { contentType, base64 }', () => {
      const bytes = Buffer.from([0, 1, 2, 255]);
      expect(classify([response(200, bytes, 'image/png')]).output).toEqual({ contentType: 'image/png', base64: 'AAEC/w==' });
      expect(responseOutput(null, 'hi')).toEqual({ ok: true, value: { contentType: 'application/octet-stream', base64: 'aGk=' } });
    });

    it('invalid JSON is not an output', () => {
      expect(responseOutput('application/json', 'nope')).toEqual({ ok: false });
    });

    it('no output unless the dispatch succeeded', () => {
      expect(classify([response(500, '{}')]).output).toBeUndefined();
    });
  });

  it('mediaType lower-cases and drops parameters', () => {
    expect(mediaType(' Text/HTML ; charset=utf-8')).toBe('text/html');
    expect(mediaType(null)).toBe('');
  });

  describe('x402 settlement from payment-response', () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');

    it('reads transaction and network', () => {
      expect(parsePaymentResponseHeader(encode({ success: true, transaction: '0xabc', network: 'base-sepolia' }))).toEqual({
        txHash: '0xabc',
        network: 'base-sepolia',
      });
    });

    it('keeps a partial settlement', () => {
      expect(parsePaymentResponseHeader(encode({ transaction: '0xabc' }))).toEqual({ txHash: '0xabc', network: null });
      expect(parsePaymentResponseHeader(encode({ network: 'base' }))).toEqual({ txHash: null, network: 'base' });
    });

    it.each([
      ['absent', undefined],
      ['null', null],
      ['empty', ''],
      ['not base64 JSON', '%%%'],
      ['a JSON array', encode([1])],
      ['neither member', encode({ success: true })],
      ['non-string members', encode({ transaction: 1, network: false })],
    ])('%s → null', (_label, value) => {
      expect(parsePaymentResponseHeader(value)).toBeNull();
    });
  });
});
