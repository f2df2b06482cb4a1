import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { defaultArchitecture, validateArchitecture, type Architecture } from '../bdl/architectures.ts';
import { migrate, readMigrations } from './migrations.ts';

export const DB_FILE = 'episteme.sqlite';
export const IMAGE_SIZES = [28, 64, 128, 224] as const;
export type ImageSize = (typeof IMAGE_SIZES)[number];
export type Channels = 1 | 3;
export const TASKS = ['classification', 'regression'] as const;
export type Task = (typeof TASKS)[number];

/** What a regression project's label measures, e.g. a severity score from 0 to 10. */
export interface RegressionTarget {
  name: string;
  unit: string | null;
  min: number | null;
  max: number | null;
}

export interface ProjectMeta {
  name: string;
  imageSize: ImageSize;
  channels: Channels;
  /** The network classification trains (models/convNet.ts); changeable with {@link setArchitecture}. */
  architecture: Architecture;
  createdAt: string;
  task: Task;
  /** Set for regression projects only. */
  target: RegressionTarget | null;
}

export interface Project {
  dir: string;
  db: Database;
  meta: ProjectMeta;
  /** Class names; a class's index is its position. Empty for regression projects. */
  classes: string[];
  cacheDir: string;
  backupsDir: string;
  close(): void;
}

export interface InitOptions {
  name?: string;
  task?: Task;
  /** Classification only (at least two). */
  classes?: string[];
  /** Regression only. */
  target?: { name: string; unit?: string | null; min?: number | null; max?: number | null };
  imageSize?: ImageSize;
  channels?: Channels;
  /** Default: gal-cnn at 28 px, resnet from 64 px up (defaultArchitecture). */
  architecture?: Architecture;
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

function validateText(what: string, value: string, max: number): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max) throw new ProjectError(`${what} must have 1 to ${max} characters (got "${trimmed}")`);
  if (/\p{Cc}/u.test(trimmed)) throw new ProjectError(`${what} ${JSON.stringify(trimmed)} contains a control character`);
  return trimmed;
}

export function validateTarget(target: InitOptions['target']): RegressionTarget {
  if (!target) throw new ProjectError('a regression project needs a target name (what the number measures, e.g. "severity")');
  const bound = (what: string, v: number | null | undefined) => {
    if (v == null) return null;
    if (!Number.isFinite(v)) throw new ProjectError(`the target's ${what} must be a finite number`);
    return v;
  };
  const min = bound('minimum', target.min);
  const max = bound('maximum', target.max);
  if (min !== null && max !== null && !(min < max)) throw new ProjectError(`the target's minimum (${min}) must be below its maximum (${max})`);
  const unit = target.unit == null || target.unit.trim() === '' ? null : validateText('the unit', target.unit, 20);
  return { name: validateText('the target name', target.name, 100), unit, min, max };
}

export function initProject(dir: string, options: InitOptions): Project {
  const task = options.task ?? 'classification';
  if (!TASKS.includes(task)) throw new ProjectError(`the task must be ${TASKS.join(' or ')} (got ${String(task)})`);
  if (task === 'regression' && options.classes?.length) throw new ProjectError('a regression project has no classes: its label is a number');
  if (task === 'classification' && options.target) throw new ProjectError('a target belongs to regression projects; a classification project has classes');
  const classes = task === 'classification' ? validateClassNames(options.classes ?? []) : [];
  const target = task === 'regression' ? validateTarget(options.target) : null;
  const imageSize = options.imageSize ?? 64;
  if (!IMAGE_SIZES.includes(imageSize)) throw new ProjectError(`image size must be one of ${IMAGE_SIZES.join(', ')}`);
  const channels = options.channels ?? 1;
  if (channels !== 1 && channels !== 3) throw new ProjectError('channels must be 1 or 3');
  const architecture = checkedArchitecture(options.architecture ?? defaultArchitecture(imageSize), imageSize, channels);
  if (isProjectDir(dir)) throw new ProjectError(`${dir} already holds a project`);
  fs.mkdirSync(dir, { recursive: true });
  const project = openProject(dir, { create: true });
  project.db.transaction(() => {
    project.db
      .prepare(
        `INSERT INTO project (id, name, image_size, channels, architecture, created_at, task, target_name, target_unit, target_min, target_max)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(options.name ?? path.basename(path.resolve(dir)), imageSize, channels, architecture, new Date().toISOString(), task,
        target?.name ?? null, target?.unit ?? null, target?.min ?? null, target?.max ?? null);
    const insertClass = project.db.prepare('INSERT INTO classes (idx, name) VALUES (?, ?)');
    classes.forEach((name, idx) => insertClass.run(idx, name));
  })();
  project.close();
  return openProject(dir);
}

/** The architecture, refused as a ProjectError when it does not fit the project's images. */
export function checkedArchitecture(architecture: unknown, imageSize: number, channels: number): Architecture {
  try {
    return validateArchitecture(architecture, imageSize, channels);
  } catch (error) {
    throw new ProjectError((error as Error).message);
  }
}

/** Changes the network later versions train; versions already trained keep theirs (recorded in their hyper). */
export function setArchitecture(project: Project, architecture: unknown): Architecture {
  const checked = checkedArchitecture(architecture, project.meta.imageSize, project.meta.channels);
  project.db.prepare('UPDATE project SET architecture = ? WHERE id = 1').run(checked);
  project.meta.architecture = checked;
  return checked;
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
      meta: meta ?? { name: '', imageSize: 64, channels: 1, architecture: 'resnet', createdAt: '', task: 'classification', target: null },
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

interface ProjectRow {
  name: string;
  image_size: ImageSize;
  channels: Channels;
  architecture: Architecture;
  created_at: string;
  task: Task;
  target_name: string | null;
  target_unit: string | null;
  target_min: number | null;
  target_max: number | null;
}

function readMeta(db: Database): ProjectMeta | undefined {
  const row = db.prepare('SELECT * FROM project WHERE id = 1').get() as ProjectRow | undefined;
  return (
    row && {
      name: row.name,
      imageSize: row.image_size,
      channels: row.channels,
      architecture: row.architecture,
      createdAt: row.created_at,
      task: row.task,
      target: row.task === 'regression' ? { name: row.target_name ?? 'value', unit: row.target_unit, min: row.target_min, max: row.target_max } : null,
    }
  );
}
