/** Who caused a change (§8.7.1). */
export type Actor =
  | { type: 'api-key'; id: string }
  | { type: 'agent-pairing'; id: string }
  | { type: 'machine-agent'; id: string }
  | { type: 'system'; id: null }
  | { type: 'anonymous'; id: null };

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null };
export const ANONYMOUS_ACTOR: Actor = { type: 'anonymous', id: null };
