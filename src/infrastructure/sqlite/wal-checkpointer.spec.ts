import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WalCheckpointer } from './wal-checkpointer';

describe('WalCheckpointer', () => {
  let dir: string;
  let file: string;
  let db: Database.Database;
  const checkpointers: WalCheckpointer[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peaqos-checkpointer-'));
    file = path.join(dir, 'data.db');
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    // Only the checkpointer copies frames into the database file.
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  });
  afterEach(async () => {
    for (const c of checkpointers.splice(0)) await c.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  const make = (everyCommits: number, on = file) => {
    const c = new WalCheckpointer({ file: on, everyCommits, name: 'test' });
    checkpointers.push(c);
    return c;
  };
  const write = (rows: number) => {
    const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run('x'.repeat(1000));
    })();
  };
  /** WAL frames not yet copied into the database file, as SQLite reports them. */
  const pendingFrames = () => {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
    return r.log - r.checkpointed;
  };

  it('copies the WAL into the database file from its own connection, off the calling thread', async () => {
    write(2000);
    const before = fs.statSync(file).size;
    const checkpointer = make(1_000_000);
    await checkpointer.checkpoint();
    expect(checkpointer.completed).toBe(1);
    expect(fs.statSync(file).size).toBeGreaterThan(before + 1_000_000);
    expect(pendingFrames()).toBe(0);
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 2000 });
  });

  it('checkpoints once every `everyCommits` commits, one at a time, and starts no worker before', async () => {
    const checkpointer = make(3);
    write(10);
    checkpointer.committed();
    checkpointer.committed();
    await new Promise((r) => setTimeout(r, 50));
    expect(checkpointer.completed).toBe(0);
    expect((checkpointer as unknown as { worker: unknown }).worker).toBeNull();
    checkpointer.committed();
    await checkpointer.checkpoint();
    // The threshold's checkpoint, then the explicit one after it.
    expect(checkpointer.completed).toBe(2);
  });

  it('logs a failed checkpoint and keeps going', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const checkpointer = make(1, path.join(dir, 'missing.db'));
    await checkpointer.checkpoint();
    expect(checkpointer.completed).toBe(0);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('of test'));
    await checkpointer.checkpoint();
    expect(checkpointer.completed).toBe(0);
  });

  it('close waits for a running checkpoint and stops the worker', async () => {
    write(2000);
    const checkpointer = make(1);
    checkpointer.committed();
    await checkpointer.close();
    expect(checkpointer.completed).toBe(1);
    await checkpointer.checkpoint();
    expect(checkpointer.completed).toBe(1);
  });

  it('keeps the process alive while a checkpoint or its close is awaited, and not otherwise', async () => {
    // A child process whose only pending work is an awaited checkpoint, then a close: it must print both.
    const script = `
      const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
      require('ts-node/register/transpile-only');
      const { WalCheckpointer } = require(${JSON.stringify(require.resolve('./wal-checkpointer'))});
      const db = new Database(${JSON.stringify(file)});
      db.pragma('wal_autocheckpoint = 0');
      db.prepare('INSERT INTO t (body) VALUES (?)').run('x');
      const c = new WalCheckpointer({ file: ${JSON.stringify(file)}, everyCommits: 1, name: 'child' });
      c.checkpoint().then(() => { console.log('checkpointed ' + c.completed); return c.close(); }).then(() => console.log('closed'));
    `;
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: path.resolve(__dirname, '../../..'),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out.trim().split('\n')).toEqual(['checkpointed 1', 'closed']);
  });
});
