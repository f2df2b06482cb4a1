import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createApp, type EpistemeApp } from '../../src-main/service/app.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { tempDir } from '../helpers/tmp.ts';

let app: EpistemeApp;
let root: string;
before(() => {
  root = tempDir();
  app = createApp({ mode: 'browser', homeDir: path.join(root, 'home'), backupIntervalMs: 0 });
});
after(() => app.close());

test('bdl.priorPredictive returns the SVG and the options as run; bad input is a bad request', async () => {
  const ok = await dispatch(app.service, 'bdl.priorPredictive', { prior: 'laplace', samples: 3, width: 10, seed: 2 });
  assert.ok(ok.ok);
  const value = ok.value as { svg: string; options: Record<string, unknown> };
  assert.match(value.svg, /^<svg/);
  assert.equal([...value.svg.matchAll(/<polyline class="sample"/g)].length, 6);
  assert.deepEqual(value.options, { prior: 'laplace', samples: 3, width: 10, depth: 2, sigmaW: 1, sigmaB: 1, seed: 2 });
  for (const payload of [{ prior: 'spike-slab' }, { samples: 0 }, { width: 10_000 }, { sigmaW: 0 }, { sigmaB: -1 }, { extra: 1 }, null]) {
    const r = await dispatch(app.service, 'bdl.priorPredictive', payload);
    assert.ok(!r.ok && r.error.code === 'bad-request', JSON.stringify(payload));
  }
});

test('a train job with a prior its method does not take is refused before it starts', async () => {
  const info = await dispatch(app.service, 'project.create', { dir: path.join(root, 'p'), classes: ['a', 'b'] });
  assert.ok(info.ok);
  const projectId = (info.value as { projectId: string }).projectId;
  const r = await dispatch(app.service, 'job.start', { projectId, job: { kind: 'train', method: 'laplace', prior: 'spike-slab' } });
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'bad-request');
  assert.match(r.error.message, /prior 'spike-slab' is not supported for method 'laplace'/);
  const bad = await dispatch(app.service, 'job.start', { projectId, job: { kind: 'train', prior: 'cauchy' } });
  assert.ok(!bad.ok && bad.error.code === 'bad-request');
});
