import { ChildProcess, spawn } from 'node:child_process';
import { pbkdf2Sync } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Chain,
  type Hash,
  type HttpTransport,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from 'viem';
import { HDKey, hdKeyToAccount, type HDAccount } from 'viem/accounts';
import { anvilBinaryPath } from './anvil-binary';

/** anvil's default mnemonic: its accounts are the well-known, funded test accounts (never use them elsewhere). */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export type AnvilOptions = {
  /** Default 31337. */
  chainId?: number;
  /** Interval mining every `blockTime` seconds (anvil `--block-time`). */
  blockTime?: number;
  /** `false` starts anvil with `--no-mining`: transactions wait in the pool until `mine()`. Default true. */
  automine?: boolean;
  /** Funded accounts derived from `ANVIL_MNEMONIC`. Default 10. */
  accounts?: number;
  /** Bound on the whole start-up (spawn, "Listening on", first answered eth_chainId). Default 15 s. */
  startTimeoutMs?: number;
};

export type Anvil = {
  rpcUrl: string;
  /** The anvil process (the real binary, not a wrapper). */
  pid: number;
  chainId: number;
  chain: Chain;
  /** Funded with 10,000 ETH each by anvil. */
  accounts: readonly HDAccount[];
  /** Polls every 50 ms and caches nothing, so block numbers are always fresh. */
  publicClient: PublicClient<HttpTransport, Chain>;
  walletClient(account: Account): WalletClient<HttpTransport, Chain, Account>;
  /** Mines `blocks` blocks at once (anvil_mine), whatever the mining mode. */
  mine(blocks?: number): Promise<void>;
  /** Switches automine on or off (evm_setAutomine). */
  setAutomine(on: boolean): Promise<void>;
  blockNumber(): Promise<bigint>;
  /** Waits (bounded) for a mined receipt; needs automine, interval mining or a `mine()` meanwhile. */
  receipt(hash: Hash, timeoutMs?: number): Promise<TransactionReceipt>;
  /** The last lines anvil printed, for diagnostics. */
  output(): string;
  /** SIGTERM, then SIGKILL after 2 s; idempotent. */
  stop(): Promise<void>;
};

const DEFAULT_CHAIN_ID = 31337;
const LISTENING = /Listening on ([0-9.]+):([0-9]+)/;
const OUTPUT_LIMIT = 16_384;

/**
 * Starts the real anvil binary on 127.0.0.1 with a port chosen by the kernel (`--port 0`; the port is
 * read from anvil's "Listening on" line, so there is no race for a free port), waits until it
 * answers `eth_chainId`, and returns clients for it. Every started anvil is killed by `stop()`, and
 * at the latest when this process exits or is ended by SIGINT/SIGTERM.
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? DEFAULT_CHAIN_ID;
  const accountCount = options.accounts ?? 10;
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--chain-id',
    String(chainId),
    '--mnemonic',
    ANVIL_MNEMONIC,
    '--accounts',
    String(accountCount),
    '--balance',
    '10000',
  ];
  if (options.automine === false) args.push('--no-mining');
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));

  const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let output = '';
  const onOutput = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  // Neither the process nor its pipes keep the event loop alive: a forgotten stop() must not hang jest.
  child.unref();
  (child.stdout as unknown as Socket).unref();
  (child.stderr as unknown as Socket).unref();

  const stop = () => stopChild(child);
  let rpcUrl: string;
  try {
    rpcUrl = await waitUntilListening(child, () => output, startTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }

  const chain = defineChain({
    id: chainId,
    name: 'anvil',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const transport = () => http(rpcUrl, { retryCount: 0, timeout: 10_000 });
  const publicClient = createPublicClient({ chain, transport: transport(), pollingInterval: 50, cacheTime: 0 });
  const testClient = createTestClient({ chain, mode: 'anvil', transport: transport() });
  const accounts = deriveAccounts(ANVIL_MNEMONIC, accountCount);

  return {
    rpcUrl,
    pid: child.pid!,
    chainId,
    chain,
    accounts,
    publicClient,
    walletClient: (account) => createWalletClient({ account, chain, transport: transport(), pollingInterval: 50 }),
    mine: (blocks = 1) => testClient.mine({ blocks }),
    setAutomine: (on) => testClient.setAutomine(on),
    blockNumber: () => publicClient.getBlockNumber({ cacheTime: 0 }),
    receipt: (hash, timeoutMs = 10_000) => publicClient.waitForTransactionReceipt({ hash, timeout: timeoutMs, pollingInterval: 50 }),
    output: () => output,
    stop,
  };
}

/** BIP-39 seed (PBKDF2-SHA512, 2048 rounds) computed once, then BIP-44 m/44'/60'/0'/0/i like anvil. */
function deriveAccounts(mnemonic: string, count: number): HDAccount[] {
  const seed = pbkdf2Sync(mnemonic.normalize('NFKD'), 'mnemonic', 2048, 64, 'sha512');
  const root = HDKey.fromMasterSeed(seed);
  return Array.from({ length: count }, (_, addressIndex) => hdKeyToAccount(root, { addressIndex }));
}

async function waitUntilListening(child: ChildProcess, output: () => string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const failure = (why: string) => new Error(`anvil ${why}; output:\n${output().slice(-2_000)}`);

  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => finish(failure(`did not listen within ${timeoutMs} ms`)), timeoutMs);
    const onData = () => {
      const match = LISTENING.exec(output());
      if (match) finish(null, `http://${match[1]}:${match[2]}`);
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(failure(`exited during start-up (code ${code}, signal ${signal})`));
    const onError = (error: Error) => finish(error);
    function finish(error: Error | null, url?: string) {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      if (error) reject(error);
      else resolve(url!);
    }
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
    onData();
  });

  // The socket is bound when the line is printed; confirm that JSON-RPC answers before handing it out.
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw failure(`did not answer eth_chainId within ${timeoutMs} ms`);
    try {
      const response = await fetch(address, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: AbortSignal.timeout(Math.min(left, 2_000)),
      });
      const body = (await response.json()) as { result?: unknown };
      if (typeof body.result === 'string') return address;
    } catch {
      // not yet
    }
    if (child.exitCode !== null || child.signalCode !== null) throw failure('exited during start-up');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ---- lifetime: every child is killed on stop(), on process exit, and on SIGINT/SIGTERM -------------

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => {
    running.delete(child);
    if (running.size === 0) removeSignalHooks();
  });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers must be synchronous: SIGKILL cannot be refused and needs no waiting.
    process.on('exit', killAllNow);
  }
  installSignalHooks();
}

function killAllNow(): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

const signalHooks: Partial<Record<NodeJS.Signals, () => void>> = {};

function installSignalHooks(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    if (signalHooks[signal]) continue;
    const hook = () => {
      killAllNow();
      removeSignalHooks();
      // Without our hook the default action applies again (or the process's own handlers do).
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    signalHooks[signal] = hook;
    process.on(signal, hook);
  }
}

function removeSignalHooks(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const hook = signalHooks[signal];
    if (hook) process.off(signal, hook);
    delete signalHooks[signal];
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timeout = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms).unref());
  if ((await Promise.race([exited.then(() => true), timeout(2_000, false)])) === false) {
    child.kill('SIGKILL');
    await Promise.race([exited, timeout(2_000, undefined)]);
  }
}
