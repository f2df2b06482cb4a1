/**
 * A regression project (GP, gp.json, no features cache) asked for a re-rank: a clear bad-request
 * through the service and a clear CLI error, not a crash; the GP version stays the latest.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { findImageByPath } from '../../src-main/db/images.ts';
import { addLabel } from '../../src-main/db/labels.ts';
import { listModelVersions } from '../../src-main/db/models.ts';
import { initProject, openProject } from '../../src-main/db/project.ts';
import { importPaths } from '../../src-main/import/importer.ts';
import { trainAndScore } from '../../src-main/jobs/training.ts';
import { createApp } from '../../src-main/service/app.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { episteme } from '../helpers/cli.ts';
import { writeSeverityPngs } from '../helpers/regressionImages.ts';
import { tempDir } from '../helpers/tmp.ts';

test('re-rank of a regression project with a trained GP: clear error from queue.rerank and episteme rerank', async () => {
  const root = tempDir();
  const images = await writeSeverityPngs(path.join(root, 'images'), 24, 5);
  const dir = path.join(root, 'p');
  const project = initProject(dir, { task: 'regression', target: { name: 'severity', min: 0, max: 10 }, imageSize: 28 });
  try {
    await importPaths(project, [path.join(root, 'images')]);
    for (const img of images.slice(0, 16)) addLabel(project.db, findImageByPath(project.db, img.file)!.id, { kind: 'value', value: img.value }, { annotator: 'dr-test' });
    const gp = await trainAndScore(project, { seed: 1 });
    assert.equal(gp.method, 'gp');
  } finally {
    project.close();
  }

  const app = createApp({ mode: 'browser', homeDir: path.join(root, 'home'), backupIntervalMs: 0 });
  try {
    const info = await app.service['project.open']({ dir });
    assert.equal((await app.service['project.status']({ projectId: info.projectId })).rerankBase, null, 'the status offers no re-rank');
    const r = await dispatch(app.service, 'queue.rerank', { projectId: info.projectId });
    assert.ok(!r.ok, 'refused');
    assert.equal(r.error.code, 'bad-request');
    assert.match(r.error.message, /re-rank is for classification projects; retrain the GP/);
  } finally {
    await app.close();
  }

  const cli = await episteme(['rerank', dir]);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /re-rank is for classification projects; retrain the GP/);
  assert.doesNotMatch(cli.stderr, /\n\s+at /, 'a message, not a stack trace');
  const reopened = openProject(dir);
  try {
    assert.deepEqual(listModelVersions(reopened.db).map((v) => v.method), ['gp'], 'no version was added');
  } finally {
    reopened.close();
  }
});
