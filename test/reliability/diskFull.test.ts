import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { currentLabels } from '../../src-main/db/labels.ts';
import { openProject } from '../../src-main/db/project.ts';
import { createApp } from '../../src-main/service/app.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { exportProject } from '../../src-main/export/exporter.ts';
import { tempDir } from '../helpers/tmp.ts';
import { makeKillProject } from './killTrials.ts';

/** A 2 MiB tmpfs: a real full disk. Needs root (as in CI); skipped where mounting is not allowed. */
function mountCappedFolder(): string | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-capped-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    fs.rmSync(dir, { recursive: true });
    return null;
  }
  after(() => {
    execFileSync('umount', ['-l', dir]);
    fs.rmSync(dir, { recursive: true });
  });
  return dir;
}

function fillDisk(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  // Fill the last partial block too.
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(512, 1));
  } catch {
    /* full */
  }
  fs.closeSync(fd);
  return filler;
}

const capped = mountCappedFolder();

test('a full disk during label writes and exports: a clear error, the app stays up, nothing stored is lost', { skip: capped ? false : 'mounting a size-capped tmpfs needs root' }, async () => {
  const projectDir = path.join(capped!, 'p');
  makeKillProject(projectDir);
  const app = createApp({ mode: 'browser', homeDir: path.join(tempDir(), 'home'), backupIntervalMs: 0 });
  const { projectId } = app.openProjectDir(projectDir);
  const label = (imageId: number) => dispatch(app.service, 'label.add', { projectId, imageId, label: { kind: 'class', classIdx: 1 }, annotator: 'a', msSpent: 10 });
  for (let id = 1; id <= 5; id++) assert.equal((await label(id)).ok, true);

  const filler = fillDisk(capped!);
  let refused: Awaited<ReturnType<typeof label>> | undefined;
  let acknowledged = 5;
  for (let id = 6; id <= 50 && !refused; id++) {
    const result = await label(id);
    if (result.ok) acknowledged++;
    else refused = result;
  }
  assert.ok(refused && !refused.ok, 'a write on a full disk is refused');
  assert.match(refused.error.message, /disk is full|disk error/);
  assert.equal((await dispatch(app.service, 'project.status', { projectId })).ok, true, 'the service still answers');

  const exportOut = path.join(capped!, 'export');
  const exporting = openProject(projectDir);
  assert.throws(() => exportProject(exporting, exportOut, { format: 'json' }), /ENOSPC|full/);
  exporting.close();
  assert.ok(!fs.existsSync(path.join(exportOut, 'labels.json')), 'no partial export under the final name');

  fs.rmSync(filler);
  assert.equal((await label(60 % 50)).ok, true, 'labelling works again once there is space');
  await app.close();
  const reopened = openProject(projectDir);
  assert.equal(reopened.db.pragma('integrity_check', { simple: true }), 'ok');
  assert.ok(currentLabels(reopened.db).length >= acknowledged, 'every acknowledged label is stored');
  reopened.close();
});
