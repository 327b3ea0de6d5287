import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectError } from '../support/http-expectations';
import { McrTestServer, newControllerAccount } from '../support/mcr-server';
import { withTestApp } from '../support/test-app';

/**
 * §4.4: a machine without a proof (created while identity verification was `disabled`) fails the
 * active gate with MACHINE_IDENTITY_PROOF_REQUIRED `machine_has_no_proof` once the mode is `required`
 * or `optional` (§1.4 A3), until a proof is added by PATCH. Two apps share one data directory: the
 * second starts after the operator changed the mode.
 */
describe('an active machine without a proof after the identity mode became required (§1.4 A3, §4.4)', () => {
  let mcr: McrTestServer;
  let dir: string;

  beforeAll(async () => {
    mcr = await new McrTestServer().start();
    dir = mkdtempSync(join(tmpdir(), 'peaqos-mode-change-'));
  });
  afterAll(async () => {
    await mcr?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 400 MACHINE_IDENTITY_PROOF_REQUIRED machine_has_no_proof on active-gated endpoints until a proof is added', async () => {
    const env = {
      PEAQOS_MCR_API_URL: mcr.url,
      PEAQOS_SQLITE_PATH: join(dir, 'events.db'),
      PEAQOS_READ_MODEL_PATH: join(dir, 'read-model.db'),
    };
    const device = newControllerAccount();
    const did = mcr.addMachine({ address: device.address, bondStatus: 'bonded', machineId: '7001' });
    let machineId = '';

    await withTestApp({ env: { ...env, PEAQOS_MACHINE_IDENTITY_VERIFICATION: 'disabled' } }, async (t) => {
      const created = await t.inject({
        method: 'POST',
        url: '/api/v1/machines',
        payload: { displayName: 'M', ownerId: 'o', identityRef: did, machineType: 'edge-node', runtimeProfile: 'linux-docker' },
      });
      expect(created.status).toBe(201);
      expect(created.body.item).toMatchObject({ status: 'active', identityProof: null });
      machineId = created.body.item.id;
    });

    const agent = newControllerAccount();
    const challenge = { agentAddress: agent.address, agentProvider: 'anthropic', agentRole: 'buyer' };
    for (const mode of ['required', 'optional']) {
      await withTestApp({ env: { ...env, PEAQOS_MACHINE_IDENTITY_VERIFICATION: mode } }, async (t) => {
        const refused = await t.inject({
          method: 'POST',
          url: `/api/v1/machines/${machineId}/agent-pairings/challenges`,
          payload: challenge,
        });
        expectError(refused, 400, 'MACHINE_IDENTITY_PROOF_REQUIRED');
        expect(refused.body.error.details).toEqual({ reason: 'machine_has_no_proof' });
      });
    }

    await withTestApp({ env }, async (t) => {
      // Adding a proof by PATCH lifts the refusal.
      const issued = await t.inject({ method: 'POST', url: '/api/v1/machine-identity/challenges', payload: { identityRef: did } });
      const signature = await device.signMessage({ message: issued.body.item.message });
      const patched = await t.inject({
        method: 'PATCH',
        url: `/api/v1/machines/${machineId}`,
        payload: { identityProof: { challengeId: issued.body.item.challengeId, signature } },
      });
      expect(patched.status).toBe(200);
      const accepted = await t.inject({
        method: 'POST',
        url: `/api/v1/machines/${machineId}/agent-pairings/challenges`,
        payload: challenge,
      });
      expect(accepted.status).toBe(201);
    });
  });
});
