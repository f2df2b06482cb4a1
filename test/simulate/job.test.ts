/**
 * The simulator as a job of the app, through dispatch: it runs with progress and a result, refuses a
 * second one, and cancels; project.status carries the stopping signal of the last two versions.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { upsertImage } from '../../src-main/db/images.ts';
import { insertModelVersion, replaceScores } from '../../src-main/db/models.ts';
import { initProject } from '../../src-main/db/project.ts';
import { createApp, type EpistemeApp } from '../../src-main/service/app.ts';
import type { JobStateT } from '../../src-main/service/contract.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { tempDir } from '../helpers/tmp.ts';
import { writeSyntheticFolder } from './helpers.ts';

// At the top level: a tempDir made inside before() would be removed when before() ends.
const root = tempDir('episteme-simjob-');
let data: string;
let app: EpistemeApp;
let projectId: string;
const events: JobStateT[] = [];

async function call<T = any>(method: string, payload: unknown): Promise<T> {
  const r = await dispatch(app.service, method, payload);
  if (!r.ok) throw Object.assign(new Error(`${method}: ${r.error.message}`), { code: r.error.code });
  return r.value as T;
}

async function waitFor(jobId: string, done: (s: JobStateT) => boolean, timeoutMs: number): Promise<JobStateT> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const state = await call<JobStateT>('job.get', { jobId });
    if (done(state)) return state;
    if (Date.now() > until) throw new Error(`job ${jobId} still ${state.status} (${state.message}) after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A project whose two model versions' pool scores agree on 39 of 40 images. */
function writeProjectWithTwoVersions(dir: string): void {
  const project = initProject(dir, { classes: ['a', 'b'], imageSize: 28 });
  try {
    const ids = Array.from({ length: 41 }, (_, i) => upsertImage(project.db, { sha256: `${i}`.padStart(64, '0'), path: `/nowhere/${i}.png`, kind: 'raster', width: 28, height: 28 }).id);
    const score = (imageId: number, predicted: number, epistemic: number) => ({
      imageId, predicted, epistemic, probsMean: new Float32Array(2), probsLower: new Float32Array(2), probsUpper: new Float32Array(2),
      aleatoric: 0, entropy: 0, margin: 0, varRatios: 0, meanStd: 0,
    });
    const version = (nLabels: number) =>
      insertModelVersion(project.db, { method: 'mc-dropout', hyper: {}, backend: 'wasm', metrics: null, nLabels, trainSeconds: 1, weightsFile: 'models/x' });
    const v1 = version(20);
    replaceScores(project.db, v1.id, ids.slice(0, 41).map((id, i) => score(id, i % 2, 0.3)));
    const v2 = version(21);
    // Image 0 was labelled in between (not scored by v2); image 40 changed its prediction.
    replaceScores(project.db, v2.id, ids.slice(1).map((id, i) => score(id, id === ids[40] ? 1 - ((i + 1) % 2) : (i + 1) % 2, i === 3 ? 0.25 : 0.1)));
  } finally {
    project.close();
  }
}

before(async () => {
  data = await writeSyntheticFolder(path.join(root, 'images'));
  writeProjectWithTwoVersions(path.join(root, 'project'));
  app = createApp({ mode: 'browser', homeDir: path.join(root, 'home'), backupIntervalMs: 0 });
  app.subscribe((name, payload) => {
    if (name === 'job.progress') events.push(payload as JobStateT);
  });
  projectId = (await call('project.open', { dir: path.join(root, 'project') })).projectId;
});
after(async () => {
  await app?.close();
});

test('project.status carries the stopping signal of the last two model versions', async () => {
  const status = await call('project.status', { projectId });
  assert.ok(status.stopping);
  assert.equal(status.stopping.agreement, 39 / 40);
  assert.equal(status.stopping.maxEpistemic, 0.25);
  assert.equal(status.stopping.stop, false);
  assert.match(status.stopping.reason, /still changing: 97\.5% unchanged/);
  // Cached between calls, and the same answer.
  assert.deepEqual((await call('project.status', { projectId })).stopping, status.stopping);
});

test('a simulate job runs with progress, writes its files and reports its summary', { timeout: 300_000 }, async () => {
  const out = path.join(root, 'sim-out');
  const started = await call<JobStateT>('job.start', {
    projectId,
    job: { kind: 'simulate', dataset: data, acquisitions: ['bald', 'random'], initial: 4, step: 4, rounds: 1, seeds: 1, epochs: 2, samples: 3, out },
  });
  assert.equal(started.kind, 'simulate');
  assert.equal(started.status, 'running');
  const done = await waitFor(started.jobId, (s) => s.status !== 'running', 240_000);
  assert.equal(done.status, 'succeeded', done.error);
  assert.equal(done.result?.kind, 'simulate');
  if (done.result?.kind !== 'simulate') return;
  assert.equal(done.result.out, out);
  assert.equal(done.result.rounds, 4);
  assert.deepEqual(done.result.acquisitions.map((a) => a.acquisition), ['bald', 'random']);
  for (const a of done.result.acquisitions) assert.deepEqual(a.curve.map((c) => c.labels), [4, 8]);
  for (const f of ['rounds.csv', 'summary.json', 'learning-curve.svg']) assert.ok(fs.existsSync(path.join(out, f)), f);
  const mine = events.filter((e) => e.jobId === started.jobId);
  assert.ok(mine.some((e) => e.status === 'running' && e.fraction > 0 && /round/.test(e.message)), 'progress with a message');
});

test('a simulate job refuses a second one, bad payloads, and cancels', { timeout: 120_000 }, async () => {
  const bad = await dispatch(app.service, 'job.start', { projectId, job: { kind: 'simulate', dataset: 'relative/dir' } });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.error.code, 'bad-request');
  const unknown = await dispatch(app.service, 'job.start', { projectId, job: { kind: 'simulate', dataset: data, acquisitions: ['oracle'] } });
  assert.equal(unknown.ok, false);

  const started = await call<JobStateT>('job.start', { projectId, job: { kind: 'simulate', dataset: data, acquisitions: ['bald'], initial: 4, step: 4, rounds: 50, epochs: 200 } });
  const second = await dispatch(app.service, 'job.start', { projectId, job: { kind: 'simulate', dataset: data } });
  assert.equal(second.ok, false);
  if (!second.ok) assert.equal(second.error.code, 'conflict');
  // Cancel once the worker is training.
  await waitFor(started.jobId, (s) => s.status !== 'running' || /training/.test(s.message), 60_000);
  const cancelling = await call<JobStateT>('job.cancel', { jobId: started.jobId });
  assert.equal(cancelling.jobId, started.jobId);
  const t0 = Date.now();
  const final = await waitFor(started.jobId, (s) => s.status !== 'running', 10_000);
  assert.equal(final.status, 'cancelled');
  assert.ok(Date.now() - t0 < 5000, 'cancel stops the worker at once');
});

test('a simulate job cancelled after some rounds keeps them: partial result and files', { timeout: 180_000 }, async () => {
  const out = path.join(root, 'sim-partial');
  const started = await call<JobStateT>('job.start', {
    projectId,
    job: { kind: 'simulate', dataset: data, acquisitions: ['bald'], initial: 4, step: 4, rounds: 50, epochs: 30, samples: 3, out },
  });
  await waitFor(started.jobId, (s) => s.status !== 'running' || /round 1\/50, training/.test(s.message), 120_000);
  await call('job.cancel', { jobId: started.jobId });
  const final = await waitFor(started.jobId, (s) => s.status !== 'running', 10_000);
  assert.equal(final.status, 'cancelled');
  assert.equal(final.result?.kind, 'simulate');
  if (final.result?.kind !== 'simulate') return;
  assert.equal(final.result.complete, false);
  assert.ok(final.result.rounds >= 1 && final.result.rounds < 51, `${final.result.rounds} rounds`);
  assert.equal(final.result.acquisitions[0].curve[0].labels, 4);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.complete, false);
  const csvRows = fs.readFileSync(path.join(out, 'rounds.csv'), 'utf8').trim().split('\n').length - 1;
  assert.equal(csvRows, final.result.rounds);
});
