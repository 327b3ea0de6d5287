import { deciderSpec, illegal, legal, Transition, transitionTable } from '../../../test/support/decider-spec';
import { sha256Hex } from '../shared/canonical-json';
import {
  ActivationFacts,
  Machine,
  MachineCommand,
  MachineEvent,
  MachineIdentityProof,
  machineDecider,
  machineStream,
  signatureFingerprint,
  VerifiedIdentityProof,
} from './machine.decider';
import { MACHINE_STATUS_TRANSITIONS, MachineStatus } from './machine-status';

const T0 = '2026-01-01T00:00:00.000Z';
const NOW = '2026-01-02T00:00:00.000Z';
const ID = 'mach_01JD8Y6K3W5T2Q9R7M4N0P1B2C';
const DID = 'did:peaq:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const SIGNER = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const SIGNATURE = '0x' + 'AB'.repeat(65);

const spec = deciderSpec(machineDecider, { now: NOW });

const ACTIVATABLE: ActivationFacts = { identityChecks: true, storedSignerIsController: true, bonded: true };

function proof(overrides: Partial<MachineIdentityProof> = {}): MachineIdentityProof {
  return {
    method: 'eip191',
    identityRef: DID,
    signerAddress: SIGNER,
    challengeId: 'chl_01JD8Y6K3W5T2Q9R7M4N0P1B2C',
    verifiedAt: T0,
    challengeExpiresAt: '2026-01-01T00:05:00.000Z',
    controllerAddresses: [SIGNER],
    resolutionSource: 'peaqos-mcr',
    ...overrides,
  };
}

const freshProof = (): VerifiedIdentityProof => ({
  proof: proof({ challengeId: 'chl_01JD8Y6K3W5T2Q9R7M4N0P1B2D', verifiedAt: NOW }),
  signature: SIGNATURE,
});

function machine(overrides: Partial<Machine> = {}): Machine {
  return {
    id: ID,
    displayName: 'Edge node 1',
    status: 'active',
    ownerId: 'owner-1',
    identityRef: DID,
    identityProof: proof(),
    machineType: 'edge-node',
    runtimeProfile: 'linux-docker',
    capabilities: ['gpu'],
    labels: { site: 'berlin' },
    policyIds: ['pol_1', 'pol_2'],
    skillKeys: ['vision.detect'],
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** The audit record of `freshProof()`: the proof and the §9 fingerprint, never the signature. */
const verifiedEvent = (): MachineEvent => ({
  type: 'machine.identity_verified',
  data: { identityProof: freshProof().proof, signatureFingerprint: sha256Hex(SIGNATURE.toLowerCase()), at: NOW },
});

const registered = (overrides: Partial<Machine> = {}): MachineEvent => ({ type: 'machine.registered', data: machine(overrides) });
const statusChanged = (from: MachineStatus, to: MachineStatus, at = T0): MachineEvent => ({
  type: 'machine.status_changed',
  data: { from, to, at },
});

const update = (extra: Partial<Extract<MachineCommand, { type: 'update' }>>): MachineCommand => ({
  type: 'update',
  id: ID,
  changes: {},
  ...extra,
});

/** The event history that leaves a machine (with a stored proof) in each status. */
const HISTORY: Record<MachineStatus, MachineEvent[]> = {
  draft: [registered({ status: 'draft' })],
  active: [registered()],
  degraded: [registered(), statusChanged('active', 'degraded')],
  blocked: [registered(), statusChanged('active', 'blocked')],
  archived: [registered(), statusChanged('active', 'archived')],
};

const STATUSES: MachineStatus[] = ['draft', 'active', 'degraded', 'blocked', 'archived'];

const toStatus = (status: MachineStatus, extra: Partial<Extract<MachineCommand, { type: 'update' }>> = {}): MachineCommand => ({
  type: 'update',
  id: ID,
  changes: {},
  status,
  activation: ACTIVATABLE,
  openOrders: { orderIds: [] },
  ...extra,
});

describe('machine decider', () => {
  describe('§4.7 status transitions (every from × to, activation and archiving preconditions met)', () => {
    // The table of §4.7, written out independently of the decider's map: Y = allowed, N = refused, - = same status.
    // prettier-ignore
    const TABLE: Record<MachineStatus, Record<MachineStatus, 'Y' | 'N' | '-'>> = {
      draft:    { draft: '-', active: 'Y', degraded: 'N', blocked: 'Y', archived: 'Y' },
      active:   { draft: 'N', active: '-', degraded: 'Y', blocked: 'Y', archived: 'Y' },
      degraded: { draft: 'N', active: 'Y', degraded: '-', blocked: 'Y', archived: 'Y' },
      blocked:  { draft: 'N', active: 'Y', degraded: 'N', blocked: '-', archived: 'Y' },
      archived: { draft: 'N', active: 'N', degraded: 'N', blocked: 'N', archived: '-' },
    };
    const allowedFrom = (from: MachineStatus) => STATUSES.filter((to) => TABLE[from][to] === 'Y');

    transitionTable(spec, {
      states: STATUSES.map((name) => ({ name, given: HISTORY[name] })),
      commands: STATUSES.map((to) => ({ name: `to ${to}`, command: toStatus(to) })),
      expect(from, commandName): Transition<MachineEvent> {
        const to = commandName.slice(3) as MachineStatus;
        // §4.6.5 step 2 comes before everything: archived machines are read-only.
        if (from === 'archived') return illegal('STATE_CONFLICT', { reason: 'machine_archived', status: 'archived' });
        switch (TABLE[from][to]) {
          case '-':
            return legal([]);
          case 'Y':
            return legal([statusChanged(from, to, NOW)]);
          case 'N':
            return illegal('STATE_CONFLICT', {
              entityType: 'machine',
              id: ID,
              status: from,
              reason: 'invalid_transition',
              allowed: allowedFrom(from),
            });
        }
      },
    });

    it('the decider map equals the table of §4.7', () => {
      for (const from of STATUSES) expect([...MACHINE_STATUS_TRANSITIONS[from]]).toEqual(allowedFrom(from));
    });

    it('the archive command is refused on an archived machine and allowed from every other status', () => {
      for (const from of STATUSES) {
        const outcome = spec.given(HISTORY[from]).when({ type: 'archive', id: ID, openOrders: { orderIds: [] } });
        if (from === 'archived') outcome.thenThrows('STATE_CONFLICT', { reason: 'machine_archived' });
        else outcome.then([statusChanged(from, 'archived', NOW)]);
      }
    });
  });

  describe('register (§4.6.3)', () => {
    const register = (extra: Partial<Extract<MachineCommand, { type: 'register' }>> = {}): MachineCommand => ({
      type: 'register',
      id: ID,
      displayName: 'Edge node 1',
      ownerId: 'owner-1',
      identityRef: DID,
      machineType: 'edge-node',
      runtimeProfile: 'linux-docker',
      verifiedProof: freshProof(),
      activation: { identityChecks: true, bonded: true },
      ...extra,
    });

    it('registers an active machine with its proof, applying defaults, and records the proof fingerprint', () =>
      spec
        .given([])
        .when(register())
        .then([
          {
            type: 'machine.registered',
            data: {
              id: ID,
              displayName: 'Edge node 1',
              status: 'active',
              ownerId: 'owner-1',
              identityRef: DID,
              identityProof: freshProof().proof,
              machineType: 'edge-node',
              runtimeProfile: 'linux-docker',
              capabilities: [],
              labels: {},
              policyIds: [],
              skillKeys: [],
              createdAt: NOW,
              updatedAt: NOW,
            },
          },
          verifiedEvent(),
        ]));

    it('removes duplicate capabilities, skill keys and policy ids, keeping the first occurrence', () =>
      spec
        .given([])
        .when(register({ capabilities: ['b', 'a', 'b'], skillKeys: ['s', 's'], policyIds: ['pol_2', 'pol_1', 'pol_2'] }))
        .thenState(
          (s) =>
            s.kind === 'live' &&
            s.machine.capabilities.join() === 'b,a' &&
            s.machine.skillKeys.join() === 's' &&
            s.machine.policyIds.join() === 'pol_2,pol_1',
        ));

    it('never writes the signature into an event', () => {
      const events = machineDecider.decide(register(), machineDecider.initialState(), { now: NOW });
      expect(JSON.stringify(events).toLowerCase()).not.toContain(SIGNATURE.slice(2).toLowerCase());
    });

    it('refuses an active machine without a verified proof (identity_proof_missing)', () =>
      spec
        .given([])
        .when(register({ verifiedProof: undefined }))
        .thenThrows('MACHINE_NOT_ACTIVATED', { reason: 'identity_proof_missing' }));

    it('refuses an active machine whose identity is not bonded (not_bonded)', () =>
      spec
        .given([])
        .when(register({ activation: { identityChecks: true, bonded: false } }))
        .thenThrows('MACHINE_NOT_ACTIVATED', { reason: 'not_bonded' }));

    it('checks the proof before the bond', () =>
      spec
        .given([])
        .when(register({ verifiedProof: undefined, activation: { identityChecks: true, bonded: false } }))
        .thenThrows('MACHINE_NOT_ACTIVATED', { reason: 'identity_proof_missing' }));

    it('fails closed when the bond status was not looked up', () =>
      spec
        .given([])
        .when(register({ activation: { identityChecks: true } }))
        .thenThrows('MACHINE_NOT_ACTIVATED', { reason: 'not_bonded' }));

    it('registers a draft without a proof and without activation checks', () =>
      spec
        .given([])
        .when(register({ status: 'draft', verifiedProof: undefined, activation: { identityChecks: true, bonded: false } }))
        .thenState((s) => s.kind === 'live' && s.machine.status === 'draft' && s.machine.identityProof === null));

    it('registers an active machine without identity checks when verification is disabled (§4.4)', () =>
      spec
        .given([])
        .when(register({ verifiedProof: undefined, activation: { identityChecks: false } }))
        .thenState((s) => s.kind === 'live' && s.machine.status === 'active' && s.machine.identityProof === null));

    it('refuses a proof made for another identity', () =>
      spec
        .given([])
        .when(register({ verifiedProof: { proof: proof({ identityRef: 'peaqos:machine:7' }), signature: SIGNATURE } }))
        .thenThrows('MACHINE_IDENTITY_PROOF_INVALID', { reason: 'challenge_mismatch' }));

    it('refuses to register an id twice', () =>
      spec.given([registered()]).when(register()).thenThrows('STATE_CONFLICT', { reason: 'exists', id: ID }));
  });

  describe('update (§4.6.5)', () => {
    it('answers NOT_FOUND for an unknown machine', () =>
      spec
        .given([])
        .when(update({ changes: { displayName: 'x' } }))
        .thenThrows('NOT_FOUND', { entityType: 'machine', id: ID }));

    it('writes only the fields that change, as { changes }', () =>
      spec
        .given([registered()])
        .when(
          update({ changes: { displayName: 'Renamed', ownerId: 'owner-1', labels: { site: 'berlin' }, policyIds: ['pol_2', 'pol_1'] } }),
        )
        .then([{ type: 'machine.updated', data: { changes: { displayName: 'Renamed', policyIds: ['pol_2', 'pol_1'] }, at: NOW } }]));

    it('replaces whole lists and maps and sets updatedAt', () =>
      spec
        .given([registered()])
        .when(update({ changes: { capabilities: ['cpu', 'cpu'], labels: {} } }))
        .thenState(
          (s) =>
            s.kind === 'live' &&
            s.machine.capabilities.join() === 'cpu' &&
            Object.keys(s.machine.labels).length === 0 &&
            s.machine.updatedAt === NOW,
        ));

    it('writes nothing for a PATCH that changes nothing (same values, same status)', () =>
      spec
        .given([registered()])
        .when(update({ changes: { displayName: 'Edge node 1', labels: { site: 'berlin' } }, status: 'active', identityRef: DID }))
        .then([]));

    describe('order of checks', () => {
      it('archived comes before an identityRef change', () =>
        spec
          .given(HISTORY.archived)
          .when(update({ identityRef: 'peaqos:machine:1' }))
          .thenThrows('STATE_CONFLICT', { reason: 'machine_archived' }));

      it('archived machines refuse even a change-nothing PATCH', () =>
        spec.given(HISTORY.archived).when(update({})).thenThrows('STATE_CONFLICT', { reason: 'machine_archived' }));

      it('an identityRef change comes before the status transition', () =>
        spec
          .given(HISTORY.draft)
          .when(update({ identityRef: 'peaqos:machine:1', status: 'degraded' }))
          .thenThrows('MACHINE_IDENTITY_IMMUTABLE', { identityRef: DID }));

      it('the transition comes before the activation checks', () =>
        spec
          .given([registered({ status: 'blocked', identityProof: null })])
          .when(update({ status: 'degraded', activation: { identityChecks: true } }))
          .thenThrows('STATE_CONFLICT', { reason: 'invalid_transition', allowed: ['active', 'archived'] }));
    });

    describe('identityRef (step 3)', () => {
      it('refuses a different identityRef with MACHINE_IDENTITY_IMMUTABLE', () =>
        spec
          .given([registered()])
          .when(update({ identityRef: 'peaqos:machine:42' }))
          .thenThrows('MACHINE_IDENTITY_IMMUTABLE'));

      it('ignores an identityRef equal after normalisation (lower-case DID)', () =>
        spec
          .given([registered()])
          .when(update({ identityRef: DID.toLowerCase() }))
          .then([]));
    });

    describe('activation (step 7)', () => {
      const draftWithoutProof = [registered({ status: 'draft', identityProof: null })];

      it('needs a verified proof (identity_proof_missing)', () =>
        spec
          .given(draftWithoutProof)
          .when(update({ status: 'active', activation: ACTIVATABLE }))
          .thenThrows('MACHINE_NOT_ACTIVATED', { reason: 'identity_proof_missing' }));

      it('accepts the new proof of the same PATCH', () =>
        spec
          .given(draftWithoutProof)
          .when(update({ status: 'active', verifiedProof: freshProof(), activation: { identityChecks: true, bonded: true } }))
          .then([verifiedEvent(), statusChanged('draft', 'active', NOW)]));

      it('refuses a stored proof whose signer is no longer a controller (controller_changed)', () =>
        spec
          .given(HISTORY.blocked)
          .when(update({ status: 'active', activation: { identityChecks: true, storedSignerIsController: false, bonded: true } }))
          .thenThrows('MACHINE_NOT_ACTIVATED', { reason: 'controller_changed' }));

      it('a new proof replaces the stale stored one (recovery from controller_changed)', () =>
        spec
          .given(HISTORY.blocked)
          .when(
            update({
              status: 'active',
              verifiedProof: freshProof(),
              activation: { identityChecks: true, storedSignerIsController: false, bonded: true },
            }),
          )
          .thenState((s) => s.kind === 'live' && s.machine.status === 'active' && s.machine.identityProof?.verifiedAt === NOW));

      it('checks the controller before the bond', () =>
        spec
          .given(HISTORY.degraded)
          .when(update({ status: 'active', activation: { identityChecks: true, storedSignerIsController: false, bonded: false } }))
          .thenThrows('MACHINE_NOT_ACTIVATED', { reason: 'controller_changed' }));

      it('needs the identity to be bonded (not_bonded)', () =>
        spec
          .given(HISTORY.degraded)
          .when(update({ status: 'active', activation: { identityChecks: true, storedSignerIsController: true, bonded: false } }))
          .thenThrows('MACHINE_NOT_ACTIVATED', { reason: 'not_bonded' }));

      it('fails closed when the handler passed no activation facts', () =>
        spec
          .given(HISTORY.degraded)
          .when(update({ status: 'active' }))
          .thenThrows('MACHINE_NOT_ACTIVATED', { reason: 'controller_changed' }));

      it('skips the identity checks when verification is disabled (§4.4)', () =>
        spec
          .given(draftWithoutProof)
          .when(update({ status: 'active', activation: { identityChecks: false } }))
          .then([statusChanged('draft', 'active', NOW)]));

      it('does not re-check an active machine whose status stays active', () =>
        spec
          .given(HISTORY.active)
          .when(update({ status: 'active', activation: { identityChecks: true, bonded: false } }))
          .then([]));
    });

    describe('archiving (step 8)', () => {
      it('refuses while orders are open, with their ids and count', () =>
        spec
          .given(HISTORY.active)
          .when(update({ status: 'archived', openOrders: { orderIds: ['ord_1', 'ord_2'] } }))
          .thenThrows('OPEN_MARKET_ORDERS', { orderIds: ['ord_1', 'ord_2'], count: 2 }));

      it('lists at most 100 order ids, oldest first, and the full count', () => {
        const orderIds = Array.from({ length: 150 }, (_, i) => `ord_${String(i).padStart(3, '0')}`);
        spec
          .given(HISTORY.active)
          .when({ type: 'archive', id: ID, openOrders: { orderIds } })
          .thenThrows('OPEN_MARKET_ORDERS', { orderIds: orderIds.slice(0, 100), count: 150 });
      });

      it('takes the count from the handler when it passed only the first ids', () =>
        spec
          .given(HISTORY.active)
          .when({ type: 'archive', id: ID, openOrders: { orderIds: ['ord_1'], count: 250 } })
          .thenThrows('OPEN_MARKET_ORDERS', { orderIds: ['ord_1'], count: 250 }));

      it('archives a machine without open orders and makes it read-only', () =>
        spec
          .given(HISTORY.draft)
          .when(update({ status: 'archived', openOrders: { orderIds: [] } }))
          .thenState((s) => s.kind === 'live' && s.machine.status === 'archived' && s.machine.updatedAt === NOW));
    });

    it('applies proof, field changes and status in one PATCH, in that order', () =>
      spec
        .given(HISTORY.active)
        .when(update({ changes: { runtimeProfile: 'linux-podman' }, status: 'degraded', verifiedProof: freshProof() }))
        .then([
          verifiedEvent(),
          { type: 'machine.updated', data: { changes: { runtimeProfile: 'linux-podman' }, at: NOW } },
          statusChanged('active', 'degraded', NOW),
        ]));
  });

  describe('verify_identity (proof refresh, §4.6.5 step 9)', () => {
    it('replaces the stored proof and records only the signature fingerprint', () =>
      spec.given(HISTORY.blocked).when({ type: 'verify_identity', id: ID, verifiedProof: freshProof() }).then([verifiedEvent()]));

    it('stores the new proof and sets updatedAt', () =>
      spec
        .given(HISTORY.active)
        .when({ type: 'verify_identity', id: ID, verifiedProof: freshProof() })
        .thenState(
          (s) =>
            s.kind === 'live' && s.machine.identityProof?.challengeId === freshProof().proof.challengeId && s.machine.updatedAt === NOW,
        ));

    it('the fingerprint does not depend on the signature hex case', () =>
      expect(signatureFingerprint(SIGNATURE)).toBe(signatureFingerprint(SIGNATURE.toLowerCase())));

    it('refuses on an archived machine', () =>
      spec
        .given(HISTORY.archived)
        .when({ type: 'verify_identity', id: ID, verifiedProof: freshProof() })
        .thenThrows('STATE_CONFLICT', { reason: 'machine_archived' }));

    it('refuses a proof for another identity', () =>
      spec
        .given(HISTORY.active)
        .when({
          type: 'verify_identity',
          id: ID,
          verifiedProof: { proof: proof({ identityRef: 'peaqos:machine:9' }), signature: SIGNATURE },
        })
        .thenThrows('MACHINE_IDENTITY_PROOF_INVALID', { reason: 'challenge_mismatch' }));

    it('answers NOT_FOUND for an unknown machine', () =>
      spec.given([]).when({ type: 'verify_identity', id: ID, verifiedProof: freshProof() }).thenThrows('NOT_FOUND'));

    it('refuses the challenge the registration was proven with (single use, §4.5.3)', () =>
      spec
        .given(HISTORY.active)
        .when({ type: 'verify_identity', id: ID, verifiedProof: { proof: proof({ verifiedAt: NOW }), signature: SIGNATURE } })
        .thenThrows('MACHINE_IDENTITY_PROOF_INVALID', { reason: 'challenge_used', challengeId: proof().challengeId }));

    it('refuses a challenge a later proof already used, in a PATCH too', () =>
      spec
        .given([...HISTORY.active, verifiedEvent()])
        .when(update({ changes: { displayName: 'again' }, verifiedProof: freshProof() }))
        .thenThrows('MACHINE_IDENTITY_PROOF_INVALID', { reason: 'challenge_used' }));

    it('remembers every challenge a proof of the machine was made with', () =>
      spec
        .given([...HISTORY.active, verifiedEvent()])
        .when({ type: 'archive', id: ID, openOrders: { orderIds: [] } })
        .thenState(
          (s) =>
            s.kind === 'live' &&
            s.usedChallengeIds.length === 2 &&
            s.usedChallengeIds.includes(proof().challengeId) &&
            s.usedChallengeIds.includes(freshProof().proof.challengeId),
        ));
  });

  it('names the stream machine-{id} (§8.7.2)', () => expect(machineStream(ID).streamId).toBe(`machine-${ID}`));
});
