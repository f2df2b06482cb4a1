import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DB_FILE, type Project } from '../db/project.ts';

export const KEEP_BACKUPS = 20;

export function backupFileName(reason: 'manual' | 'scheduled', at = new Date()): string {
  return `${reason}-${at.toISOString().replace(/[:.]/g, '-')}.sqlite`;
}

/**
 * An online backup with SQLite's backup API: consistent even while labels are being written. The
 * copy is made under a temporary name and renamed when complete; old scheduled backups are pruned.
 */
export async function backupProject(project: Project, target?: string, reason: 'manual' | 'scheduled' = 'manual'): Promise<string> {
  fs.mkdirSync(project.backupsDir, { recursive: true });
  const destination = path.resolve(target ?? path.join(project.backupsDir, backupFileName(reason)));
  const temporary = `${destination}.partial`;
  try {
    await project.db.backup(temporary);
    fs.renameSync(temporary, destination);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  pruneScheduledBackups(project.backupsDir);
  return destination;
}

function pruneScheduledBackups(dir: string): void {
  const scheduled = fs.readdirSync(dir).filter((f) => f.startsWith('scheduled-') && f.endsWith('.sqlite')).sort();
  for (const old of scheduled.slice(0, Math.max(0, scheduled.length - KEEP_BACKUPS))) fs.rmSync(path.join(dir, old), { force: true });
}

export function integrityProblems(dbFile: string): string[] {
  const db = new BetterSqlite3(dbFile, { readonly: true, fileMustExist: true });
  try {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
  } finally {
    db.close();
  }
}

/**
 * Replaces the project's database with a backup, after checking the backup's integrity and backing
 * up the current database (so a restore can itself be undone). The project must not be open.
 */
export async function restoreProject(dir: string, backupFile: string, openCurrent: () => Project): Promise<{ safetyCopy: string }> {
  const problems = integrityProblems(backupFile);
  if (problems.length) throw new Error(`the backup ${backupFile} is damaged: ${problems.slice(0, 3).join('; ')}`);
  const current = openCurrent();
  let safetyCopy: string;
  try {
    safetyCopy = await backupProject(current, path.join(current.backupsDir, backupFileName('manual').replace('manual-', 'before-restore-')));
  } finally {
    current.close();
  }
  const dbPath = path.join(dir, DB_FILE);
  const staged = `${dbPath}.restoring`;
  fs.copyFileSync(backupFile, staged);
  for (const suffix of ['-wal', '-shm']) fs.rmSync(dbPath + suffix, { force: true });
  fs.renameSync(staged, dbPath);
  return { safetyCopy };
}
