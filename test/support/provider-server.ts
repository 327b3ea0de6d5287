import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/** A request as the provider received it: `url` as sent, and its path and query apart. */
export type RecordedRequest = {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
};
export type ProviderHandler = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => void;

/** A JSON answer of `status`. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * A provider on 127.0.0.1 for the HTTP adapters' specs: records each request (body read in full), then
 * lets the test's `handler` answer; `reset()` (after each test) forgets the requests and restores
 * `defaultHandler`.
 */
export class ProviderServer {
  readonly requests: RecordedRequest[] = [];
  handler: ProviderHandler;
  private server: Server | null = null;

  constructor(
    private readonly options: {
      defaultHandler: ProviderHandler;
      /**
       * Whether reset() also closes the open connections: requests a test left unanswered then cannot
       * outlive it, but a client whose pooled keep-alive connection is closed between two tests may fail
       * the next test's request.
       */
      closeConnectionsOnReset: boolean;
    },
  ) {
    this.handler = options.defaultHandler;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://provider');
        const recorded = {
          method: req.method ?? '',
          url: req.url ?? '',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(recorded);
        this.handler(req, res, recorded);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  reset(): void {
    this.requests.length = 0;
    this.handler = this.options.defaultHandler;
    if (this.options.closeConnectionsOnReset) this.server?.closeAllConnections();
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The one request received (fails the test unless there was exactly one). */
  only(): RecordedRequest {
    expect(this.requests).toHaveLength(1);
    return this.requests[0];
  }
}
