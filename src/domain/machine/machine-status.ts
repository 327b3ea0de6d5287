export const MACHINE_STATUSES = ['draft', 'active', 'degraded', 'blocked', 'archived'] as const;

export type MachineStatus = (typeof MACHINE_STATUSES)[number];

/**
 * §4.7 as data: the statuses each status may move to. Moving to `active` additionally needs the
 * activation checks, moving to `archived` needs no open orders; `archived` is final.
 */
export const MACHINE_STATUS_TRANSITIONS: Readonly<Record<MachineStatus, readonly MachineStatus[]>> = {
  draft: ['active', 'blocked', 'archived'],
  active: ['degraded', 'blocked', 'archived'],
  degraded: ['active', 'blocked', 'archived'],
  blocked: ['active', 'archived'],
  archived: [],
};

export function isAllowedMachineTransition(from: MachineStatus, to: MachineStatus): boolean {
  return MACHINE_STATUS_TRANSITIONS[from].includes(to);
}
