import { ProjectionEngine } from '../../src/infrastructure/projections/projection-engine';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * ARCHITECTURE §4: a rebuilt read model equals the live one. Machines, pairings and policies are
 * written through the API (identity and pairing verification disabled: no MCR, no proofs), read back
 * through every list and lookup, then each projection is rebuilt from `$all` and read again.
 */
describe('rebuilding the machines, agent_pairings and policies read models (ARCHITECTURE §4)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: { PEAQOS_MACHINE_IDENTITY_VERIFICATION: 'disabled', PEAQOS_AGENT_PAIRING_VERIFICATION: 'disabled' },
    });
  });
  afterAll(() => t?.close());

  async function post(url: string, payload: object, method: 'POST' | 'PATCH' = 'POST') {
    const response = await t.inject({ method, url: `/api/v1${url}`, payload: payload as Record<string, unknown> });
    expect([200, 201]).toContain(response.status);
    return response.body.item;
  }

  async function snapshot(machineIds: string[]): Promise<unknown> {
    const get = async (url: string) => (await t.inject({ method: 'GET', url: `/api/v1${url}` })).body;
    return {
      machines: await get('/machines?status=active&limit=500'),
      archived: await get('/machines?status=archived&limit=500'),
      policies: await get('/policies?limit=500'),
      pairings: await Promise.all(machineIds.map((id) => get(`/machines/${id}/agent-pairings?limit=500`))),
      each: await Promise.all(machineIds.map((id) => get(`/machines/${id}`))),
    };
  }

  it('gives the same lists and records after a rebuild of each projection', async () => {
    const policy = await post('/policies', {
      name: 'No handoff',
      rules: { requireNativeExecution: true, maxOrderAmount: 5, currency: 'usdt' },
    });
    await post(`/policies/${policy.id}`, { description: 'Edited', rules: { maxOrderAmount: null } }, 'PATCH');
    const machineIds: string[] = [];
    for (let i = 1; i <= 6; i++) {
      const machine = await post('/machines', {
        displayName: `Machine ${i}`,
        ownerId: `owner-${i % 2}`,
        identityRef: `peaqos:machine:${100 + i}`,
        machineType: 'edge-node',
        runtimeProfile: 'linux-docker',
        capabilities: ['gpu', 'gpu', 'camera'],
        labels: { site: `s${i}` },
        policyIds: i % 2 === 0 ? [policy.id] : [],
        skillKeys: ['oracle.price-feed'],
      });
      machineIds.push(machine.id);
      for (let p = 0; p < 2; p++) {
        const pairing = await post(`/machines/${machine.id}/agent-pairings`, {
          agentAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
          agentProvider: 'anthropic',
          agentRole: `role-${p}`,
          delegationPolicy: { perTransactionLimit: 2, currency: 'usdt' },
        });
        if (p === 1) await post(`/machines/${machine.id}/agent-pairings/${pairing.id}`, { status: 'paused', description: 'held' }, 'PATCH');
      }
      await post(`/machines/${machine.id}`, { displayName: `Machine ${i} renamed` }, 'PATCH');
    }
    // Archiving revokes the machine's pairings (follow-up events).
    await post(`/machines/${machineIds[0]}`, { status: 'archived' }, 'PATCH');

    const before = (await snapshot(machineIds)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    // What is compared is not empty: five active machines, one archived, every pairing, the policy.
    expect(before.machines.items).toHaveLength(5);
    expect(before.archived.items).toHaveLength(1);
    expect(before.policies.items).toHaveLength(1);
    expect(before.pairings.flatMap((page: { items: unknown[] }) => page.items)).toHaveLength(12);
    expect(before.pairings[0].items.map((p: { status: string }) => p.status)).toEqual(['revoked', 'revoked']);
    const engine = t.app.get(ProjectionEngine);
    for (const name of ['machines', 'agent_pairings', 'policies']) {
      const { processed } = await engine.rebuild(name);
      expect(processed).toBeGreaterThan(0);
    }
    expect(await snapshot(machineIds)).toEqual(before);
  });
});
