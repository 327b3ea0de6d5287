import { defineProjection } from '../../../src/infrastructure/projections/projection';
import { ProbeNoteEvent } from './probe-note.decider';

export const PROBE_NOTES = 'probe_notes';

/** The probe notes read model: one row per note, listed by (created_at, id). */
export const probeNotesProjection = defineProjection({
  name: PROBE_NOTES,
  version: 1,
  handles: ['probe_note.created', 'probe_note.renamed', 'probe_note.archived'],
  tables: [PROBE_NOTES],
  setup(db) {
    db.run(`CREATE TABLE IF NOT EXISTS {probe_notes} (
      id TEXT PRIMARY KEY,
      title TEXT NOT NULL,
      tags TEXT NOT NULL,
      color TEXT,
      archived_at TEXT,
      created_at TEXT NOT NULL,
      position TEXT NOT NULL
    )`);
    db.run(`CREATE INDEX IF NOT EXISTS "${db.table(PROBE_NOTES)}_created" ON {probe_notes} (created_at, id)`);
  },
  apply(stored, db) {
    const event = { type: stored.type, data: stored.data } as ProbeNoteEvent;
    switch (event.type) {
      case 'probe_note.created': {
        const { id, title, tags, color, at } = event.data;
        db.run(
          `INSERT INTO {probe_notes} (id, title, tags, color, archived_at, created_at, position) VALUES (?, ?, ?, ?, NULL, ?, ?)
           ON CONFLICT(id) DO UPDATE SET title = excluded.title, tags = excluded.tags, color = excluded.color,
             created_at = excluded.created_at, position = excluded.position`,
          id,
          title,
          JSON.stringify(tags),
          color,
          at,
          stored.position,
        );
        return;
      }
      case 'probe_note.renamed':
        db.run(`UPDATE {probe_notes} SET title = ?, position = ? WHERE id = ?`, event.data.title, stored.position, event.data.id);
        return;
      case 'probe_note.archived':
        db.run(`UPDATE {probe_notes} SET archived_at = ?, position = ? WHERE id = ?`, event.data.at, stored.position, event.data.id);
        return;
    }
  },
});
