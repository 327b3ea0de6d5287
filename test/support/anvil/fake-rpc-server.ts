import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RpcRequest = { jsonrpc?: string; id?: unknown; method: string; params?: unknown[] };

/** What the fake answers: an HTTP reply, or `'hang'` (never answers; the connection stays open). */
export type FakeReply = { status?: number; contentType?: string; body: string } | 'hang';

export type FakeRpcServer = {
  url: string;
  /** Every JSON-RPC method received, in order. */
  methods: string[];
  /** Closes the server and every open connection (hanging ones included). */
  close(): Promise<void>;
};

/** A JSON-RPC 2.0 success reply for `request` with `result`. */
export function rpcResult(request: RpcRequest, result: unknown): FakeReply {
  return { body: JSON.stringify({ jsonrpc: '2.0', id: request.id ?? null, result }) };
}

/** Forwards the request to a real JSON-RPC endpoint and returns its parsed JSON reply. */
export async function forwardRpc(upstream: string, request: RpcRequest): Promise<{ result?: unknown; error?: unknown }> {
  const response = await fetch(upstream, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: request.id ?? 1, method: request.method, params: request.params ?? [] }),
    signal: AbortSignal.timeout(5_000),
  });
  return (await response.json()) as { result?: unknown; error?: unknown };
}

/**
 * A tiny JSON-RPC-over-HTTP server on 127.0.0.1 (kernel-chosen port) whose answers the test writes:
 * garbage, errors, hangs, or a real node's answer rewritten. A request body that is not a single
 * JSON-RPC object gets HTTP 400.
 */
export async function startFakeRpc(handler: (request: RpcRequest) => FakeReply | Promise<FakeReply>): Promise<FakeRpcServer> {
  const methods: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      let request: RpcRequest;
      try {
        request = JSON.parse(await readBody(req)) as RpcRequest;
        if (typeof request?.method !== 'string') throw new Error('not a JSON-RPC request');
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request');
        return;
      }
      methods.push(request.method);
      let reply: FakeReply;
      try {
        reply = await handler(request);
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
        return;
      }
      if (reply === 'hang') return;
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json' }).end(reply.body);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    methods,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A 127.0.0.1 URL on which nothing listens (a port the kernel handed out and that was closed again). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
