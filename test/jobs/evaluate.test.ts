/**
 * `evaluate` as a job of the app, through dispatch: the options reach it, the result matches the
 * contract (an undefined metric arrives as null with its reason), and bad options are refused up front.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { test } from 'node:test';
import { createApp } from '../../src-main/service/app.ts';
import { JobState, type JobStateT } from '../../src-main/service/contract.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { formatCsv } from '../../src-main/util/csv.ts';
import { epistemeJson } from '../helpers/cli.ts';
import { writeTwoClassPngs } from '../helpers/images.ts';
import { tempDir } from '../helpers/tmp.ts';

test('the evaluate job: threshold and bootstrap reach it; a class absent from the CSV gives AUROC null with a reason', async () => {
  const root = tempDir();
  const project = path.join(root, 'project');
  const images = await writeTwoClassPngs(path.join(root, 'images'), 15);
  await epistemeJson(['init', project, '--classes', 'bars,rings', '--image-size', '28']);
  const labelCsv = path.join(root, 'labels.csv');
  fs.writeFileSync(labelCsv, formatCsv([['path', 'label'], ...images.slice(0, 20).map((i) => [i.file, i.label])]));
  await epistemeJson(['import', project, path.join(root, 'images'), '--labels', labelCsv]);
  await epistemeJson(['train', project, '--epochs', '3']);
  const onlyBars = path.join(root, 'bars.csv');
  fs.writeFileSync(onlyBars, formatCsv([['path', 'label'], ...images.slice(20).filter((i) => i.label === 'bars').map((i) => [i.file, i.label])]));

  const app = createApp({ mode: 'browser', homeDir: path.join(root, 'home'), backupIntervalMs: 0 });
  try {
    const call = async <T = any>(method: string, payload: unknown): Promise<T> => {
      const r = await dispatch(app.service, method, payload);
      if (!r.ok) throw new Error(`${method}: ${r.error.message}`);
      return r.value as T;
    };
    const { projectId } = await call('project.open', { dir: project });
    let state = await call<JobStateT>('job.start', { projectId, job: { kind: 'evaluate', labels: onlyBars, threshold: 0.4, bootstrap: 100 } });
    for (const until = Date.now() + 60_000; state.status === 'running' && Date.now() < until; await new Promise((r) => setTimeout(r, 100))) state = await call<JobStateT>('job.get', { jobId: state.jobId });
    assert.equal(state.status, 'succeeded', state.error);
    JobState.parse(state);
    assert.ok(state.result?.kind === 'evaluate');
    const c = state.result.report.clinical;
    assert.deepEqual(c.operatingPoint, { rule: 'threshold', threshold: 0.4, positiveClass: 1 });
    assert.equal(c.bootstrap.resamples, 100);
    assert.equal(c.auroc.value, null);
    assert.match(c.auroc.reason!, /class 1 is absent/);
    assert.equal(c.sensitivity.value, null);
    assert.ok(c.specificity.value !== null, 'the negatives are all there');
    assert.deepEqual(c.prevalence.counts, [state.result.report.evaluated, 0]);

    await assert.rejects(call('job.start', { projectId, job: { kind: 'evaluate', labels: onlyBars, threshold: 1 } }), /threshold/);
    await assert.rejects(call('job.start', { projectId, job: { kind: 'evaluate', labels: onlyBars, positive: 'stripes' } }), /--positive "stripes" is not one of bars, rings/);
  } finally {
    await app.close();
  }
});
