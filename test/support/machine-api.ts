import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrivateKeyAccount } from 'viem/accounts';
import type { MachineIdentityChallenge } from '../../src/domain/identity-challenge/identity-challenge.decider';
import type { Machine } from '../../src/domain/machine/machine.decider';
import { expectError } from './http-expectations';
import type { Clock } from '../../src/application/ports/clock.port';
import { McrTestServer, newControllerAccount } from './mcr-server';
import { startTestApp, TestApp, TestAppOverrides, TestResponse } from './test-app';

/** Helpers for the machine e2e suites (§4): fresh MCR devices, real EIP-191 proofs, the four machine routes. */

export const MACHINES_URL = '/api/v1/machines';
export const CHALLENGES_URL = '/api/v1/machine-identity/challenges';
export const MACHINE_ID = /^mach_[0-9A-HJKMNP-TV-Z]{26}$/;
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Well-formed, never issued. */
export const UNKNOWN_MACHINE_ID = 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
/** Well-formed, never issued. */
export const UNKNOWN_CHALLENGE_ID = 'chl_01JD8Y6K3W5T2Q9R7M4N0P1B2C';

/** §4.1 `Machine`: exactly these members. */
const MACHINE_MEMBERS = [
  'id',
  'displayName',
  'status',
  'ownerId',
  'identityRef',
  'identityProof',
  'machineType',
  'runtimeProfile',
  'capabilities',
  'labels',
  'policyIds',
  'skillKeys',
  'createdAt',
  'updatedAt',
].sort();

/** §4.1 `identityProof`: exactly these members. */
const PROOF_MEMBERS = [
  'method',
  'identityRef',
  'signerAddress',
  'challengeId',
  'verifiedAt',
  'challengeExpiresAt',
  'controllerAddresses',
  'resolutionSource',
].sort();

/** §4.1 `Machine` and `MachineIdentityProof` as the API returns them. */
export type MachineItem = Machine;

export type ProofInput = { challengeId: string; signature: string };

/** A device known to the MCR test server. */
export type Identity = {
  /** The DID's own key (always a controller). */
  key: PrivateKeyAccount;
  /** `did:peaq:` + EIP-55 address. */
  did: string;
  /** The DID with lower-case hex: the same identity before normalisation. */
  lowerDid: string;
  onChainId: string;
  /** `peaqos:machine:<onChainId>`: the same device in its other form. */
  machineRef: string;
  /** The MCR operator's key, when the device was made with one (a second controller). */
  operator?: PrivateKeyAccount;
};

type Headers = Record<string, string>;

let nextOnChainId = 1;

/** The four machine routes and the challenge route of one test app, plus devices on one MCR test server. */
export class MachineApi {
  constructor(
    readonly t: TestApp,
    readonly mcr: McrTestServer,
  ) {}

  /** A fresh device: bonded unless told otherwise, with an MCR operator when asked. */
  identity(options: { bondStatus?: string; withOperator?: boolean } = {}): Identity {
    const key = newControllerAccount();
    const operator = options.withOperator ? newControllerAccount() : undefined;
    const onChainId = String(1000 + nextOnChainId++);
    const did = this.mcr.addMachine({
      address: key.address,
      bondStatus: options.bondStatus ?? 'bonded',
      operator: operator?.address,
      machineId: onChainId,
    });
    return { key, did, lowerDid: `did:peaq:${key.address.toLowerCase()}`, onChainId, machineRef: `peaqos:machine:${onChainId}`, operator };
  }

  /** `POST /machine-identity/challenges`, failing loudly unless it answers 201. */
  async challenge(identityRef: string): Promise<MachineIdentityChallenge> {
    const response = await this.t.inject({ method: 'POST', url: CHALLENGES_URL, payload: { identityRef } });
    if (response.status !== 201) throw new Error(`challenge for ${identityRef}: ${response.status} ${response.text}`);
    return response.body.item as MachineIdentityChallenge;
  }

  /** A fresh challenge for `identityRef`, signed with EIP-191 by `signer`. */
  async proof(identityRef: string, signer: PrivateKeyAccount): Promise<ProofInput> {
    const challenge = await this.challenge(identityRef);
    return { challengeId: challenge.challengeId, signature: await signer.signMessage({ message: challenge.message }) };
  }

  /** A valid `CreateMachineRequest` without proof. */
  body(identityRef: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      displayName: 'Edge node',
      ownerId: 'owner-1',
      identityRef,
      machineType: 'edge-node',
      runtimeProfile: 'linux-docker',
      ...overrides,
    };
  }

  create(body: unknown, headers: Headers = {}): Promise<TestResponse> {
    return this.t.inject({ method: 'POST', url: MACHINES_URL, payload: body as Record<string, unknown>, headers });
  }

  update(id: string, body: unknown, headers: Headers = {}): Promise<TestResponse> {
    return this.t.inject({ method: 'PATCH', url: `${MACHINES_URL}/${id}`, payload: body as Record<string, unknown>, headers });
  }

  read(id: string, headers: Headers = {}): Promise<TestResponse> {
    return this.t.inject({ method: 'GET', url: `${MACHINES_URL}/${id}`, headers });
  }

  list(query: Record<string, string | undefined> = {}, headers: Headers = {}): Promise<TestResponse> {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    return this.t.inject({ method: 'GET', url: `${MACHINES_URL}${params.size ? `?${params}` : ''}`, headers });
  }

  /**
   * Registers `identity` (in the form `identityRef`, default its DID) with a fresh proof by `signer`
   * (default the DID's key); fails loudly unless it answers 201.
   */
  async register(
    identity: Identity,
    overrides: Record<string, unknown> = {},
    options: { identityRef?: string; signer?: PrivateKeyAccount } = {},
  ): Promise<MachineItem> {
    const identityRef = options.identityRef ?? identity.did;
    const identityProof = await this.proof(identityRef, options.signer ?? identity.key);
    const response = await this.create(this.body(identityRef, { identityProof, ...overrides }));
    if (response.status !== 201) throw new Error(`register ${identityRef}: ${response.status} ${response.text}`);
    return response.body.item as MachineItem;
  }

  /** PATCH with a fresh proof for the machine's identity (required mode needs one on every PATCH). */
  async patch(
    machine: Pick<MachineItem, 'id' | 'identityRef'>,
    identity: Identity,
    body: Record<string, unknown>,
    signer?: PrivateKeyAccount,
  ): Promise<TestResponse> {
    const identityProof = await this.proof(machine.identityRef, signer ?? identity.key);
    return this.update(machine.id, { ...body, identityProof });
  }

  /** Follows `nextCursor` (from `query.cursor`, if given) until it is absent (§0.10), bounded so a broken cursor cannot loop forever. */
  async walk(query: Record<string, string | undefined>): Promise<TestResponse[]> {
    const pages: TestResponse[] = [];
    let cursor = query.cursor;
    do {
      const page = await this.list({ ...query, cursor });
      expect(page.status).toBe(200);
      pages.push(page);
      cursor = page.body.nextCursor;
    } while (cursor !== undefined && pages.length < 50);
    expect(cursor).toBeUndefined();
    return pages;
  }

  /** Events of the machine's audit stream, in order. */
  async machineEvents(id: string) {
    return (await this.t.storedEvents()).filter((e) => e.streamId === `machine-${id}`);
  }

  async challengeEvents(challengeId: string) {
    return (await this.t.storedEvents()).filter((e) => e.streamId === `machine-identity-challenge-${challengeId}`);
  }
}

/** Short enough that a `slow` MCR answer times out quickly (the minimum is 100). */
export const MCR_TIMEOUT_MS = 300;
export const CHALLENGE_TTL_MS = 60_000;

/** The required-mode suites: the default verification mode, no MCR cache (every read asks MCR), a clock the test moves. */
export function requiredModeOverrides(clock: Clock): TestAppOverrides {
  return {
    clock,
    env: {
      PEAQOS_MCR_TIMEOUT_MS: String(MCR_TIMEOUT_MS),
      PEAQOS_MCR_CACHE_TTL_MS: '0',
      PEAQOS_MACHINE_IDENTITY_CHALLENGE_TTL_MS: String(CHALLENGE_TTL_MS),
    },
  };
}

export type MachineApp = { t: TestApp; mcr: McrTestServer; api: MachineApi };

/**
 * For the enclosing describe: an MCR test server and an app wired to it (`PEAQOS_MCR_API_URL`), handed
 * to `bind` once started; both are stopped after the describe.
 */
export function useMachineApp(overrides: TestAppOverrides, bind: (app: MachineApp) => void): void {
  let app: Partial<MachineApp> = {};
  beforeAll(async () => {
    const mcr = await new McrTestServer().start();
    app = { mcr };
    const t = await startTestApp({ ...overrides, env: { PEAQOS_MCR_API_URL: mcr.url, ...overrides.env } });
    app = { mcr, t, api: new MachineApi(t, mcr) };
    bind(app as MachineApp);
  });
  afterAll(async () => {
    await app.t?.close();
    await app.mcr?.stop();
  });
}

/** The ids of every item of the pages, in order. */
export function idsOf(pages: TestResponse[]): string[] {
  return pages.flatMap((p) => p.body.items.map((i: { id: string }) => i.id));
}

/** Runs `request` and asserts it appended no (non-internal) event. */
export async function withoutEvents(t: TestApp, request: () => Promise<TestResponse>): Promise<TestResponse> {
  const before = (await t.storedEvents()).length;
  const response = await request();
  expect(await t.storedEvents()).toHaveLength(before);
  return response;
}

/** 403 MACHINE_IDENTITY_PROOF_INVALID with `details.reason` (other detail members are allowed). */
export function expectProofInvalid(response: TestResponse, reason: string): void {
  expectError(response, 403, 'MACHINE_IDENTITY_PROOF_INVALID');
  expect(response.body.error.details).toEqual(expect.objectContaining({ reason }));
}

/** §4.1: a `Machine` with exactly the documented members, a `mach_` id, ISO timestamps and a full or null proof. */
export function expectMachineShape(item: MachineItem): void {
  expect(Object.keys(item).sort()).toEqual(MACHINE_MEMBERS);
  expect(item.id).toMatch(MACHINE_ID);
  expect(item.createdAt).toMatch(ISO_MS);
  expect(item.updatedAt).toMatch(ISO_MS);
  for (const list of [item.capabilities, item.skillKeys, item.policyIds]) expect(Array.isArray(list)).toBe(true);
  expect(item.labels).toEqual(expect.any(Object));
  if (item.identityProof !== null) {
    expect(Object.keys(item.identityProof).sort()).toEqual(PROOF_MEMBERS);
    expect(item.identityProof.method).toBe('eip191');
    expect(item.identityProof.resolutionSource).toBe('peaqos-mcr');
    expect(item.identityProof.verifiedAt).toMatch(ISO_MS);
    expect(item.identityProof.challengeExpiresAt).toMatch(ISO_MS);
  }
}

/** The `identityProof` a successful write with `challenge`, signed by `signer`, must leave (§4.5.3). */
export function expectedProof(
  challenge: MachineIdentityChallenge,
  signer: string,
  verifiedAt: string | RegExp = ISO_MS,
): Record<string, unknown> {
  return {
    method: 'eip191',
    identityRef: challenge.identityRef,
    signerAddress: signer,
    challengeId: challenge.challengeId,
    verifiedAt: typeof verifiedAt === 'string' ? verifiedAt : expect.stringMatching(verifiedAt),
    challengeExpiresAt: challenge.expiresAt,
    controllerAddresses: challenge.controllerAddresses,
    resolutionSource: 'peaqos-mcr',
  };
}

/** The same 65-byte signature with another recovery byte `v`. */
export function withV(signature: string, v: number): string {
  return signature.slice(0, 130) + v.toString(16).padStart(2, '0');
}

/** §9: lower-case SHA-256 hex of the signature string in lower case. */
export function signatureFingerprint(signature: string): string {
  return createHash('sha256').update(signature.toLowerCase(), 'utf8').digest('hex');
}

/** Every file in the app's data directory (SQLite files with their -wal/-shm/-journal), as latin1 text. */
export function dataFilesText(t: TestApp): string {
  return readdirSync(t.paths.dir)
    .map((name) => readFileSync(join(t.paths.dir, name)).toString('latin1'))
    .join('\n');
}
