import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { listModelVersions } from '../../src-main/db/models.ts';
import { openProject } from '../../src-main/db/project.ts';
import { predictWithVersion } from '../../src-main/jobs/prediction.ts';
import { stackInputs } from '../../src-main/import/cache.ts';
import { listImages } from '../../src-main/db/images.ts';
import { episteme, epistemeJson } from '../helpers/cli.ts';
import { writeTwoClassPngs } from '../helpers/images.ts';
import { repoRoot, tempDir } from '../helpers/tmp.ts';

/** Starts the CLI and SIGKILLs it after `ms`; resolves when it is gone. */
function killAfter(args: string[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(path.join(repoRoot, 'bin/episteme'), args, { stdio: 'ignore', detached: true });
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function labelledProject(root: string): Promise<string> {
  const images = await writeTwoClassPngs(path.join(root, 'images'), 20);
  const project = path.join(root, 'p');
  await epistemeJson(['init', project, '--classes', 'bars,rings', '--image-size', '28']);
  fs.writeFileSync(path.join(root, 'labels.csv'), ['path,label', ...images.slice(0, 30).map((i) => `${i.file},${i.label}`)].join('\n'));
  await epistemeJson(['import', project, path.join(root, 'images'), '--labels', path.join(root, 'labels.csv')]);
  return project;
}

test('kill -9 during training: the previous model version stays loadable, no half-written version appears', async () => {
  const root = tempDir();
  const projectDir = await labelledProject(root);
  await epistemeJson(['train', projectDir, '--method', 'map', '--epochs', '2']);
  for (const ms of [400, 1500, 3000]) await killAfter(['train', projectDir, '--epochs', '40'], ms);
  const project = openProject(projectDir);
  try {
    assert.equal(project.db.pragma('integrity_check', { simple: true }), 'ok');
    const versions = listModelVersions(project.db);
    assert.ok(versions.length >= 1);
    for (const version of versions) {
      assert.ok(fs.existsSync(path.join(projectDir, version.weightsFile, 'weights.bin')), `weights of version ${version.id}`);
    }
    const x = stackInputs(project, listImages(project.db).slice(0, 4).map((i) => i.sha256));
    const predicted = await predictWithVersion(project, versions[0], x);
    assert.deepEqual(predicted.shape.slice(1), [4, 2], 'the first version still predicts');
  } finally {
    project.close();
  }
});

test('kill -9 during export: nothing partial under a final name', async () => {
  const root = tempDir();
  const projectDir = await labelledProject(root);
  const sources = new Map(fs.readdirSync(path.join(root, 'images')).map((f) => [f, createHash('sha256').update(fs.readFileSync(path.join(root, 'images', f))).digest('hex')]));
  // The CLI needs about a second to start; the kills land before, during and after the copying.
  for (const [i, ms] of [600, 900, 1100, 1300, 1600].entries()) {
    const out = path.join(root, `out-${i}`);
    await killAfter(['export', projectDir, out, '--format', 'folders'], ms);
    if (!fs.existsSync(out)) continue;
    for (const entry of fs.readdirSync(out, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || entry.name.includes('.tmp-')) continue;
      const digest = createHash('sha256').update(fs.readFileSync(path.join(entry.parentPath, entry.name))).digest('hex');
      assert.equal(digest, sources.get(entry.name), `${entry.name} is complete`);
    }
  }
  const finished = await episteme(['export', projectDir, path.join(root, 'out-final'), '--format', 'folders']);
  assert.equal(finished.code, 0, 'a later export works');
});
