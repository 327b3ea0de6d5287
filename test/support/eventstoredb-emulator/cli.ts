/**
 * Runs the EventStoreDB emulator (a TEST DOUBLE, see README.md) as a process, e.g. to try the
 * orchestrator or `npm run test:eventstoredb` without a server:
 *
 *   npx ts-node --transpile-only test/support/eventstoredb-emulator/cli.ts [--port 2113] [--legacy]
 *
 * It prints the connection string, keeps its data in memory until it exits (SIGINT/SIGTERM), and
 * listens on 127.0.0.1 only. Never use it as a database.
 */
import { EventStoreDbEmulator } from './emulator';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const portArg = args.indexOf('--port');
  const port = portArg >= 0 ? Number(args[portArg + 1]) : 2113;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${args[portArg + 1]}`);
  const legacy = args.includes('--legacy');
  const emulator = await EventStoreDbEmulator.start({ port, batchAppend: !legacy, idempotentPosition: legacy ? 'none' : 'last-event' });
  process.stdout.write(`EventStoreDB emulator (test double) listening: ${emulator.connectionString}\n`);
  const stop = () => {
    void emulator.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // The server's handles are unref'd by nothing: the process stays up until a signal.
  setInterval(() => undefined, 1 << 30);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
