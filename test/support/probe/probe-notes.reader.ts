import { Injectable } from '@nestjs/common';
import { ProjectionEngine } from '../../../src/infrastructure/projections/projection-engine';
import { ProbeNote, ProbeNoteColor } from './probe-note.decider';
import { PROBE_NOTES } from './probe-notes.projection';

type Row = { id: string; title: string; tags: string; color: ProbeNoteColor | null; archived_at: string | null; created_at: string };

export type ProbeNoteView = Pick<ProbeNote, 'id' | 'title' | 'tags' | 'color' | 'createdAt' | 'archivedAt'>;
export type ProbeNoteSortKey = [createdAt: string, id: string];

/** Queries over the probe_notes read model (never folds streams per request, ARCHITECTURE §4). */
@Injectable()
export class ProbeNotesReader {
  constructor(private readonly projections: ProjectionEngine) {}

  byId(id: string): ProbeNoteView | undefined {
    const db = this.projections.reader(PROBE_NOTES);
    const row = db.get<Row>(`SELECT * FROM {probe_notes} WHERE id = ?`, id);
    return row && toView(row);
  }

  /** Keyset page in (created_at, id) ascending order, strictly after `after`; `limit` rows at most. */
  list(filters: { titlePrefix?: string }, after: ProbeNoteSortKey | null, limit: number): ProbeNoteView[] {
    const db = this.projections.reader(PROBE_NOTES);
    const where: string[] = [];
    const params: unknown[] = [];
    if (filters.titlePrefix !== undefined) {
      // substr, not LIKE: a prefix match that is case-sensitive and needs no escaping.
      where.push('substr(title, 1, length(?)) = ?');
      params.push(filters.titlePrefix, filters.titlePrefix);
    }
    if (after) {
      where.push('(created_at > ? OR (created_at = ? AND id > ?))');
      params.push(after[0], after[0], after[1]);
    }
    const rows = db.all<Row>(
      `SELECT * FROM {probe_notes} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at, id LIMIT ?`,
      ...params,
      limit,
    );
    return rows.map(toView);
  }
}

export function sortKeyOf(view: ProbeNoteView): ProbeNoteSortKey {
  return [view.createdAt, view.id];
}

function toView(row: Row): ProbeNoteView {
  return {
    id: row.id,
    title: row.title,
    tags: JSON.parse(row.tags) as string[],
    color: row.color,
    createdAt: row.created_at,
    archivedAt: row.archived_at,
  };
}

export function toProbeNoteView({ id, title, tags, color, createdAt, archivedAt }: ProbeNote): ProbeNoteView {
  return { id, title, tags, color, createdAt, archivedAt };
}
