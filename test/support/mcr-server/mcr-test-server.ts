import { createServer, IncomingMessage, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { getAddress } from 'viem';
import { generatePrivateKey, PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';

/** A fresh controller key; sign challenges with `account.signMessage({ message })`. */
export function newControllerAccount(): PrivateKeyAccount {
  return privateKeyToAccount(generatePrivateKey());
}

export type McrMachine = {
  /** The DID's address (any case); the DID served is `did:peaq:` + its EIP-55 form. */
  address: string;
  bondStatus: 'bonded' | 'unbonded' | string;
  /** Served verbatim as `peaqos.operator` (an address, a DID or anything else). Omitted: no operator field. */
  operator?: string;
  /** On-chain machine id: also serves `GET /machines/{machineId}` (the Machine Card). */
  machineId?: string;
  /** `false`: `GET /machine/{did}` answers 404 (no peaqOS record, hence no operator). */
  hasMachineRecord?: boolean;
};

/** What a path answers instead of its normal response. */
export type McrBehaviour =
  | { kind: 'unknown' }
  | { kind: 'badRequest' }
  | { kind: 'status'; status: number }
  | { kind: 'slow'; ms: number }
  | { kind: 'garbage' }
  | { kind: 'incomplete' }
  | { kind: 'closeConnection' }
  | { kind: 'json'; body: unknown; status?: number };

export const behaviour = {
  /** 404. */
  unknown: (): McrBehaviour => ({ kind: 'unknown' }),
  /** 400, as MCR answers for some malformed DIDs. */
  badRequest: (): McrBehaviour => ({ kind: 'badRequest' }),
  status: (status: number): McrBehaviour => ({ kind: 'status', status }),
  /** Waits `ms` before the normal answer (use more than the client's timeout). */
  slow: (ms: number): McrBehaviour => ({ kind: 'slow', ms }),
  /** 200 with a body that is not JSON. */
  garbage: (): McrBehaviour => ({ kind: 'garbage' }),
  /** 200 with the normal JSON minus its key field (`did`, `bond_status` or `peaqos`). */
  incomplete: (): McrBehaviour => ({ kind: 'incomplete' }),
  /** The socket is destroyed without an answer. */
  closeConnection: (): McrBehaviour => ({ kind: 'closeConnection' }),
  /** Any JSON body (default status 200). */
  json: (body: unknown, status = 200): McrBehaviour => ({ kind: 'json', body, status }),
};

export type McrRequest = { method: string; path: string; headers: IncomingHttpHeaders };

/**
 * A local stand-in for the peaqOS MCR API (§4.3) on 127.0.0.1 and an ephemeral port. It serves
 * `GET /machines/{id}`, `GET /mcr/{did}` and `GET /machine/{did}` for the machines a test adds.
 */
export class McrTestServer {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly machines = new Map<string, McrMachine>();
  private readonly machineIds = new Map<string, string>();
  private readonly behaviours = new Map<string, McrBehaviour>();
  private readonly log: McrRequest[] = [];
  private port = 0;

  async start(): Promise<this> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Base URL for PEAQOS_MCR_API_URL. */
  get url(): string {
    if (!this.server) throw new Error('McrTestServer is not started');
    return `http://127.0.0.1:${this.port}`;
  }

  /** Adds (or replaces) a machine and returns its DID (`did:peaq:` + EIP-55 address). */
  addMachine(machine: McrMachine): string {
    const did = didOf(machine.address);
    this.machines.set(did, { ...machine });
    if (machine.machineId !== undefined) this.machineIds.set(machine.machineId, did);
    return did;
  }

  /** Changes bond status or operator of a known machine (e.g. to test cache refresh). */
  updateMachine(did: string, changes: Partial<Omit<McrMachine, 'address' | 'machineId'>>): void {
    const machine = this.machines.get(did);
    if (!machine) throw new Error(`McrTestServer: unknown machine ${did}`);
    this.machines.set(did, { ...machine, ...changes });
  }

  removeMachine(did: string): void {
    this.machines.delete(did);
    for (const [id, mapped] of this.machineIds) if (mapped === did) this.machineIds.delete(id);
  }

  /**
   * Overrides the answer for a target: a path (`/mcr/did:peaq:0x…`, `/machines/42`) or a DID, which
   * covers both `/mcr/{did}` and `/machine/{did}`. `null` removes the override.
   */
  behave(target: string, what: McrBehaviour | null): void {
    const paths = target.startsWith('/') ? [target] : [`/mcr/${target}`, `/machine/${target}`];
    for (const path of paths) {
      if (what) this.behaviours.set(path, what);
      else this.behaviours.delete(path);
    }
  }

  /** Every request received, oldest first. */
  get requests(): readonly McrRequest[] {
    return this.log;
  }

  /** How many requests hit `path` (all requests when omitted). */
  count(path?: string): number {
    return path === undefined ? this.log.length : this.log.filter((r) => r.path === path).length;
  }

  clearLog(): void {
    this.log.length = 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    this.log.push({ method: req.method ?? 'GET', path, headers: req.headers });
    const override = this.behaviours.get(path);

    if (override?.kind === 'slow') {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!res.destroyed) this.answer(path, undefined, res);
      }, override.ms);
      this.timers.add(timer);
      return;
    }
    this.answer(path, override, res);
  }

  private answer(path: string, override: McrBehaviour | undefined, res: ServerResponse): void {
    switch (override?.kind) {
      case 'unknown':
        return send(res, 404, { message: 'Not Found' });
      case 'badRequest':
        return send(res, 400, { message: 'Bad Request' });
      case 'status':
        return send(res, override.status, { message: 'Upstream failure' });
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"did": "did:peaq:0x');
        return;
      case 'closeConnection':
        res.socket?.destroy();
        return;
      case 'json':
        return send(res, override.status ?? 200, override.body);
    }
    const normal = this.normalAnswer(path);
    if (!normal) return send(res, 404, { message: 'Not Found' });
    if (override?.kind === 'incomplete') delete normal.body[normal.keyField];
    send(res, 200, normal.body);
  }

  /** The documented response shapes; `keyField` is what `incomplete` leaves out. */
  private normalAnswer(path: string): { body: Record<string, unknown>; keyField: string } | undefined {
    if (path.startsWith('/machines/')) {
      const machineId = path.slice('/machines/'.length);
      const did = this.machineIds.get(machineId);
      if (!did || !this.machines.has(did)) return undefined;
      return { body: { machine_id: machineId, did, name: `machine ${machineId}` }, keyField: 'did' };
    }
    if (path.startsWith('/mcr/')) {
      const did = path.slice('/mcr/'.length);
      const machine = this.machines.get(did);
      if (!machine) return undefined;
      return { body: { did, bond_status: machine.bondStatus, mcr_score: 80, negative_flag: false }, keyField: 'bond_status' };
    }
    if (path.startsWith('/machine/')) {
      const did = path.slice('/machine/'.length);
      const machine = this.machines.get(did);
      if (!machine || machine.hasMachineRecord === false) return undefined;
      const peaqos: Record<string, unknown> = { machine_id: machine.machineId ?? null };
      if (machine.operator !== undefined) peaqos.operator = machine.operator;
      return { body: { did, peaqos }, keyField: 'peaqos' };
    }
    return undefined;
  }
}

function didOf(address: string): string {
  return `did:peaq:${getAddress(address)}`;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
