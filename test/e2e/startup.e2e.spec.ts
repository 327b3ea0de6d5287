import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { minimalCatalogFile, writeCatalogFile } from '../support/catalog-fixture';

const ROOT = resolve(__dirname, '../..');
/** Generous: ts-node start-up on a loaded two-core machine can take many seconds. */
const EXIT_TIMEOUT_MS = 45_000;
/** Processes started at once by the invalid-configuration cases. */
const PARALLEL_STARTS = 3;

type Exit = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

const children = new Set<ChildProcess>();
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'peaqos-startup-'));
  dirs.push(dir);
  return dir;
}

type Main = { child: ChildProcess; exited: Promise<Exit>; output: () => Exit };

/** `src/main.ts` as an operator runs it, with only the given environment (plus PATH and HOME). */
function startMain(env: Record<string, string>): Main {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // 'close' comes after 'exit' and after the pipes are drained, so the output is complete.
  const exited = new Promise<Exit>((resolveExit) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolveExit({ code, signal, stdout, stderr });
    }),
  );
  return { child, exited, output: () => ({ code: child.exitCode, signal: child.signalCode, stdout, stderr }) };
}

/** The exit of `main`, killing it when it takes longer than `ms`. */
async function exitWithin(main: Main, ms: number): Promise<Exit> {
  const timer = setTimeout(() => main.child.kill('SIGKILL'), ms);
  try {
    return await main.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** A port nothing listens on right now: bind 127.0.0.1:0, read the port, close. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForStatus(url: string, status: number, deadline: number): Promise<Response> {
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.status === status) return response;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('§2.1 invalid configuration is fatal', () => {
  const storePaths = () => {
    const dir = tempDir();
    return { PEAQOS_SQLITE_PATH: join(dir, 'events.db'), PEAQOS_READ_MODEL_PATH: join(dir, 'read-model.db') };
  };
  /** A path below a regular file cannot be created. */
  const unwritablePath = () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');
    return join(file, 'db', 'x.db');
  };
  const SECRET = 'a-session-secret-of-forty-bytes-0123456';

  const cases: Array<{ name: string; env: () => Record<string, string>; variables: string[] }> = [
    { name: 'a non-integer port', env: () => ({ PEAQOS_PORT: 'abc' }), variables: ['PEAQOS_PORT'] },
    { name: 'port 0 (outside 1..65535)', env: () => ({ PEAQOS_PORT: '0' }), variables: ['PEAQOS_PORT'] },
    { name: 'API-key auth without keys', env: () => ({ PEAQOS_REQUIRE_API_AUTH: 'true' }), variables: ['PEAQOS_API_KEYS'] },
    { name: 'a boolean that is not true/false', env: () => ({ PEAQOS_REQUIRE_API_AUTH: 'yes' }), variables: ['PEAQOS_REQUIRE_API_AUTH'] },
    {
      name: 'production without a session secret',
      env: () => ({ NODE_ENV: 'production' }),
      variables: ['PEAQOS_AGENT_PAIRING_SESSION_SECRET'],
    },
    {
      name: 'a session secret shorter than 32 bytes',
      env: () => ({ PEAQOS_AGENT_PAIRING_SESSION_SECRET: 'x'.repeat(31) }),
      variables: ['PEAQOS_AGENT_PAIRING_SESSION_SECRET'],
    },
    {
      name: 'several invalid variables (one line each)',
      env: () => ({ PEAQOS_PORT: '70000', PEAQOS_MCR_API_URL: 'ftp://mcr.example', PEAQOS_API_KEY: 'too-short' }),
      variables: ['PEAQOS_PORT', 'PEAQOS_API_KEY', 'PEAQOS_MCR_API_URL'],
    },
    {
      name: 'an event store file that cannot be opened (§2.4)',
      env: () => ({ PEAQOS_AGENT_PAIRING_SESSION_SECRET: SECRET, PEAQOS_SQLITE_PATH: unwritablePath() }),
      variables: ['PEAQOS_SQLITE_PATH'],
    },
    {
      name: 'a read-model file that cannot be opened (§2.4)',
      env: () => ({ PEAQOS_AGENT_PAIRING_SESSION_SECRET: SECRET, PEAQOS_READ_MODEL_PATH: unwritablePath() }),
      variables: ['PEAQOS_READ_MODEL_PATH'],
    },
    {
      name: 'a catalogue file that does not exist (§2.4)',
      env: () => ({ PEAQOS_AGENT_PAIRING_SESSION_SECRET: SECRET, PEAQOS_CATALOG_PATH: join(tempDir(), 'missing.json') }),
      variables: ['PEAQOS_CATALOG_PATH'],
    },
    {
      name: 'a catalogue file that is not JSON (§2.4)',
      env: () => ({ PEAQOS_AGENT_PAIRING_SESSION_SECRET: SECRET, PEAQOS_CATALOG_PATH: writeCatalogFile(tempDir(), '{"version": 1,') }),
      variables: ['PEAQOS_CATALOG_PATH'],
    },
    {
      name: 'a catalogue file that fails validation (§2.4, §2.5)',
      env: () => {
        const file = minimalCatalogFile();
        file.services[0].payment.defaultRail = 'card';
        file.services[0].operationContracts = [];
        return { PEAQOS_AGENT_PAIRING_SESSION_SECRET: SECRET, PEAQOS_CATALOG_PATH: writeCatalogFile(tempDir(), file) };
      },
      variables: ['PEAQOS_CATALOG_PATH'],
    },
  ];
  const results = new Map<string, Exit>();

  beforeAll(async () => {
    // A few at a time: each is a separate process, and ts-node start-up dominates the time.
    const queue = [...cases];
    const worker = async () => {
      for (let c = queue.shift(); c; c = queue.shift())
        results.set(c.name, await exitWithin(startMain({ ...storePaths(), ...c.env() }), EXIT_TIMEOUT_MS));
    };
    await Promise.all(Array.from({ length: PARALLEL_STARTS }, worker));
  }, 240_000);

  it.each(cases)('$name: exit status 1 and "Invalid configuration: <VAR>: …" on stderr', ({ name, variables }) => {
    const exit = results.get(name)!;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 1, signal: null });
    const lines = exit.stderr.split('\n').filter((line) => line.startsWith('Invalid configuration: '));
    expect(lines.map((line) => /^Invalid configuration: ([A-Z_]+): .+$/.exec(line)?.[1]).sort()).toEqual([...variables].sort());
    expect(exit.stdout).not.toMatch(/listening/);
  });

  it('names the broken rules of a catalogue file with their JSON paths', () => {
    const { stderr } = results.get('a catalogue file that fails validation (§2.4, §2.5)')!;
    const line = stderr.split('\n').find((l) => l.startsWith('Invalid configuration: PEAQOS_CATALOG_PATH: '));
    expect(line).toContain('2 violations');
    expect(line).toContain('$.services[0].payment.defaultRail');
    expect(line).toContain('$.services[0].operationContracts has no contract for operation "get-price"');
  });

  it('writes nothing but the "Invalid configuration" lines when the environment itself is invalid', () => {
    for (const c of cases.filter((x) => !x.name.includes('§2.4'))) {
      const { stderr } = results.get(c.name)!;
      expect(
        stderr
          .trimEnd()
          .split('\n')
          .every((line) => line.startsWith('Invalid configuration: ')),
      ).toBe(true);
    }
  });
});

describe('src/main.ts with a valid configuration', () => {
  let main: Main;
  let base: string;

  beforeAll(async () => {
    const dir = tempDir();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    main = startMain({
      PEAQOS_HOST: '127.0.0.1',
      PEAQOS_PORT: String(port),
      PEAQOS_SQLITE_PATH: join(dir, 'data', 'events.db'),
      PEAQOS_READ_MODEL_PATH: join(dir, 'data', 'read-model.db'),
    });
    await Promise.race([
      waitForStatus(`${base}/health`, 200, Date.now() + EXIT_TIMEOUT_MS),
      main.exited.then((exit) => Promise.reject(new Error(`main.ts exited early: ${JSON.stringify(exit)}`))),
    ]);
  }, EXIT_TIMEOUT_MS + 5_000);

  afterAll(async () => {
    if (main.child.exitCode === null && main.child.signalCode === null) main.child.kill('SIGKILL');
  });

  it('serves GET /health with 200 {"ok":true}', async () => {
    const response = await fetch(`${base}/health`);
    expect({ status: response.status, body: await response.text() }).toEqual({ status: 200, body: '{"ok":true}' });
  });

  it('serves GET /api/v1/readiness with 200, its auth check warning about the ephemeral secret', async () => {
    const response = await waitForStatus(`${base}/api/v1/readiness`, 200, Date.now() + 5_000);
    const body = (await response.json()) as { status: string; checks: Array<{ name: string; status: string }> };
    expect(body.status).toBe('degraded');
    expect(body.checks.find((c) => c.name === 'auth')?.status).toBe('warn');
  });

  it('logged a warning naming PEAQOS_AGENT_PAIRING_SESSION_SECRET (§2.3)', () => {
    expect(main.output().stderr).toContain('PEAQOS_AGENT_PAIRING_SESSION_SECRET');
  });

  it(
    'stops on SIGTERM',
    async () => {
      main.child.kill('SIGTERM');
      const exit = await main.exited;
      // Nest's shutdown hooks close the app, then re-raise the signal.
      expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
      await expect(fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
    },
    EXIT_TIMEOUT_MS + 5_000,
  );
});
