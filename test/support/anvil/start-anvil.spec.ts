import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { becomes } from '../until';
import { startAnvil } from './start-anvil';

/** True while a process with that pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `script` in a child node process (ts-node) that starts an anvil and prints its pid, and returns
 * that pid and the child.
 */
function childWithAnvil(script: string): Promise<{ anvilPid: number; child: ReturnType<typeof spawn> }> {
  const root = resolve(__dirname, '../../..');
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolvePid, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no pid within 20 s: ${out} ${err}`));
    }, 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /pid=(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolvePid({ anvilPid: Number(match[1]), child });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => {
      if (!/pid=/.test(out)) {
        clearTimeout(timer);
        reject(new Error(`child exited (${code}) before printing the pid: ${err}`));
      }
    });
  });
}

describe('startAnvil (test harness)', () => {
  it('starts the real binary on 127.0.0.1 with the chain id and funded accounts, mines on demand, and stops', async () => {
    const anvil = await startAnvil({ chainId: 4242, automine: false, accounts: 3 });
    try {
      expect(anvil.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await anvil.publicClient.getChainId()).toBe(4242);
      expect(anvil.accounts.map((a) => a.address)).toEqual([
        '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
        '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
        '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
      ]);
      expect(await anvil.publicClient.getBalance({ address: anvil.accounts[2].address })).toBe(10_000n * 10n ** 18n);

      // No mining: a transaction waits in the pool until mine().
      const hash = await anvil.walletClient(anvil.accounts[0]).sendTransaction({ to: anvil.accounts[1].address, value: 1n });
      expect(await anvil.blockNumber()).toBe(0n);
      await anvil.mine(3);
      expect(await anvil.blockNumber()).toBe(3n);
      expect((await anvil.receipt(hash)).blockNumber).toBe(1n);

      await anvil.setAutomine(true);
      const mined = await anvil.walletClient(anvil.accounts[0]).sendTransaction({ to: anvil.accounts[1].address, value: 1n });
      expect((await anvil.receipt(mined)).blockNumber).toBe(4n);
    } finally {
      await anvil.stop();
    }
    expect(alive(anvil.pid)).toBe(false);
    await anvil.stop(); // idempotent
  }, 20_000);

  it('mines on an interval with blockTime', async () => {
    const anvil = await startAnvil({ blockTime: 1, accounts: 1 });
    try {
      const start = await anvil.blockNumber();
      await new Promise((r) => setTimeout(r, 1_300));
      expect(await anvil.blockNumber()).toBeGreaterThan(start);
    } finally {
      await anvil.stop();
    }
  }, 20_000);

  it('fails start-up within its bound when the binary does not start a node', async () => {
    const previous = process.env.ANVIL_BIN;
    process.env.ANVIL_BIN = '/bin/true';
    try {
      await expect(startAnvil({ startTimeoutMs: 3_000 })).rejects.toThrow(/exited during start-up/);
    } finally {
      if (previous === undefined) delete process.env.ANVIL_BIN;
      else process.env.ANVIL_BIN = previous;
    }
  });

  it('kills anvil when the process that started it exits without stop()', async () => {
    const { anvilPid, child } = await childWithAnvil(
      "require('./test/support/anvil').startAnvil({ accounts: 1 }).then((a) => { console.log('pid=' + a.pid); setTimeout(() => process.exit(0), 50); })",
    );
    expect(await becomes(() => child.exitCode !== null, { intervalMs: 25 })).toBe(true);
    expect(await becomes(() => !alive(anvilPid), { intervalMs: 25 })).toBe(true);
  }, 30_000);

  it('kills anvil when the process that started it gets SIGTERM', async () => {
    const { anvilPid, child } = await childWithAnvil(
      "require('./test/support/anvil').startAnvil({ accounts: 1 }).then((a) => { console.log('pid=' + a.pid); setInterval(() => {}, 1000); })",
    );
    expect(alive(anvilPid)).toBe(true);
    child.kill('SIGTERM');
    expect(await becomes(() => child.exitCode !== null || child.signalCode !== null, { intervalMs: 25 })).toBe(true);
    expect(child.signalCode).toBe('SIGTERM');
    expect(await becomes(() => !alive(anvilPid), { intervalMs: 25 })).toBe(true);
  }, 30_000);
});
