import { Logger } from '@nestjs/common';
import { Worker } from 'node:worker_threads';

/**
 * The worker's whole program (plain JavaScript: it runs the same under ts-node, jest and dist/). It
 * opens its own connection to the database file and answers each message with one PASSIVE checkpoint,
 * which copies WAL frames into the database file without blocking the writer or the readers.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, result });
  } catch (error) {
    parentPort.postMessage({ ok: false, error: String((error && error.message) || error) });
  }
});
`;

export type WalCheckpointerOptions = {
  /** The SQLite database file (in WAL mode). */
  file: string;
  /** Commits after which a checkpoint is asked for. */
  everyCommits: number;
  /** Reported with warnings. */
  name: string;
};

/**
 * Checkpoints a WAL database off the event loop. SQLite's automatic checkpoint runs inside the commit
 * that crosses its threshold: on the connection of the request being answered, copying megabytes into
 * the database file and fsyncing it, which stalled every request behind it for tens of milliseconds
 * (the p99 of the order benchmark). With this, the owning connection keeps a far higher automatic
 * threshold as a safety net only, and reports its commits here; every `everyCommits` commits a worker
 * thread with its own connection runs a PASSIVE checkpoint (one at a time). The worker starts at the
 * first checkpoint, so a short-lived store never starts one. A failed checkpoint is logged and retried
 * at the next threshold; the safety net bounds the WAL meanwhile.
 */
export class WalCheckpointer {
  private readonly logger = new Logger(WalCheckpointer.name);
  private worker: Worker | null = null;
  private commits = 0;
  private running: Promise<void> | null = null;
  private closed = false;
  /** Checkpoints completed (for tests and diagnostics). */
  completed = 0;

  constructor(private readonly options: WalCheckpointerOptions) {}

  /** Called by the owning connection after each commit. */
  committed(): void {
    this.commits += 1;
    if (this.commits >= this.options.everyCommits && !this.running && !this.closed) {
      this.commits = 0;
      void this.checkpoint();
    }
  }

  /** Runs one checkpoint (after the one running, if any); what `committed` does at its threshold. */
  async checkpoint(): Promise<void> {
    while (this.running) await this.running;
    if (this.closed) return;
    const run = this.runOne();
    this.running = run;
    try {
      await run;
    } finally {
      this.running = null;
    }
  }

  private async runOne(): Promise<void> {
    const worker = (this.worker ??= this.startWorker());
    // Referenced while it works: an unreferenced worker would let the process exit under an awaited checkpoint.
    worker.ref();
    const answer = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
      const onExit = () => resolve({ ok: false, error: 'the checkpoint worker stopped' });
      worker.once('exit', onExit);
      worker.once('message', (message: { ok: boolean; error?: string }) => {
        worker.off('exit', onExit);
        resolve(message);
      });
      worker.postMessage('checkpoint');
    });
    worker.unref();
    if (answer.ok) this.completed += 1;
    else this.logger.warn(`WAL checkpoint of ${this.options.name} failed: ${answer.error}`);
  }

  /** Waits for a running checkpoint and stops the worker; call before closing the owning connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.running) await this.running;
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    worker.ref();
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage('close');
    });
  }

  private startWorker(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file: this.options.file },
    });
    worker.unref();
    worker.on('error', (error) => this.logger.warn(`WAL checkpoint worker of ${this.options.name} failed: ${error.message}`));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = null;
    });
    return worker;
  }
}
