/** The service contract for regression projects: create, label values, queue with estimates, train 'gp' only. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { createApp } from '../../src-main/service/app.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { writeSeverityPngs } from '../helpers/regressionImages.ts';
import { tempDir } from '../helpers/tmp.ts';

const root = tempDir('episteme-regression-service-');
const app = createApp({ mode: 'browser', homeDir: path.join(root, 'home'), backupIntervalMs: 0 });
after(() => app.close());

async function call<T = any>(method: string, payload: unknown): Promise<T> {
  const result = await dispatch(app.service, method, payload);
  assert.ok(result.ok, `${method}: ${JSON.stringify(result)}`);
  return result.value as T;
}
async function refused(method: string, payload: unknown, message: RegExp): Promise<void> {
  const result = await dispatch(app.service, method, payload);
  assert.ok(!result.ok && result.error.code === 'bad-request', `${method} should be refused: ${JSON.stringify(result)}`);
  assert.match(result.error.message, message);
}

test('regression projects over the service: create, value labels, estimates in the queue, gp only', async () => {
  const images = await writeSeverityPngs(path.join(root, 'images'), 24, 11);
  await refused('project.create', { dir: path.join(root, 'bad'), task: 'regression' }, /needs a target name/);
  await refused('project.create', { dir: path.join(root, 'bad2'), task: 'regression', target: { name: 's', min: 2, max: 1 } }, /below its maximum/);
  await refused('project.create', { dir: path.join(root, 'bad3') }, /at least two classes/);
  const info = await call('project.create', { dir: path.join(root, 'p'), task: 'regression', target: { name: 'severity', min: 0, max: 10 }, imageSize: 28 });
  assert.equal(info.task, 'regression');
  assert.deepEqual(info.target, { name: 'severity', unit: null, min: 0, max: 10 });
  const projectId = info.projectId as string;

  const job = await call('job.start', { projectId, job: { kind: 'import', paths: [path.join(root, 'images')] } });
  while ((await call('job.get', { jobId: job.jobId })).status === 'running') await new Promise((r) => setTimeout(r, 50));
  const queue0 = await call('queue.list', { projectId, acquisition: 'variance', limit: 500 });
  assert.equal(queue0.total, 24);
  const idOf = new Map<string, number>();
  for (const item of queue0.items) idOf.set(item.name, item.imageId);

  await refused('label.add', { projectId, imageId: queue0.items[0].imageId, label: { kind: 'value', value: 11 }, annotator: 'a' }, /outside the range/);
  await refused('label.add', { projectId, imageId: queue0.items[0].imageId, label: { kind: 'class', classIdx: 0 }, annotator: 'a' }, /regression project: its label is a number/);
  const bad = await dispatch(app.service, 'label.add', { projectId, imageId: queue0.items[0].imageId, label: { kind: 'value', value: '3' }, annotator: 'a' });
  assert.ok(!bad.ok && bad.error.code === 'bad-request');
  assert.equal((await call('project.status', { projectId })).values.count, 0, 'nothing was stored');

  const labelled = images.filter((_, i) => i % 2 === 0);
  for (const img of labelled) await call('label.add', { projectId, imageId: idOf.get(path.basename(img.file))!, label: { kind: 'value', value: img.value }, annotator: 'a' });
  const detail = await call('image.detail', { projectId, imageId: idOf.get(path.basename(labelled[0].file))! });
  assert.deepEqual([detail.currentLabel.kind, detail.currentLabel.value], ['value', labelled[0].value]);

  await refused('job.start', { projectId, job: { kind: 'train', method: 'mc-dropout' } }, /classification method/);
  await refused('job.start', { projectId, job: { kind: 'train', epochs: 3 } }, /options of network training/);
  await refused('queue.list', { projectId, acquisition: 'bald' }, /ranked by variance or random/);
  const train = await call('job.start', { projectId, job: { kind: 'train', method: 'gp' } });
  let state = train;
  while (state.status === 'running') {
    await new Promise((r) => setTimeout(r, 100));
    state = await call('job.get', { jobId: train.jobId });
  }
  assert.equal(state.status, 'succeeded', state.error);
  assert.equal(state.result.modelVersion.method, 'gp');
  assert.ok(state.result.modelVersion.regressionMetrics.rmse < 1.5);

  const queue = await call('queue.list', { projectId, acquisition: 'variance', limit: 500 });
  assert.equal(queue.total, 12);
  for (const item of queue.items) {
    assert.equal(item.prediction, null);
    assert.ok(item.estimate.lower < item.estimate.mean && item.estimate.mean < item.estimate.upper);
    assert.ok(Math.abs(item.score - item.estimate.latentStd ** 2) < 1e-9, 'ranked by the latent variance');
  }
  const models = await call('model.list', { projectId });
  assert.equal(models.regressionCurve.length, 1);
  assert.deepEqual(models.learningCurve, []);

  const cls = await call('project.create', { dir: path.join(root, 'c'), classes: ['x', 'y'] });
  assert.equal(cls.task, 'classification');
  await refused('job.start', { projectId: cls.projectId, job: { kind: 'train', method: 'gp' } }, /method of regression projects/);
});
