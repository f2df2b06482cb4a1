/**
 * The interactive re-rank's parts: the features cache, the head on a features matrix (the same
 * scores as the 'last-layer' posterior's own predictive on the same features), the direction of a
 * re-rank after new labels, no tensor leaks, and the service method's errors.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createPosterior, initBackend, type LastLayerPosterior } from '../../src-main/bdl/index.ts';
import { initProject } from '../../src-main/db/project.ts';
import { poolScores } from '../../src-main/jobs/poolScores.ts';
import { FeatureCacheError, featuresPath, readCachedFeatures, writeCachedFeatures } from '../../src-main/ranking/featureCache.ts';
import { rerankFeatures } from '../../src-main/ranking/rerank.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { createApp } from '../../src-main/service/app.ts';
import { mulberry32 } from '../../src-main/bdl/util/random.ts';
import { bars } from '../bdl/methodFixtures.ts';
import { tempDir } from '../helpers/tmp.ts';

test('features cache: round trip, missing → null, damaged → clear error, no temporary files left', () => {
  const project = initProject(path.join(tempDir(), 'p'), { classes: ['a', 'b'], imageSize: 28 });
  try {
    const imageIds = Int32Array.from([5, 9, 2]);
    const features = Float32Array.from({ length: 3 * 4 }, (_, i) => i * 0.5 - 1);
    writeCachedFeatures(project, 7, { imageIds, features, dim: 4 });
    const back = readCachedFeatures(project, 7)!;
    assert.equal(back.dim, 4);
    assert.deepEqual([...back.imageIds], [5, 9, 2]);
    assert.deepEqual([...back.features], [...features]);
    assert.deepEqual(fs.readdirSync(path.dirname(featuresPath(project, 7))), ['v7.bin']);
    assert.equal(readCachedFeatures(project, 8), null);
    assert.throws(() => writeCachedFeatures(project, 9, { imageIds, features: new Float32Array(5), dim: 4 }), FeatureCacheError);
    fs.writeFileSync(featuresPath(project, 7), fs.readFileSync(featuresPath(project, 7)).subarray(0, 30));
    assert.throws(() => readCachedFeatures(project, 7), /damaged.*train again/);
  } finally {
    project.close();
  }
});

/** Two Gaussian clusters per class in 16-d: features where "near a labelled image" is meaningful. */
function clusters(n: number, seed: number): { phi: Float32Array; y: Int32Array; cluster: Int32Array } {
  const rand = mulberry32(seed);
  const d = 16;
  const centres = [0, 1, 2, 3].map(() => Float32Array.from({ length: d }, () => rand() * 4));
  const phi = new Float32Array(n * d);
  const y = new Int32Array(n);
  const cluster = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    cluster[i] = i % 4;
    y[i] = cluster[i] % 2;
    for (let j = 0; j < d; j++) phi[i * d + j] = Math.max(0, centres[cluster[i]][j] + (rand() - 0.5) * 0.6);
  }
  return { phi, y, cluster };
}

test('a re-rank after labels from a new cluster lowers the epistemic score of that cluster', async () => {
  const { phi, y, cluster } = clusters(400, 3);
  const rows = (pred: (i: number) => boolean) => [...Array(400).keys()].filter(pred);
  // first labels: clusters 0 and 1 only (one per class); cluster 2 (class 0) and 3 (class 1) unseen
  const firstLabelled = rows((i) => cluster[i] < 2 && i < 40);
  const pool = rows((i) => !(cluster[i] < 2 && i < 40) && i >= 48);
  const newLabels = rows((i) => cluster[i] >= 2 && i >= 40 && i < 48);
  const meanEpistemic = (scores: Float32Array, poolRows: number[], c: number) => {
    const picked = poolRows.map((r, k) => [r, scores[k]] as const).filter(([r]) => cluster[r] === c);
    return picked.reduce((a, [, v]) => a + v, 0) / picked.length;
  };
  const before = await rerankFeatures(phi, 16, firstLabelled, Int32Array.from(firstLabelled, (r) => y[r]), pool, 2);
  const labelled = [...firstLabelled, ...newLabels];
  const after = await rerankFeatures(phi, 16, labelled, Int32Array.from(labelled, (r) => y[r]), pool, 2);
  for (const c of [2, 3]) {
    const b = meanEpistemic(before.scores.epistemic, pool, c);
    const a = meanEpistemic(after.scores.epistemic, pool, c);
    assert.ok(a < 0.5 * b, `cluster ${c}: epistemic ${b} before, ${a} after labelling some of its images`);
  }
  assert.equal(after.head.examples, labelled.length);
});

test('re-rank on features = the last-layer posterior fitted on the same features; no tensors leak', async () => {
  await initBackend('auto');
  const train = bars(24, 1);
  const pool = bars(40, 2);
  const posterior = createPosterior({ method: 'last-layer', lastLayerModel: 'linear', imageSize: 28, channels: 1, numClasses: 2, seed: 5, mcSamples: 20 }) as LastLayerPosterior;
  try {
    // An untrained network's features are as good as any for comparing the two paths.
    const trainPhi = (await posterior.features(train.x)).features;
    const poolPhi = (await posterior.features(pool.x)).features;
    await posterior.fitHead(trainPhi, 128, train.y);
    const full = poolScores(await posterior.predictiveSamples(pool.x, { samples: 20, seed: 11 }), 2);

    const phi = new Float32Array(trainPhi.length + poolPhi.length);
    phi.set(trainPhi);
    phi.set(poolPhi, trainPhi.length);
    const before = tf.memory().numTensors;
    const re = await rerankFeatures(phi, 128, [...Array(24).keys()], train.y, Array.from({ length: 40 }, (_, i) => 24 + i), 2, { samples: 20, seed: 11 });
    assert.equal(tf.memory().numTensors, before, 'a re-rank creates no tensors');
    const a = posterior.linearPosterior!;
    assert.ok(re.head.kind === 'linear' && Math.abs(re.head.blr.alpha - a.alpha) < 1e-9 * a.alpha && Math.abs(re.head.blr.beta - a.beta) < 1e-9 * a.beta);
    for (let i = 0; i < 40; i++) {
      assert.ok(Math.abs(re.scores.epistemic[i] - full.epistemic[i]) < 1e-4, `image ${i}: BALD ${re.scores.epistemic[i]} vs ${full.epistemic[i]}`);
      assert.ok(Math.abs(re.scores.probsMean[2 * i] - full.probsMean[2 * i]) < 1e-4);
    }
    const order = (e: Float32Array) => [...e.keys()].sort((i, j) => e[j] - e[i] || i - j);
    const spread = Math.max(...full.epistemic) - Math.min(...full.epistemic);
    assert.ok(spread > 1e-3, 'the scores differ enough for the order to mean something');
    assert.deepEqual(order(re.scores.epistemic).slice(0, 10), order(full.epistemic).slice(0, 10));
  } finally {
    posterior.dispose();
  }
});

test('queue.rerank: validated input, clear errors without a model or cached features', async () => {
  const home = tempDir();
  const app = createApp({ mode: 'browser', homeDir: home, backupIntervalMs: 0 });
  try {
    const bad = await dispatch(app.service, 'queue.rerank', { projectId: 'x1' });
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.error.code, 'bad-request');
    const extra = await dispatch(app.service, 'queue.rerank', { projectId: 'p1', model: 'logistic' });
    assert.equal(!extra.ok && extra.error.code, 'bad-request');
    const missing = await dispatch(app.service, 'queue.rerank', { projectId: 'p9' });
    assert.equal(!missing.ok && missing.error.code, 'not-found');

    const info = await app.service['project.create']({ dir: path.join(home, 'proj'), classes: ['a', 'b'], imageSize: 28 });
    const none = await dispatch(app.service, 'queue.rerank', { projectId: info.projectId });
    assert.equal(none.ok, false);
    assert.equal(!none.ok && none.error.code, 'bad-request');
    assert.match(!none.ok ? none.error.message : '', /no model version yet/);
    assert.equal((await app.service['project.status']({ projectId: info.projectId })).rerankBase, null, 'no re-rank offered before a model');
  } finally {
    await app.close();
  }
});
