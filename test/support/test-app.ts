import { Provider } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { Clock } from '../../src/application/ports/clock.port';
import { EVENT_STORE, EventStore, isInternalStream, StoredEvent } from '../../src/application/ports/event-store.port';
import { formatConfigErrors, loadConfig } from '../../src/config/app-config';
import { createApp } from '../../src/http/app-factory';
import { SqliteEventStore } from '../../src/infrastructure/event-store/sqlite/sqlite-event-store';
import { JsonLogger, logLevels } from '../../src/infrastructure/logging/json-logger';
import { ProbeModule, probeNotesProjection } from './probe/probe.module';

/** 48 bytes: comfortably above the 32-byte minimum of §2.3. */
export const TEST_SESSION_SECRET = 'e2e-session-secret-0123456789abcdef-0123456789ab';

export type TestRequest = Pick<InjectOptions, 'method' | 'url' | 'headers' | 'payload' | 'query'>;

export type TestResponse = {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  /** The raw response body. */
  text: string;
  /** The parsed JSON body; `undefined` when the body is empty or not JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted on, not typed
  body: any;
};

export type TestApp = {
  app: NestFastifyApplication;
  /** One request through the whole Fastify + Nest stack, without a socket. */
  inject(request: TestRequest): Promise<TestResponse>;
  /** `http://127.0.0.1:<port>` when started with `listen: true`, else null. */
  url: string | null;
  paths: { dir: string; sqlite: string; readModel: string };
  /** Every stored event in global order; internal streams (`_…`, `$…`) only when asked for. */
  storedEvents(options?: { includeInternal?: boolean }): Promise<StoredEvent[]>;
  /** Closes the app (and with it the stores) and removes the temp directory. */
  close(): Promise<void>;
};

export type TestAppOverrides = {
  env?: Record<string, string>;
  clock?: Clock;
  listen?: boolean;
  /** Wraps the app's event store (a SQLite file in the temp dir), e.g. to inject faults or races. */
  wrapEventStore?: (store: EventStore) => EventStore;
  /** Replacements for query ports (AppModule `overrides`), e.g. open orders before orders exist. */
  providers?: Provider[];
};

/**
 * The real application (createApp, as main.ts builds it) with the probe feature mounted, SQLite files
 * in a fresh temp directory and a silent logger.
 */
export async function startTestApp(overrides: TestAppOverrides = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'peaqos-e2e-'));
  const paths = { dir, sqlite: join(dir, 'events.db'), readModel: join(dir, 'read-model.db') };
  const removeDir = () => rmSync(dir, { recursive: true, force: true });

  const loaded = loadConfig(
    {
      PEAQOS_SQLITE_PATH: paths.sqlite,
      PEAQOS_READ_MODEL_PATH: paths.readModel,
      PEAQOS_AGENT_PAIRING_SESSION_SECRET: TEST_SESSION_SECRET,
      ...overrides.env,
    },
    dir,
  );
  if (!loaded.ok) {
    removeDir();
    throw new Error(`startTestApp: invalid test configuration\n${formatConfigErrors(loaded.errors)}`);
  }

  let app: NestFastifyApplication;
  try {
    app = await createApp({
      config: loaded.config,
      logger: new JsonLogger(logLevels('silent')),
      clock: overrides.clock,
      eventStore: overrides.wrapEventStore?.(new SqliteEventStore({ path: paths.sqlite })),
      imports: [ProbeModule],
      projections: [probeNotesProjection],
      overrides: overrides.providers,
    });
  } catch (error) {
    removeDir();
    throw error;
  }

  let url: string | null = null;
  if (overrides.listen) {
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    url = `http://127.0.0.1:${port}`;
  }

  let closed = false;
  return {
    app,
    url,
    paths,
    async inject(request) {
      const response = await app.inject(request);
      return { status: response.statusCode, headers: response.headers, text: response.body, body: parseJson(response.body) };
    },
    async storedEvents({ includeInternal = false } = {}) {
      const events = await app.get<EventStore>(EVENT_STORE).readAll();
      return includeInternal ? events : events.filter((e) => !isInternalStream(e.streamId));
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await app.close();
        // A store handed in by the test is not closed by the app.
        if (overrides.wrapEventStore) await app.get<EventStore>(EVENT_STORE).close();
      } finally {
        removeDir();
      }
    },
  };
}

/** The app with `x-api-key: key` on every request that does not set its own (§1.1); nothing else changes. */
export function withApiKey(t: TestApp, key: string): TestApp {
  return { ...t, inject: (request) => t.inject({ ...request, headers: { 'x-api-key': key, ...request.headers } }) };
}

/** Runs `use` against a fresh test app and always closes it. */
export async function withTestApp<T>(overrides: TestAppOverrides, use: (t: TestApp) => Promise<T>): Promise<T> {
  const t = await startTestApp(overrides);
  try {
    return await use(t);
  } finally {
    await t.close();
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
