import { deciderSpec } from '../../../test/support/decider-spec';
import { sha256Hex } from '../shared/canonical-json';
import {
  IdentityKey,
  identityReservationDecider,
  IdentityReservationEvent,
  identityReservationStream,
  IN_FLIGHT_RESERVATION_MS,
} from './identity-reservation.decider';

const T0 = '2026-01-01T00:00:00.000Z';
const NOW = '2026-01-01T00:00:30.000Z';
const REF = 'peaqos:machine:42';
const KEY: IdentityKey = { kind: 'identity_ref', value: REF };
const DID_KEY: IdentityKey = { kind: 'did', value: 'did:peaq:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' };

const spec = deciderSpec(identityReservationDecider, { now: NOW });

const reserved = (machineId: string, at = T0, key = KEY): IdentityReservationEvent => ({
  type: 'identity.reserved',
  data: { ...key, machineId, at },
});
const released = (machineId: string, key = KEY): IdentityReservationEvent => ({
  type: 'identity.released',
  data: { ...key, machineId, at: T0 },
});
const reserve = (machineId: string, key = KEY) => ({ type: 'reserve' as const, key, machineId, identityRef: REF });

describe('identity reservation (§4.2 uniqueness)', () => {
  describe('reserve', () => {
    it('takes a free identity', () =>
      spec
        .given([])
        .when(reserve('mach_B'))
        .then([reserved('mach_B', NOW)]));

    it('takes an identity its holder released', () =>
      spec
        .given([reserved('mach_A'), released('mach_A')])
        .when(reserve('mach_B'))
        .then([reserved('mach_B', NOW)]));

    it('is a no-op for the machine that already holds it', () =>
      spec
        .given([reserved('mach_A')])
        .when(reserve('mach_A'))
        .then([]));

    it('refuses while another written, non-archived machine holds it', () =>
      spec
        .given([reserved('mach_A')])
        .when(reserve('mach_B'), { holder: 'holds' })
        .thenThrows('MACHINE_IDENTITY_EXISTS', { identityRef: REF, machineId: 'mach_A' }));

    it('names the DID when the resolved DID is taken', () =>
      spec
        .given([reserved('mach_A', T0, DID_KEY)])
        .when(reserve('mach_B', DID_KEY), { holder: 'holds' })
        .thenThrows('MACHINE_IDENTITY_EXISTS', { identityRef: REF, machineId: 'mach_A', did: DID_KEY.value }));

    it('fails closed when the handler did not say who holds it', () =>
      spec
        .given([reserved('mach_A')])
        .when(reserve('mach_B'))
        .thenThrows('MACHINE_IDENTITY_EXISTS'));

    it('takes over from an archived (or proof-less) holder whose release was never recorded', () =>
      spec
        .given([reserved('mach_A')])
        .when(reserve('mach_B'), { holder: 'released' })
        .then([reserved('mach_B', NOW)]));

    it('refuses while a registration holding it is still in flight', () =>
      spec
        .given([reserved('mach_A')])
        .when(reserve('mach_B'), { holder: 'missing' })
        .thenThrows('MACHINE_IDENTITY_EXISTS'));

    it('takes over a reservation whose machine was never written once the in-flight window passed', () => {
      const later = new Date(Date.parse(T0) + IN_FLIGHT_RESERVATION_MS).toISOString();
      spec
        .given([reserved('mach_A')])
        .when(reserve('mach_B'), { holder: 'missing', now: later })
        .then([reserved('mach_B', later)]);
    });
  });

  describe('release', () => {
    it('releases the holder’s reservation', () =>
      spec
        .given([reserved('mach_A')])
        .when({ type: 'release', key: KEY, machineId: 'mach_A' })
        .then([released('mach_A')].map(at(NOW))));

    it('never releases another machine’s reservation', () =>
      spec
        .given([reserved('mach_B')])
        .when({ type: 'release', key: KEY, machineId: 'mach_A' })
        .then([]));

    it('is a no-op on a free identity', () => spec.given([]).when({ type: 'release', key: KEY, machineId: 'mach_A' }).then([]));
  });

  it('keeps the two kinds of keys in separate internal streams', () => {
    expect(identityReservationStream(KEY).streamId).toBe(`_identity-${sha256Hex(REF)}`);
    expect(identityReservationStream(DID_KEY).streamId).toBe(`_identity-did-${sha256Hex(DID_KEY.value)}`);
    expect(identityReservationStream({ kind: 'identity_ref', value: DID_KEY.value }).streamId).not.toBe(
      identityReservationStream(DID_KEY).streamId,
    );
  });
});

function at(time: string) {
  return (event: IdentityReservationEvent): IdentityReservationEvent => ({ ...event, data: { ...event.data, at: time } });
}
