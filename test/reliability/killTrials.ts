import { spawn } from 'node:child_process';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { upsertImage } from '../../src-main/db/images.ts';
import { initProject } from '../../src-main/db/project.ts';
import { repoRoot } from '../helpers/tmp.ts';

export interface TrialOutcome {
  acknowledged: number;
  lost: number;
  mismatched: number;
  integrity: string;
  stored: number;
}

export function makeKillProject(dir: string): void {
  const project = initProject(dir, { classes: ['a', 'b'] });
  for (let i = 0; i < 50; i++) upsertImage(project.db, { sha256: `k${i}`, path: `/k/${i}.png`, kind: 'raster', width: 1, height: 1 });
  project.close();
}

/**
 * One trial: start the labelling child, SIGKILL it after `killAfterMs`, then reopen the database and
 * check that every acknowledged label is stored exactly as acknowledged.
 */
export async function killTrial(projectDir: string, homeDir: string, killAfterMs: number): Promise<TrialOutcome> {
  const child = spawn(process.execPath, ['--import', path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs'), path.join(repoRoot, 'test/reliability/labellerChild.ts'), projectDir, homeDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks = new Map<number, { imageId: number; classIdx: number }>();
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') resolve();
        const match = /^ack (\d+) (\d+) (\d+)/.exec(line);
        if (match) acks.set(Number(match[1]), { imageId: Number(match[2]), classIdx: Number(match[3]) });
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready: ${stderr}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await ready;
  await new Promise((r) => setTimeout(r, killAfterMs));
  child.kill('SIGKILL');
  await exited;

  const db = new BetterSqlite3(path.join(projectDir, 'episteme.sqlite'));
  try {
    const integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? 'unknown';
    const stored = new Map(
      (db.prepare("SELECT id, image_id AS imageId, class_idx AS classIdx, kind, annotator FROM label_events WHERE annotator = 'kill-test'").all() as {
        id: number;
        imageId: number;
        classIdx: number;
      }[]).map((r) => [r.id, r]),
    );
    let lost = 0;
    let mismatched = 0;
    for (const [id, ack] of acks) {
      const row = stored.get(id);
      if (!row) lost++;
      else if (row.imageId !== ack.imageId || row.classIdx !== ack.classIdx) mismatched++;
    }
    return { acknowledged: acks.size, lost, mismatched, integrity, stored: stored.size };
  } finally {
    db.close();
  }
}
