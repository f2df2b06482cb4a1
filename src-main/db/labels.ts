import type { Database } from 'better-sqlite3';
import { targetRangeError } from '../regression/values.ts';

/** 'class' in classification projects, 'value' (a finite number) in regression projects. */
export type LabelValue = { kind: 'class'; classIdx: number } | { kind: 'value'; value: number } | { kind: 'skip' } | { kind: 'unsure' };

/** Who labelled, how long it took, and which model and score put the image in front of them. */
export interface LabelContext {
  annotator: string;
  msSpent?: number | null;
  modelVersionId?: number | null;
  acquisition?: string | null;
  acquisitionScore?: number | null;
}

export interface LabelEvent {
  id: number;
  imageId: number;
  kind: 'class' | 'value' | 'skip' | 'unsure' | 'undo';
  classIdx: number | null;
  value: number | null;
  undoesEventId: number | null;
  annotator: string;
  createdAt: string;
  msSpent: number | null;
  modelVersionId: number | null;
  acquisition: string | null;
  acquisitionScore: number | null;
}

const EVENT_COLUMNS = `id, image_id AS imageId, kind, class_idx AS classIdx, value, undoes_event_id AS undoesEventId,
  annotator, created_at AS createdAt, ms_spent AS msSpent, model_version_id AS modelVersionId,
  acquisition, acquisition_score AS acquisitionScore`;

export class LabelError extends Error {}

function insertEvent(db: Database, imageId: number, value: LabelValue | { kind: 'undo'; undoesEventId: number }, context: LabelContext): LabelEvent {
  const annotator = context.annotator.trim();
  if (!annotator) throw new LabelError('an annotator name is required for every label');
  const result = db
    .prepare(
      `INSERT INTO label_events (image_id, kind, class_idx, value, undoes_event_id, annotator, created_at, ms_spent,
         model_version_id, acquisition, acquisition_score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      imageId,
      value.kind,
      value.kind === 'class' ? value.classIdx : null,
      value.kind === 'value' ? value.value : null,
      value.kind === 'undo' ? value.undoesEventId : null,
      annotator,
      new Date().toISOString(),
      context.msSpent == null ? null : Math.max(0, Math.round(context.msSpent)),
      context.modelVersionId ?? null,
      context.acquisition ?? null,
      context.acquisitionScore ?? null,
    );
  return db.prepare(`SELECT ${EVENT_COLUMNS} FROM label_events WHERE id = ?`).get(result.lastInsertRowid) as LabelEvent;
}

/** Appends one label event in its own transaction (the database runs synchronous=FULL). */
export function addLabel(db: Database, imageId: number, value: LabelValue, context: LabelContext): LabelEvent {
  return db.transaction(() => {
    if (!db.prepare('SELECT 1 FROM images WHERE id = ?').get(imageId)) throw new LabelError(`no image with id ${imageId}`);
    checkFitsTask(db, value);
    if (value.kind === 'class' && !db.prepare('SELECT 1 FROM classes WHERE idx = ?').get(value.classIdx)) {
      throw new LabelError(`no class with index ${value.classIdx}`);
    }
    return insertEvent(db, imageId, value, context);
  }).immediate();
}

/** A class label only in a classification project; a finite value, inside the target's range and ±1e300, only in a regression one. */
function checkFitsTask(db: Database, value: LabelValue): void {
  if (value.kind !== 'class' && value.kind !== 'value') return;
  const project = db.prepare('SELECT task, target_name AS name, target_min AS min, target_max AS max FROM project WHERE id = 1').get() as
    | { task: string; name: string | null; min: number | null; max: number | null }
    | undefined;
  const task = project?.task ?? 'classification';
  if (value.kind === 'class' && task !== 'classification') throw new LabelError('this is a regression project: its label is a number, not a class');
  if (value.kind !== 'value') return;
  if (task !== 'regression') throw new LabelError('this is a classification project: its label is a class, not a number');
  if (typeof value.value !== 'number' || !Number.isFinite(value.value)) throw new LabelError(`the value must be a finite number (got ${String(value.value)})`);
  const error = targetRangeError(project!, value.value);
  if (error !== null) throw new LabelError(error);
}

/**
 * Undoes the annotator's latest live label event by appending an undo event; repeated calls walk
 * further back. Returns the event that was undone, or null when there is nothing to undo.
 */
export function undoLast(db: Database, annotator: string): LabelEvent | null {
  return db.transaction(() => {
    const target = db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM live_label_events WHERE annotator = ? ORDER BY id DESC LIMIT 1`)
      .get(annotator.trim()) as LabelEvent | undefined;
    if (!target) return null;
    insertEvent(db, target.imageId, { kind: 'undo', undoesEventId: target.id }, { annotator });
    return target;
  }).immediate();
}

export interface CurrentLabel {
  imageId: number;
  kind: 'class' | 'value' | 'skip' | 'unsure';
  classIdx: number | null;
  value: number | null;
  eventId: number;
  annotator: string;
  createdAt: string;
}

export function currentLabels(db: Database): CurrentLabel[] {
  return db
    .prepare(
      `SELECT image_id AS imageId, kind, class_idx AS classIdx, value, id AS eventId, annotator, created_at AS createdAt
       FROM current_labels ORDER BY image_id`,
    )
    .all() as CurrentLabel[];
}

export function currentLabel(db: Database, imageId: number): CurrentLabel | undefined {
  return db
    .prepare(
      `SELECT image_id AS imageId, kind, class_idx AS classIdx, value, id AS eventId, annotator, created_at AS createdAt
       FROM current_labels WHERE image_id = ?`,
    )
    .get(imageId) as CurrentLabel | undefined;
}

export function labelHistory(db: Database, imageId: number): LabelEvent[] {
  return db.prepare(`SELECT ${EVENT_COLUMNS} FROM label_events WHERE image_id = ? ORDER BY id`).all(imageId) as LabelEvent[];
}

export function eventCounts(db: Database): Map<number, number> {
  const rows = db.prepare('SELECT image_id AS imageId, COUNT(*) AS n FROM label_events GROUP BY image_id').all() as { imageId: number; n: number }[];
  return new Map(rows.map((r) => [r.imageId, r.n]));
}
