import { loadConfig, VerificationMode } from '../../config/app-config';
import { Machine, MachineIdentityProof } from '../../domain/machine/machine.decider';
import { DomainError } from '../../domain/shared/domain-error';
import { MachineListFilter, MachinesReadModel, MachineSortKey } from '../ports/machines-read-model.port';
import { McrResolver, McrResult } from '../ports/mcr-resolver.port';
import { MachineGates } from './machine-gates';

const SIGNER = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const OTHER = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';
const DID = `did:peaq:${SIGNER}`;

const PROOF: MachineIdentityProof = {
  method: 'eip191',
  identityRef: DID,
  signerAddress: SIGNER,
  challengeId: 'chl_1',
  verifiedAt: '2026-01-01T00:00:00.000Z',
  challengeExpiresAt: '2026-01-01T00:10:00.000Z',
  controllerAddresses: [SIGNER],
  resolutionSource: 'peaqos-mcr',
};

function machine(overrides: Partial<Machine> = {}): Machine {
  return {
    id: 'mach_1',
    displayName: 'M',
    status: 'active',
    ownerId: 'o',
    identityRef: DID,
    identityProof: PROOF,
    machineType: 'edge',
    runtimeProfile: 'docker',
    capabilities: [],
    labels: {},
    policyIds: [],
    skillKeys: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

class OneMachine implements MachinesReadModel {
  constructor(private readonly record: Machine | undefined) {}
  byId(id: string) {
    return this.record?.id === id ? this.record : undefined;
  }
  page(_filter: MachineListFilter, _after: MachineSortKey | null, _limit: number): Machine[] {
    return this.record ? [this.record] : [];
  }
  nonArchivedReferencingPolicy(): string[] {
    return [];
  }
}

/** An MCR answering one fixed result, counting calls. */
class FixedMcr implements McrResolver {
  calls = 0;
  constructor(private readonly result: McrResult) {}
  resolve(): Promise<McrResult> {
    this.calls++;
    return Promise.resolve(this.result);
  }
}

const resolved = (controllers: string[] = [SIGNER], bondStatus: 'bonded' | 'unbonded' = 'bonded'): McrResult => ({
  ok: true,
  value: { did: DID, bondStatus, controllerAddresses: controllers },
});

function gates(record: Machine | undefined, mcr: McrResolver, mode: VerificationMode = 'required') {
  const loaded = loadConfig({ PEAQOS_MACHINE_IDENTITY_VERIFICATION: mode }, '/tmp');
  if (!loaded.ok) throw new Error('config');
  return new MachineGates(new OneMachine(record), mcr, loaded.config);
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; details: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, details: error.details };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('machine gates (§1.4)', () => {
  describe('existence gate', () => {
    it('E1: an unknown machine is NOT_FOUND machine', () => {
      expect(() => gates(undefined, new FixedMcr(resolved())).existence('mach_x')).toThrow(
        expect.objectContaining({ code: 'NOT_FOUND', details: { entityType: 'machine', id: 'mach_x' } }),
      );
    });
    it('E1: a blocked or archived machine passes', () => {
      expect(gates(machine({ status: 'archived' }), new FixedMcr(resolved([OTHER]))).existence('mach_1').status).toBe('archived');
    });
  });

  describe('read gate', () => {
    it('R3–R4: passes when the signer is still a controller (any case)', async () => {
      await expect(gates(machine(), new FixedMcr(resolved([SIGNER.toLowerCase()]))).read('mach_1')).resolves.toMatchObject({
        id: 'mach_1',
      });
    });

    it('R2: skips MCR for archived machines, machines without a proof, and mode disabled', async () => {
      const mcr = new FixedMcr({ ok: false, failure: { kind: 'not_found' } });
      await gates(machine({ status: 'archived' }), mcr).read('mach_1');
      await gates(machine({ status: 'draft', identityProof: null }), mcr).read('mach_1');
      await gates(machine(), mcr, 'disabled').read('mach_1');
      expect(mcr.calls).toBe(0);
    });

    it('R3: not resolvable is MACHINE_NOT_ACTIVATED mcr_not_found / unsupported_did', async () => {
      expect(await refusal(gates(machine(), new FixedMcr({ ok: false, failure: { kind: 'not_found' } })).read('mach_1'))).toEqual({
        code: 'MACHINE_NOT_ACTIVATED',
        details: { reason: 'mcr_not_found' },
      });
      expect(await refusal(gates(machine(), new FixedMcr({ ok: false, failure: { kind: 'unsupported_did' } })).read('mach_1'))).toEqual({
        code: 'MACHINE_NOT_ACTIVATED',
        details: { reason: 'unsupported_did' },
      });
    });

    it('R3: MCR unavailable is PEAQOS_IDENTITY_UNAVAILABLE, also from readChecks', async () => {
      const mcr = new FixedMcr({ ok: false, failure: { kind: 'unavailable', reason: 'upstream_status', upstreamStatus: 502 } });
      expect(await refusal(gates(machine(), mcr).read('mach_1'))).toEqual({
        code: 'PEAQOS_IDENTITY_UNAVAILABLE',
        details: { reason: 'upstream_status', upstreamStatus: 502 },
      });
      expect(await refusal(gates(machine(), mcr).readChecks(machine()))).toMatchObject({ code: 'PEAQOS_IDENTITY_UNAVAILABLE' });
    });

    it('R4: a signer who is no longer a controller is controller_changed', async () => {
      expect(await refusal(gates(machine(), new FixedMcr(resolved([OTHER]))).read('mach_1'))).toEqual({
        code: 'MACHINE_NOT_ACTIVATED',
        details: { reason: 'controller_changed' },
      });
    });

    it('does not care about the bond', async () => {
      await expect(gates(machine(), new FixedMcr(resolved([SIGNER], 'unbonded'))).read('mach_1')).resolves.toBeDefined();
    });
  });

  describe('active gate', () => {
    it('passes an active, bonded machine whose signer is a controller', async () => {
      await expect(gates(machine(), new FixedMcr(resolved())).active('mach_1')).resolves.toMatchObject({ id: 'mach_1' });
    });

    it.each(['draft', 'degraded', 'blocked', 'archived'] as const)(
      'A2: %s is MACHINE_NOT_ACTIVE with machineId and status',
      async (status) => {
        expect(await refusal(gates(machine({ status }), new FixedMcr(resolved())).active('mach_1'))).toEqual({
          code: 'MACHINE_NOT_ACTIVE',
          details: { machineId: 'mach_1', status },
        });
      },
    );

    it.each(['required', 'optional'] as const)('A3: without a stored proof in %s mode is MACHINE_IDENTITY_PROOF_REQUIRED', async (mode) => {
      expect(await refusal(gates(machine({ identityProof: null }), new FixedMcr(resolved()), mode).active('mach_1'))).toEqual({
        code: 'MACHINE_IDENTITY_PROOF_REQUIRED',
        details: { reason: 'machine_has_no_proof' },
      });
    });

    it('A4: MCR not found and unavailable', async () => {
      expect(await refusal(gates(machine(), new FixedMcr({ ok: false, failure: { kind: 'not_found' } })).active('mach_1'))).toMatchObject({
        code: 'MACHINE_NOT_ACTIVATED',
      });
      const down = new FixedMcr({ ok: false, failure: { kind: 'unavailable', reason: 'timeout' } });
      expect(await refusal(gates(machine(), down).active('mach_1'))).toMatchObject({ code: 'PEAQOS_IDENTITY_UNAVAILABLE' });
    });

    it('A5: controller_changed', async () => {
      expect(await refusal(gates(machine(), new FixedMcr(resolved([OTHER]))).active('mach_1'))).toEqual({
        code: 'MACHINE_NOT_ACTIVATED',
        details: { reason: 'controller_changed' },
      });
    });

    it('A6: not bonded', async () => {
      expect(await refusal(gates(machine(), new FixedMcr(resolved([SIGNER], 'unbonded'))).active('mach_1'))).toEqual({
        code: 'MACHINE_NOT_ACTIVATED',
        details: { reason: 'not_bonded' },
      });
    });

    it('mode disabled: an active machine passes without a proof and without MCR', async () => {
      const mcr = new FixedMcr({ ok: false, failure: { kind: 'not_found' } });
      await expect(gates(machine({ identityProof: null }), mcr, 'disabled').active('mach_1')).resolves.toBeDefined();
      expect(mcr.calls).toBe(0);
    });
  });
});
