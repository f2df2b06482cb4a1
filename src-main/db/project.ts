import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { migrate, readMigrations } from './migrations.ts';

export const DB_FILE = 'episteme.sqlite';
export const IMAGE_SIZES = [28, 64, 128, 224] as const;
export type ImageSize = (typeof IMAGE_SIZES)[number];
export type Channels = 1 | 3;

export interface ProjectMeta {
  name: string;
  imageSize: ImageSize;
  channels: Channels;
  createdAt: string;
}

export interface Project {
  dir: string;
  db: Database;
  meta: ProjectMeta;
  /** Class names; a class's index is its position. */
  classes: string[];
  cacheDir: string;
  backupsDir: string;
  close(): void;
}

export interface InitOptions {
  name?: string;
  classes: string[];
  imageSize?: ImageSize;
  channels?: Channels;
}

export class ProjectError extends Error {}

export function isProjectDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, DB_FILE));
}

export function validateClassNames(classes: string[]): string[] {
  const trimmed = classes.map((c) => c.trim());
  if (trimmed.length < 2) throw new ProjectError('a project needs at least two classes');
  if (trimmed.length > 100) throw new ProjectError('at most 100 classes are supported');
  for (const name of trimmed) {
    if (name.length === 0 || name.length > 100) throw new ProjectError(`class names must have 1 to 100 characters (got "${name}")`);
    // Control characters would corrupt CSV export and terminal output.
    if (/\p{Cc}/u.test(name)) throw new ProjectError(`class name ${JSON.stringify(name)} contains a control character`);
  }
  if (new Set(trimmed.map((c) => c.toLowerCase())).size !== trimmed.length) throw new ProjectError('class names must be unique');
  return trimmed;
}

export function initProject(dir: string, options: InitOptions): Project {
  const classes = validateClassNames(options.classes);
  const imageSize = options.imageSize ?? 64;
  if (!IMAGE_SIZES.includes(imageSize)) throw new ProjectError(`image size must be one of ${IMAGE_SIZES.join(', ')}`);
  const channels = options.channels ?? 1;
  if (channels !== 1 && channels !== 3) throw new ProjectError('channels must be 1 or 3');
  if (isProjectDir(dir)) throw new ProjectError(`${dir} already holds a project`);
  fs.mkdirSync(dir, { recursive: true });
  const project = openProject(dir, { create: true });
  project.db.transaction(() => {
    project.db
      .prepare('INSERT INTO project (id, name, image_size, channels, created_at) VALUES (1, ?, ?, ?, ?)')
      .run(options.name ?? path.basename(path.resolve(dir)), imageSize, channels, new Date().toISOString());
    const insertClass = project.db.prepare('INSERT INTO classes (idx, name) VALUES (?, ?)');
    classes.forEach((name, idx) => insertClass.run(idx, name));
  })();
  project.close();
  return openProject(dir);
}

export function openProject(dir: string, { create = false } = {}): Project {
  const dbPath = path.join(dir, DB_FILE);
  if (!create && !fs.existsSync(dbPath)) throw new ProjectError(`${dir} is not an Episteme project (there is no ${DB_FILE} in it)`);
  const cacheDir = path.join(dir, 'cache');
  const backupsDir = path.join(dir, 'backups');
  fs.mkdirSync(cacheDir, { recursive: true });
  const db = new BetterSqlite3(dbPath);
  try {
    db.pragma('journal_mode = WAL');
    // FULL: an acknowledged label survives power loss, not just a process crash.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, readMigrations(), (fromVersion) => {
      fs.mkdirSync(backupsDir, { recursive: true });
      const target = path.join(backupsDir, `before-migration-v${fromVersion}-${Date.now()}.sqlite`);
      db.prepare('VACUUM INTO ?').run(target);
    });
    const meta = create ? undefined : readMeta(db);
    if (!create && !meta) throw new ProjectError(`${dbPath} has no project record`);
    const classes = (db.prepare('SELECT name FROM classes ORDER BY idx').all() as { name: string }[]).map((r) => r.name);
    return {
      dir: path.resolve(dir),
      db,
      meta: meta ?? { name: '', imageSize: 64, channels: 1, createdAt: '' },
      classes,
      cacheDir,
      backupsDir,
      close: () => db.close(),
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

function readMeta(db: Database): ProjectMeta | undefined {
  const row = db.prepare('SELECT name, image_size, channels, created_at FROM project WHERE id = 1').get() as
    | { name: string; image_size: ImageSize; channels: Channels; created_at: string }
    | undefined;
  return row && { name: row.name, imageSize: row.image_size, channels: row.channels, createdAt: row.created_at };
}
