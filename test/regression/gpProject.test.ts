/**
 * A regression project end to end through the core: images whose brightness and size are a known
 * function of a severity, numeric labels, GP training in the worker, predictions, ranking by
 * variance, evaluation and export.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { findImageByPath } from '../../src-main/db/images.ts';
import { addLabel } from '../../src-main/db/labels.ts';
import { listModelVersions } from '../../src-main/db/models.ts';
import { initProject } from '../../src-main/db/project.ts';
import { regressionScoresOf } from '../../src-main/db/regressionScores.ts';
import { exportProject } from '../../src-main/export/exporter.ts';
import { importPaths } from '../../src-main/import/importer.ts';
import { evaluateRegressionOnCsv } from '../../src-main/jobs/regressionEvaluation.ts';
import { trainAndScore } from '../../src-main/jobs/training.ts';
import { projectStatus } from '../../src-main/project/status.ts';
import { rankedQueue } from '../../src-main/ranking/queue.ts';
import { formatCsv, parseCsvRecords } from '../../src-main/util/csv.ts';
import { writeSeverityPngs } from '../helpers/regressionImages.ts';
import { tempDir } from '../helpers/tmp.ts';

function pearson(a: number[], b: number[]): number {
  const ma = a.reduce((s, v) => s + v, 0) / a.length;
  const mb = b.reduce((s, v) => s + v, 0) / b.length;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

test('GP regression project: train on numeric labels, predict, rank by variance, evaluate, export', async () => {
  const root = tempDir();
  const images = await writeSeverityPngs(path.join(root, 'images'), 80, 3);
  const project = initProject(path.join(root, 'p'), { task: 'regression', target: { name: 'severity', unit: 'points', min: 0, max: 10 }, imageSize: 28 });
  assert.equal(project.meta.task, 'regression');
  assert.deepEqual(project.meta.target, { name: 'severity', unit: 'points', min: 0, max: 10 });
  assert.deepEqual(project.classes, []);
  const summary = await importPaths(project, [path.join(root, 'images')]);
  assert.equal(summary.added, 80);

  // Labels only for severities up to 5 (every other one): the brightest, largest discs are far from every label.
  const labelled = images.filter((img, i) => img.value <= 5 && i % 2 === 0);
  const unseen = images.filter((img) => !labelled.includes(img));
  for (const img of labelled) addLabel(project.db, findImageByPath(project.db, img.file)!.id, { kind: 'value', value: img.value }, { annotator: 'dr-test' });
  assert.throws(() => addLabel(project.db, findImageByPath(project.db, images[1].file)!.id, { kind: 'class', classIdx: 0 }, { annotator: 'a' }), /regression project/);

  const phases = new Set<string>();
  const version = await trainAndScore(project, { seed: 1, onProgress: (p) => phases.add(p.phase) });
  assert.deepEqual([...phases].sort(), ['scoring', 'training']);
  assert.equal(version.method, 'gp');
  assert.equal(version.nLabels, labelled.length);
  assert.equal(version.metrics, null);
  const m = version.regressionMetrics!;
  assert.ok(m.heldOut >= 2, 'a held-out fifth with ≥ 10 labels');
  assert.ok(m.rmse < 1, `held-out RMSE ${m.rmse} (labels span 0–5)`);
  for (const key of ['signalVariance', 'lengthscale', 'noiseVariance', 'noiseStd', 'logMarginalLikelihood']) {
    assert.ok(Number.isFinite(version.hyper[key] as number), `hyper ${key} recorded`);
  }
  assert.equal(version.hyper.gpPoints, version.hyper.trainImages, 'below the limit the GP conditions on every training image');

  // Predictions on the pool follow the truth; the 90% interval is wider far from the labels.
  const scores = new Map(regressionScoresOf(project.db, version.id).map((s) => [s.imageId, s]));
  const pool = unseen.map((img) => ({ img, s: scores.get(findImageByPath(project.db, img.file)!.id)! }));
  assert.equal(pool.length, unseen.length);
  const near = pool.filter((p) => p.img.value <= 5);
  assert.ok(pearson(near.map((p) => p.s.mean), near.map((p) => p.img.value)) > 0.95, 'interpolation correlates with the truth');
  // An RBF GP reverts to the prior far from its data: there it must say so, with a larger latent variance.
  const far = pool.filter((p) => p.img.value >= 7);
  const meanVar = (ps: typeof pool) => ps.reduce((a, p) => a + p.s.latentVariance, 0) / ps.length;
  assert.ok(meanVar(far) > 3 * meanVar(near), `latent variance far ${meanVar(far)} vs near ${meanVar(near)}`);
  const inside = near.filter((p) => Math.abs(p.img.value - p.s.mean) <= 1.645 * Math.sqrt(p.s.predictiveVariance)).length;
  assert.ok(inside / near.length >= 0.75, `90% interval covers ${inside} of ${near.length}`);
  for (const p of pool) assert.ok(p.s.predictiveVariance > p.s.latentVariance && p.s.latentVariance >= 0);

  // Ranking by variance: the images far from every label (severity ≥ 7) come first.
  const queue = rankedQueue(project, 'variance');
  assert.equal(queue.entries.length, unseen.length);
  const truth = new Map(images.map((img) => [img.file, img.value]));
  const top = queue.entries.slice(0, 10).map((e) => truth.get(e.image.path)!);
  assert.ok(top.every((v) => v >= 7), `top of the queue: ${top.join(', ')}`);
  for (let i = 1; i < queue.entries.length; i++) assert.ok(queue.entries[i - 1].score! >= queue.entries[i].score!);
  assert.throws(() => rankedQueue(project, 'bald'), /ranked by variance or random/);

  // Evaluation on a CSV of unlabelled images with their true values.
  const csv = path.join(root, 'truth.csv');
  fs.writeFileSync(csv, formatCsv([['path', 'label'], ...near.map((p) => [p.img.file, p.img.value]), [labelled[0].file, labelled[0].value], [near[0].img.file, 'eleven']]));
  const report = await evaluateRegressionOnCsv(project, csv);
  assert.equal(report.evaluated, near.length);
  assert.equal(report.excludedAsLabelled, 1);
  assert.deepEqual(report.failed.map((f) => f.code), ['bad-value']);
  assert.ok(report.metrics.rmse < 1 && report.metrics.coverage90 >= 0.6, JSON.stringify(report.metrics));

  // Status and export carry the numbers.
  const status = projectStatus(project);
  assert.equal(status.values!.count, labelled.length);
  assert.equal(status.unlabelled, unseen.length);
  const out = exportProject(project, path.join(root, 'export'), { format: 'csv' });
  assert.equal(out.rows, labelled.length);
  const rows = parseCsvRecords(fs.readFileSync(path.join(out.out, 'labels.csv'), 'utf8'), ['path', 'label']);
  assert.deepEqual(rows.map((r) => Number(r.label)).sort((a, b) => a - b), labelled.map((l) => l.value).sort((a, b) => a - b));
  const json = JSON.parse(fs.readFileSync(path.join(exportProject(project, path.join(root, 'export-json'), { format: 'json' }).out, 'labels.json'), 'utf8'));
  assert.equal(json.project.task, 'regression');
  assert.equal(json.target.name, 'severity');
  assert.equal(typeof json.rows[0].value, 'number');
  assert.throws(() => exportProject(project, path.join(root, 'export-folders'), { format: 'folders' }), /csv or json/);
  await assert.rejects(trainAndScore(project, { method: 'mc-dropout' }), /classification method/);
  project.close();
});

test('a failure while writing the scores leaves no model version behind (one transaction)', async () => {
  const root = tempDir();
  const images = await writeSeverityPngs(path.join(root, 'images'), 12, 5);
  const project = initProject(path.join(root, 'p'), { task: 'regression', target: { name: 'severity', unit: null, min: 0, max: 10 }, imageSize: 28 });
  try {
    await importPaths(project, [path.join(root, 'images')]);
    for (const img of images.slice(0, 6)) addLabel(project.db, findImageByPath(project.db, img.file)!.id, { kind: 'value', value: img.value }, { annotator: 'a' });
    project.db.exec("CREATE TEMP TRIGGER scores_fail BEFORE INSERT ON regression_scores BEGIN SELECT RAISE(ABORT, 'simulated crash while scoring'); END");
    await assert.rejects(trainAndScore(project, { seed: 1 }), /simulated crash while scoring/);
    assert.deepEqual(listModelVersions(project.db), []);
    project.db.exec('DROP TRIGGER scores_fail');
    const version = await trainAndScore(project, { seed: 1 });
    assert.equal(regressionScoresOf(project.db, version.id).length, 6);
  } finally {
    project.close();
  }
});
