import { Decider } from '../../../src/domain/shared/decider';
import { DomainError, notFound, stateConflict } from '../../../src/domain/shared/domain-error';

/** A note of the test-only probe feature: just enough of an aggregate to exercise the HTTP conventions. */
export type ProbeNote = {
  id: string;
  title: string;
  tags: string[];
  color: ProbeNoteColor | null;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
};

export type ProbeNoteColor = 'red' | 'blue';

export type ProbeNoteEvent =
  | { type: 'probe_note.created'; data: { id: string; title: string; tags: string[]; color: ProbeNoteColor | null; at: string } }
  | { type: 'probe_note.renamed'; data: { id: string; title: string; at: string } }
  | { type: 'probe_note.archived'; data: { id: string; at: string } };

export type ProbeNoteState = { kind: 'none' } | { kind: 'live'; note: ProbeNote } | { kind: 'archived'; note: ProbeNote };

export type ProbeNoteCommand =
  | { type: 'create'; id: string; title: string; tags?: string[]; color?: ProbeNoteColor }
  | { type: 'rename'; id: string; title: string }
  | { type: 'archive'; id: string };

export const probeNoteDecider: Decider<ProbeNoteCommand, ProbeNoteState, ProbeNoteEvent> = {
  initialState: () => ({ kind: 'none' }),

  evolve(state, event) {
    switch (event.type) {
      case 'probe_note.created': {
        const { id, title, tags, color, at } = event.data;
        return { kind: 'live', note: { id, title, tags, color, createdAt: at, updatedAt: at, archivedAt: null } };
      }
      case 'probe_note.renamed':
        return state.kind === 'live' ? { kind: 'live', note: { ...state.note, title: event.data.title, updatedAt: event.data.at } } : state;
      case 'probe_note.archived':
        return state.kind === 'live'
          ? { kind: 'archived', note: { ...state.note, archivedAt: event.data.at, updatedAt: event.data.at } }
          : state;
    }
  },

  decide(command, state, { now }) {
    switch (command.type) {
      case 'create':
        if (state.kind !== 'none') {
          throw new DomainError('STATE_CONFLICT', `probe-note ${command.id} already exists`, {
            entityType: 'probe-note',
            id: command.id,
            reason: 'exists',
          });
        }
        return [
          {
            type: 'probe_note.created',
            data: { id: command.id, title: command.title, tags: command.tags ?? [], color: command.color ?? null, at: now },
          },
        ];
      case 'rename':
        if (state.kind === 'none') throw notFound('probe-note', command.id);
        if (state.kind === 'archived') throw stateConflict('probe-note', command.id, 'archived', 'note_archived');
        // Renaming to the current title changes nothing, so it writes nothing.
        if (state.note.title === command.title) return [];
        return [{ type: 'probe_note.renamed', data: { id: command.id, title: command.title, at: now } }];
      case 'archive':
        if (state.kind === 'none') throw notFound('probe-note', command.id);
        // Archiving twice is naturally idempotent.
        if (state.kind === 'archived') return [];
        return [{ type: 'probe_note.archived', data: { id: command.id, at: now } }];
    }
  },
};

export function probeNoteStream(id: string) {
  return { streamId: `probe-note-${id}`, entityType: 'probe-note', entityId: id };
}
