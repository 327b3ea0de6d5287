export const PAIRING_STATUSES = ['active', 'paused', 'revoked'] as const;

export type PairingStatus = (typeof PAIRING_STATUSES)[number];

/** What moves a pairing: the PATCH endpoint (§5.8.6) or the revoke endpoint (§5.8.7). */
export type PairingTrigger = 'patch' | 'revoke';

/**
 * The complete pairing transition table (no other transition exists): `active` ⇄ `paused` through
 * PATCH; either to `revoked` only through the revoke endpoint; `revoked` is final.
 */
export const PAIRING_STATUS_TRANSITIONS: Readonly<Record<PairingStatus, Readonly<Partial<Record<PairingStatus, PairingTrigger>>>>> = {
  active: { paused: 'patch', revoked: 'revoke' },
  paused: { active: 'patch', revoked: 'revoke' },
  revoked: {},
};

export function isAllowedPairingTransition(from: PairingStatus, to: PairingStatus, trigger: PairingTrigger): boolean {
  return PAIRING_STATUS_TRANSITIONS[from][to] === trigger;
}

/** The statuses `trigger` may move a pairing in status `from` to. */
export function allowedPairingTransitions(from: PairingStatus, trigger: PairingTrigger): PairingStatus[] {
  return PAIRING_STATUSES.filter((to) => PAIRING_STATUS_TRANSITIONS[from][to] === trigger);
}

/**
 * What each status allows besides transitions: issuing a session (§5.8.5: rotation only for `active`
 * pairings), counting an order for the machine (§1.3: the acting pairing must be `active`), and
 * changing the description, role or policy (§5.8.6: anything but `revoked`).
 */
export const PAIRING_STATUS_ALLOWS: Readonly<Record<PairingStatus, { sessions: boolean; orders: boolean; updates: boolean }>> = {
  active: { sessions: true, orders: true, updates: true },
  paused: { sessions: false, orders: false, updates: true },
  revoked: { sessions: false, orders: false, updates: false },
};
