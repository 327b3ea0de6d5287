import { ControllableClock } from '../support/controllable-clock';
import { expectError } from '../support/http-expectations';
import {
  expectProofInvalid,
  Identity,
  MachineApi,
  MCR_TIMEOUT_MS,
  CHALLENGE_TTL_MS,
  requiredModeOverrides,
  MachineItem,
  ProofInput,
  signatureFingerprint,
  UNKNOWN_CHALLENGE_ID,
  useMachineApp,
  withoutEvents,
  withV,
} from '../support/machine-api';
import { behaviour, McrTestServer, newControllerAccount } from '../support/mcr-server';
import { TestApp, TestResponse } from '../support/test-app';

const T0 = '2026-02-01T12:00:00.000Z';
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The high-s twin of a (low-s) signature: s' = n - s, recovery bit flipped; it recovers the same signer. */
function highS(signature: string): string {
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130), 16);
  return signature.slice(0, 66) + (SECP256K1_N - s).toString(16).padStart(64, '0') + (v === 27 ? '1c' : '1b');
}

describe('machine identity on writes in required mode: proofs, MCR, uniqueness, immutability, activation (§4.2–§4.6.5)', () => {
  const clock = new ControllableClock(T0);
  let mcr: McrTestServer;
  let t: TestApp;
  let api: MachineApi;
  useMachineApp(requiredModeOverrides(clock), (app) => ({ mcr, t, api } = app));

  describe('proof verification (§4.5.3)', () => {
    type Kind = 'POST' | 'PATCH';
    /** A write of `kind` for `device` that carries the given proof (PATCH: of a machine registered beforehand). */
    async function writer(kind: Kind, device: Identity): Promise<(identityProof: unknown) => Promise<TestResponse>> {
      if (kind === 'POST') return (identityProof) => api.create(api.body(device.did, { identityProof }));
      const machine = await api.register(device);
      return (identityProof) => api.update(machine.id, { displayName: 'Renamed', identityProof });
    }
    const succeeded = (kind: Kind, response: TestResponse) => expect(response.status).toBe(kind === 'POST' ? 201 : 200);

    describe.each<Kind>(['POST', 'PATCH'])('%s', (kind) => {
      it('challenge_not_found: a challenge id that was never issued', async () => {
        const device = api.identity();
        const write = await writer(kind, device);
        const { signature } = await api.proof(device.did, device.key);
        for (const challengeId of [UNKNOWN_CHALLENGE_ID, 'not-a-challenge']) {
          expectProofInvalid(await withoutEvents(t, () => write({ challengeId, signature })), 'challenge_not_found');
        }
      });

      it('challenge_mismatch: a challenge issued for another identity', async () => {
        const device = api.identity();
        const other = api.identity();
        const write = await writer(kind, device);
        const proof = await api.proof(other.did, other.key);
        expectProofInvalid(await withoutEvents(t, () => write(proof)), 'challenge_mismatch');
      });

      it('malformed_signature, checked before MCR is asked (step 6 before step 7)', async () => {
        const device = api.identity();
        const write = await writer(kind, device);
        const proof = await api.proof(device.did, device.key);
        mcr.behave(device.did, behaviour.status(500));
        try {
          const response = await withoutEvents(t, () => write({ ...proof, signature: withV(proof.signature, 29) }));
          expectProofInvalid(response, 'malformed_signature');
        } finally {
          mcr.behave(device.did, null);
        }
      });

      it('signer_not_controller: signed by a key that is not a controller; the challenge stays usable', async () => {
        const device = api.identity();
        const write = await writer(kind, device);
        const challenge = await api.challenge(device.did);
        const stranger = newControllerAccount();
        const bad = { challengeId: challenge.challengeId, signature: await stranger.signMessage({ message: challenge.message }) };
        expectProofInvalid(await withoutEvents(t, () => write(bad)), 'signer_not_controller');

        const good = { challengeId: challenge.challengeId, signature: await device.key.signMessage({ message: challenge.message }) };
        succeeded(kind, await write(good));
      });

      it('signing a different message (not the challenge text byte for byte) → signer_not_controller', async () => {
        const device = api.identity();
        const write = await writer(kind, device);
        const challenge = await api.challenge(device.did);
        const signature = await device.key.signMessage({ message: `${challenge.message}\n` });
        expectProofInvalid(await withoutEvents(t, () => write({ challengeId: challenge.challengeId, signature })), 'signer_not_controller');
      });

      it.each([
        ['MCR 404', behaviour.unknown()],
        ['MCR 400 (counts as not found)', behaviour.badRequest()],
      ])('mcr_not_found: the identity stopped resolving between challenge and write (%s)', async (_, answer) => {
        const device = api.identity();
        const write = await writer(kind, device);
        const proof = await api.proof(device.did, device.key);
        mcr.behave(`/mcr/${device.did}`, answer);
        try {
          expectProofInvalid(await withoutEvents(t, () => write(proof)), 'mcr_not_found');
        } finally {
          mcr.behave(`/mcr/${device.did}`, null);
        }
        succeeded(kind, await write(proof));
      });

      it('403 MACHINE_IDENTITY_PROOF_EXPIRED once now >= expiresAt, with challengeId and expiresAt', async () => {
        const device = api.identity();
        const write = await writer(kind, device);
        const challenge = await api.challenge(device.did);
        const proof = { challengeId: challenge.challengeId, signature: await device.key.signMessage({ message: challenge.message }) };
        clock.advance(CHALLENGE_TTL_MS);
        const response = await withoutEvents(t, () => write(proof));
        expectError(response, 403, 'MACHINE_IDENTITY_PROOF_EXPIRED');
        expect(response.body.error.details).toEqual({ challengeId: challenge.challengeId, expiresAt: challenge.expiresAt });
      });

      it('accepts a challenge 1 ms before it expires', async () => {
        const device = api.identity();
        const write = await writer(kind, device);
        const proof = await api.proof(device.did, device.key);
        clock.advance(CHALLENGE_TTL_MS - 1);
        succeeded(kind, await write(proof));
      });
    });

    it('checks expiry before the signature (step 4 before step 6)', async () => {
      const device = api.identity();
      const proof = await api.proof(device.did, device.key);
      clock.advance(CHALLENGE_TTL_MS);
      const response = await api.create(api.body(device.did, { identityProof: { ...proof, signature: '0x1234' } }));
      expectError(response, 403, 'MACHINE_IDENTITY_PROOF_EXPIRED');
    });

    it('checks the signer after resolving through MCR (step 7 before step 8)', async () => {
      const device = api.identity();
      const challenge = await api.challenge(device.did);
      const signature = await newControllerAccount().signMessage({ message: challenge.message });
      mcr.behave(device.did, behaviour.status(502));
      try {
        const response = await api.create(api.body(device.did, { identityProof: { challengeId: challenge.challengeId, signature } }));
        expectError(response, 503, 'PEAQOS_IDENTITY_UNAVAILABLE');
      } finally {
        mcr.behave(device.did, null);
      }
    });

    it.each<[string, (signature: string) => string]>([
      ['0x + 4 hex characters', () => '0x1234'],
      ['130 hex characters without 0x', (s) => s.slice(2)],
      ['0x + 132 hex characters', (s) => `${s}00`],
      ['0x + 130 characters that are not all hex', (s) => `0x${'zz'}${s.slice(4)}`],
      ['v = 29', (s) => withV(s, 29)],
      ['v = 2', (s) => withV(s, 2)],
      ['r = 0', (s) => `0x${'0'.repeat(64)}${s.slice(66)}`],
    ])('malformed_signature: %s', async (_, mangle) => {
      const device = api.identity();
      const proof = await api.proof(device.did, device.key);
      const response = await withoutEvents(t, () =>
        api.create(api.body(device.did, { identityProof: { ...proof, signature: mangle(proof.signature) } })),
      );
      expectProofInvalid(response, 'malformed_signature');
    });

    it.each<[string, (signature: string) => string]>([
      ['v = 0/1 instead of 27/28', (s) => withV(s, Number.parseInt(s.slice(130), 16) - 27)],
      ['upper-case hex digits', (s) => `0x${s.slice(2).toUpperCase()}`],
      ['a high-s signature', (s) => highS(s)],
    ])('accepts %s, recovering the same signer', async (_, mangle) => {
      const device = api.identity();
      const proof = await api.proof(device.did, device.key);
      const signature = mangle(proof.signature);
      expect(signature).not.toBe(proof.signature);
      const response = await api.create(api.body(device.did, { identityProof: { ...proof, signature } }));
      expect(response.status).toBe(201);
      expect(response.body.item.identityProof.signerAddress).toBe(device.key.address);
      const [verified] = (await api.machineEvents(response.body.item.id)).filter((e) => e.type === 'machine.identity_verified');
      expect(verified.data.signatureFingerprint).toBe(signatureFingerprint(signature));
    });

    it('unsupported_did: the Machine Card stopped naming a did:peaq:0x DID between challenge and write', async () => {
      const device = api.identity();
      const proof = await api.proof(device.machineRef, device.key);
      const card = `/machines/${device.onChainId}`;
      mcr.behave(card, behaviour.json({ machine_id: device.onChainId, did: 'did:peaq:123', name: 'e2' }));
      try {
        const response = await withoutEvents(t, () => api.create(api.body(device.machineRef, { identityProof: proof })));
        expectProofInvalid(response, 'unsupported_did');
      } finally {
        mcr.behave(card, null);
      }
    });

    it('challenge_used: a challenge that served a POST cannot serve a PATCH, nor a later POST', async () => {
      const device = api.identity();
      const proof = await api.proof(device.did, device.key);
      const created = await api.create(api.body(device.did, { identityProof: proof }));
      expect(created.status).toBe(201);
      const machine: MachineItem = created.body.item;

      expectProofInvalid(
        await withoutEvents(t, () => api.update(machine.id, { displayName: 'x', identityProof: proof })),
        'challenge_used',
      );

      expect((await api.patch(machine, device, { status: 'archived' })).status).toBe(200);
      // The identity is free again, so only the used challenge stands in the way.
      expectProofInvalid(await withoutEvents(t, () => api.create(api.body(device.did, { identityProof: proof }))), 'challenge_used');
    });

    it('challenge_used: a challenge that served a PATCH cannot serve another', async () => {
      const device = api.identity();
      const machine = await api.register(device);
      const proof = await api.proof(machine.identityRef, device.key);
      expect((await api.update(machine.id, { displayName: 'first', identityProof: proof })).status).toBe(200);
      const response = await withoutEvents(t, () => api.update(machine.id, { displayName: 'second', identityProof: proof }));
      expectProofInvalid(response, 'challenge_used');
      expect((await api.read(machine.id)).body.item.displayName).toBe('first');
    });

    it('two concurrent PATCHes with the same challenge: exactly one succeeds', async () => {
      const device = api.identity();
      const machine = await api.register(device);
      const proof = await api.proof(machine.identityRef, device.key);

      const responses = await Promise.all(
        ['left', 'right'].map((displayName) => api.update(machine.id, { displayName, identityProof: proof })),
      );

      const winners = responses.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      const [loser] = responses.filter((r) => r.status !== 200);
      const outcome = `${loser.status} ${loser.body?.error?.code} ${loser.body?.error?.details?.reason ?? ''}`.trim();
      expect(['403 MACHINE_IDENTITY_PROOF_INVALID challenge_used', '409 CONCURRENCY_CONFLICT']).toContain(outcome);

      const consumed = (await api.challengeEvents(proof.challengeId)).filter((e) => e.type === 'machine_identity_challenge.consumed');
      expect(consumed).toHaveLength(1);
      const verifications = (await api.machineEvents(machine.id)).filter(
        (e) =>
          e.type === 'machine.identity_verified' && (e.data.identityProof as { challengeId: string }).challengeId === proof.challengeId,
      );
      expect(verifications).toHaveLength(1);
      expect((await api.read(machine.id)).body.item.displayName).toBe(winners[0].body.item.displayName);
    });
  });

  describe('503 PEAQOS_IDENTITY_UNAVAILABLE on writes: nothing written, the challenge stays usable', () => {
    describe.each(['POST', 'PATCH'] as const)('%s', (kind) => {
      it.each([
        ['MCR answers 500', () => behaviour.status(500), { reason: 'upstream_status', upstreamStatus: 500 }],
        ['MCR answers 503', () => behaviour.status(503), { reason: 'upstream_status', upstreamStatus: 503 }],
        ['MCR is slower than PEAQOS_MCR_TIMEOUT_MS', () => behaviour.slow(MCR_TIMEOUT_MS * 5), { reason: 'timeout' }],
      ])('%s', async (_, answer, details) => {
        const device = api.identity();
        const machine = kind === 'PATCH' ? await api.register(device) : undefined;
        const proof = await api.proof(device.did, device.key);
        const write = () =>
          machine
            ? api.update(machine.id, { displayName: 'Renamed', identityProof: proof })
            : api.create(api.body(device.did, { identityProof: proof }));

        mcr.behave(device.did, answer());
        let response: TestResponse;
        try {
          response = await withoutEvents(t, write);
        } finally {
          mcr.behave(device.did, null);
        }
        expectError(response, 503, 'PEAQOS_IDENTITY_UNAVAILABLE');
        expect(response.body.error.details).toEqual(details);
        expect(response.headers['retry-after']).toBe('5');
        expect(await api.challengeEvents(proof.challengeId)).toHaveLength(1);

        const retried = await write();
        expect(retried.status).toBe(kind === 'POST' ? 201 : 200);
        expect((await api.challengeEvents(proof.challengeId)).map((e) => e.type)).toEqual([
          'machine_identity_challenge.issued',
          'machine_identity_challenge.consumed',
        ]);
      });
    });

    it('POST: MCR answers unparseable JSON → reason bad_response', async () => {
      const device = api.identity();
      const proof = await api.proof(device.did, device.key);
      mcr.behave(`/mcr/${device.did}`, behaviour.garbage());
      try {
        const response = await withoutEvents(t, () => api.create(api.body(device.did, { identityProof: proof })));
        expectError(response, 503, 'PEAQOS_IDENTITY_UNAVAILABLE');
        expect(response.body.error.details).toEqual({ reason: 'bad_response' });
      } finally {
        mcr.behave(`/mcr/${device.did}`, null);
      }
    });
  });

  describe('409 MACHINE_IDENTITY_EXISTS (§4.2 uniqueness)', () => {
    it('the same identityRef twice, also given in lower case; details name the identity and the holder', async () => {
      const device = api.identity();
      const first = await api.register(device);
      for (const identityRef of [device.did, device.lowerDid]) {
        const proof = await api.proof(identityRef, device.key);
        const response = await withoutEvents(t, () => api.create(api.body(identityRef, { identityProof: proof })));
        expectError(response, 409, 'MACHINE_IDENTITY_EXISTS');
        expect(response.body.error.details).toEqual({ identityRef: device.did, machineId: first.id });
      }
    });

    it('is checked before the proof (step 3 before step 4): a duplicate without proof is 409, not 400', async () => {
      const device = api.identity();
      const first = await api.register(device);
      const response = await withoutEvents(t, () => api.create(api.body(device.did)));
      expectError(response, 409, 'MACHINE_IDENTITY_EXISTS');
      expect(response.body.error.details).toEqual({ identityRef: device.did, machineId: first.id });
    });

    it.each([
      ['the DID form after the peaqos:machine form', (d: Identity) => [d.machineRef, d.did]],
      ['the peaqos:machine form after the DID form', (d: Identity) => [d.did, d.machineRef]],
    ])('the same device in its other form: %s', async (_, forms) => {
      const device = api.identity();
      const [firstRef, secondRef] = forms(device);
      const first = await api.register(device, {}, { identityRef: firstRef });
      const proof = await api.proof(secondRef, device.key);
      const response = await withoutEvents(t, () => api.create(api.body(secondRef, { identityProof: proof })));
      expectError(response, 409, 'MACHINE_IDENTITY_EXISTS');
      // §0.9 names identityRef and machineId; which of the two forms identityRef shows is not fixed.
      expect(response.body.error.details).toEqual(expect.objectContaining({ machineId: first.id }));
      expect([firstRef, secondRef]).toContain(response.body.error.details.identityRef);

      // Archiving releases the identity in both forms.
      expect((await api.patch(first, device, { status: 'archived' })).status).toBe(200);
      expect((await api.create(api.body(secondRef, { identityProof: proof }))).status).toBe(201);
    });

    it.each([
      ['the same form', (d: Identity) => [d.did, d.did]],
      ['the DID and the peaqos:machine forms', (d: Identity) => [d.did, d.machineRef]],
    ])('two concurrent POSTs of one device (%s, two challenges): exactly one 201, one 409, one machine.registered', async (_, forms) => {
      const device = api.identity();
      const refs = forms(device);
      const proofs: ProofInput[] = await Promise.all(refs.map((ref) => api.proof(ref, device.key)));

      const responses = await Promise.all(refs.map((ref, i) => api.create(api.body(ref, { identityProof: proofs[i] }))));

      expect(responses.map((r) => r.status).sort()).toEqual([201, 409]);
      const winner = responses.find((r) => r.status === 201)!;
      const loser = responses.find((r) => r.status === 409)!;
      expectError(loser, 409, 'MACHINE_IDENTITY_EXISTS');
      expect(loser.body.error.details.machineId).toBe(winner.body.item.id);
      const registered = (await t.storedEvents()).filter(
        (e) => e.type === 'machine.registered' && refs.includes(e.data.identityRef as string),
      );
      expect(registered).toHaveLength(1);
      const loserChallenge = proofs[responses.indexOf(loser)].challengeId;
      expect((await api.challengeEvents(loserChallenge)).map((e) => e.type)).toEqual(['machine_identity_challenge.issued']);
    });
  });

  describe('409 MACHINE_IDENTITY_IMMUTABLE', () => {
    it('PATCH of identityRef to another identity; nothing written', async () => {
      const device = api.identity();
      const machine = await api.register(device);
      const proof = await api.proof(machine.identityRef, device.key);
      const response = await withoutEvents(t, () =>
        api.update(machine.id, { identityRef: api.identity().did, displayName: 'x', identityProof: proof }),
      );
      expectError(response, 409, 'MACHINE_IDENTITY_IMMUTABLE');
      expect(response.body.error.details).toEqual({ identityRef: device.did });
      expect((await api.read(machine.id)).body.item).toEqual(machine);
    });

    it('PATCH of a peaqos:machine identity to the DID of the same device (a different value)', async () => {
      const device = api.identity();
      const machine = await api.register(device, {}, { identityRef: device.machineRef });
      const response = await api.patch(machine, device, { identityRef: device.did });
      expectError(response, 409, 'MACHINE_IDENTITY_IMMUTABLE');
      expect(response.body.error.details).toEqual({ identityRef: device.machineRef });
    });

    it('an identityRef equal after normalisation (lower-case DID hex) is accepted and ignored', async () => {
      const device = api.identity();
      const machine = await api.register(device);
      const response = await api.patch(machine, device, { identityRef: device.lowerDid, displayName: 'Same identity' });
      expect(response.status).toBe(200);
      expect(response.body.item).toEqual(expect.objectContaining({ identityRef: device.did, displayName: 'Same identity' }));
    });
  });

  describe('409 MACHINE_NOT_ACTIVATED on activation', () => {
    it('POST active (explicit or by default) for an unbonded identity → not_bonded; the challenge then serves a draft', async () => {
      const device = api.identity({ bondStatus: 'unbonded' });
      const proof = await api.proof(device.did, device.key);
      for (const extra of [{ status: 'active' }, {}]) {
        const response = await withoutEvents(t, () => api.create(api.body(device.did, { identityProof: proof, ...extra })));
        expectError(response, 409, 'MACHINE_NOT_ACTIVATED');
        expect(response.body.error.details).toEqual({ reason: 'not_bonded' });
      }
      const draft = await api.create(api.body(device.did, { identityProof: proof, status: 'draft' }));
      expect(draft.status).toBe(201);
      expect(draft.body.item.status).toBe('draft');
    });

    it('PATCH draft → active while unbonded → not_bonded; after bonding it activates', async () => {
      const device = api.identity({ bondStatus: 'unbonded' });
      const machine = await api.register(device, { status: 'draft' });
      const refused = await api.patch(machine, device, { status: 'active' });
      expectError(refused, 409, 'MACHINE_NOT_ACTIVATED');
      expect(refused.body.error.details).toEqual({ reason: 'not_bonded' });

      mcr.updateMachine(device.did, { bondStatus: 'bonded' });
      const activated = await api.patch(machine, device, { status: 'active' });
      expect(activated.status).toBe(200);
      expect(activated.body.item.status).toBe('active');
    });

    it('degraded → active after the bond was lost → not_bonded; a PATCH that does not activate does not check the bond', async () => {
      const device = api.identity();
      const machine = await api.register(device);
      mcr.updateMachine(device.did, { bondStatus: 'unbonded' });

      const renamed = await api.patch(machine, device, { displayName: 'Still here' });
      expect(renamed.status).toBe(200);
      expect((await api.patch(machine, device, { status: 'degraded' })).status).toBe(200);
      const refused = await api.patch(machine, device, { status: 'active' });
      expectError(refused, 409, 'MACHINE_NOT_ACTIVATED');
      expect(refused.body.error.details).toEqual({ reason: 'not_bonded' });
      expect((await api.read(machine.id)).body.item.status).toBe('degraded');
    });
  });
});
