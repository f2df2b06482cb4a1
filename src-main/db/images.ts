import type { Database } from 'better-sqlite3';

export interface ImageRow {
  id: number;
  sha256: string;
  path: string;
  kind: 'raster' | 'dicom';
  width: number;
  height: number;
  importedAt: string;
}

const SELECT_IMAGE = 'SELECT id, sha256, path, kind, width, height, imported_at AS importedAt FROM images';

export type UpsertOutcome = 'added' | 'unchanged' | 'moved';

/** Images are identified by content: the same bytes at a new path update the path ("moved"). */
export function upsertImage(db: Database, image: Omit<ImageRow, 'id' | 'importedAt'>): { id: number; outcome: UpsertOutcome } {
  const existing = db.prepare('SELECT id, path FROM images WHERE sha256 = ?').get(image.sha256) as { id: number; path: string } | undefined;
  if (existing) {
    if (existing.path === image.path) return { id: existing.id, outcome: 'unchanged' };
    db.prepare('UPDATE images SET path = ? WHERE id = ?').run(image.path, existing.id);
    return { id: existing.id, outcome: 'moved' };
  }
  const result = db
    .prepare('INSERT INTO images (sha256, path, kind, width, height, imported_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(image.sha256, image.path, image.kind, image.width, image.height, new Date().toISOString());
  return { id: Number(result.lastInsertRowid), outcome: 'added' };
}

export function getImage(db: Database, id: number): ImageRow | undefined {
  return db.prepare(`${SELECT_IMAGE} WHERE id = ?`).get(id) as ImageRow | undefined;
}

export function findImageByPath(db: Database, filePath: string): ImageRow | undefined {
  return db.prepare(`${SELECT_IMAGE} WHERE path = ?`).get(filePath) as ImageRow | undefined;
}

export function findImageBySha(db: Database, sha256: string): ImageRow | undefined {
  return db.prepare(`${SELECT_IMAGE} WHERE sha256 = ?`).get(sha256) as ImageRow | undefined;
}

export function listImages(db: Database): ImageRow[] {
  return db.prepare(`${SELECT_IMAGE} ORDER BY id`).all() as ImageRow[];
}

export function countImages(db: Database): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM images').get() as { n: number }).n;
}
