import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { parseCsvRecords, formatCsv } from '../../src-main/util/csv.ts';
import { episteme, epistemeJson } from '../helpers/cli.ts';
import { writeTwoClassPngs } from '../helpers/images.ts';
import { writeMnistPngs } from '../helpers/mnistPngs.ts';
import { sharedDicom, sharedMnist, skipWithoutShared, tempDir } from '../helpers/tmp.ts';

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
}

/** The clinical report of `evaluate --json` agrees with itself: counts, accuracy, prevalence, intervals, today's metrics. */
function assertClinicalConsistent(report: any, n: number): void {
  const c = report.clinical;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  assert.equal(c.n, n);
  assert.equal(sum(c.confusion.flat()), n, 'the confusion matrix counts every image once');
  assert.ok(Math.abs(c.accuracy.value - sum(c.confusion.map((row: number[], k: number) => row[k])) / n) < 1e-12, 'accuracy is its trace / N');
  assert.deepEqual(c.prevalence.counts, c.confusion.map(sum), 'prevalence: the rows of the confusion matrix');
  assert.ok(Math.abs(sum(c.prevalence.shares) - 1) < 1e-12);
  for (const name of ['accuracy', 'balancedAccuracy', 'auroc', 'sensitivity', 'specificity', 'ppv', 'npv', 'nll', 'ece', 'brier']) {
    const e = c[name];
    assert.ok(e && 'value' in e && 'low' in e && 'high' in e, `${name} is reported`);
    if (e.value !== null && e.low !== null) assert.ok(e.low - 1e-12 <= e.value && e.value <= e.high + 1e-12, `${name}: ${JSON.stringify(e)}`);
  }
  for (const name of ['nll', 'ece', 'brier']) assert.ok(Math.abs(c[name].value - report.metrics[name]) < 1e-9, `${name} as in metrics`);
  assert.equal(c.perClass.length, c.classes.length);
}

test('the whole loop through the CLI on generated images', async () => {
  const root = tempDir();
  const project = path.join(root, 'project');
  const images = await writeTwoClassPngs(path.join(root, 'images'), 30);
  assert.equal((await episteme(['--help'])).code, 0);
  await epistemeJson(['init', project, '--classes', 'bars,rings', '--image-size', '28']);
  const imported = await epistemeJson(['import', project, path.join(root, 'images')]);
  assert.equal(imported.added, 60);

  const labelCsv = path.join(root, 'first.csv');
  fs.writeFileSync(labelCsv, formatCsv([['path', 'label'], ...images.slice(0, 40).map((i) => [i.file, i.label])]));
  const labelled = await epistemeJson(['label', project, '--csv', labelCsv, '--annotator', 'dr-test']);
  assert.equal(labelled.labelled, 40);
  const single = await epistemeJson(['label', project, images[40].file, 'skip']);
  assert.equal(single.kind, 'skip');

  const version = await epistemeJson(['train', project, '--epochs', '8', '--seed', '3']);
  assert.equal(version.nLabels, 40);
  assert.ok(['wasm', 'cpu', 'tensorflow'].includes(version.backend));
  assert.ok(version.metrics.heldOut >= 2);
  assert.ok(version.metrics.accuracy >= 0.75, `held-out accuracy ${version.metrics.accuracy}`);

  const ranked = await epistemeJson(['rank', project, '--acquisition', 'bald', '--top', '100']);
  assert.equal(ranked.unlabelled, 20);
  assert.equal(ranked.rows.length, 20);
  assert.equal(ranked.rows.at(-1).skipped, true, 'the skipped image goes last');
  const scored = ranked.rows.filter((r: { skipped: boolean }) => !r.skipped);
  for (let i = 1; i < scored.length; i++) assert.ok(scored[i - 1].score >= scored[i].score, 'best first');
  for (const row of ranked.rows) {
    const total = Object.values(row.probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-4);
    assert.ok(row.epistemic >= 0 && row.aleatoric >= 0);
    assert.equal(row.score, row.epistemic, 'BALD is the epistemic part');
  }
  const byMargin = await epistemeJson(['rank', project, '--acquisition', 'margin', '--top', '5']);
  for (let i = 1; i < byMargin.rows.length; i++) assert.ok(byMargin.rows[i - 1].score <= byMargin.rows[i].score, 'margin: smallest first');

  // evaluate on the 20 images without a class label (the one marked skip among them)
  const evalCsv = path.join(root, 'evaluate.csv');
  fs.writeFileSync(evalCsv, formatCsv([['path', 'label'], ...images.slice(40).map((i) => [i.file, i.label])]));
  const evaluated = await epistemeJson(['evaluate', project, '--labels', evalCsv, '--bootstrap', '300']);
  assertClinicalConsistent(evaluated, 20);
  assert.equal(evaluated.clinical.accuracy.value, evaluated.metrics.accuracy, 'at the argmax, the same accuracy as before');
  assert.deepEqual(evaluated.clinical.operatingPoint, { rule: 'argmax' });
  assert.equal(evaluated.clinical.classes[evaluated.clinical.positiveClass], 'rings');
  const atThreshold = await epistemeJson(['evaluate', project, '--labels', evalCsv, '--threshold', '0.9', '--positive', 'bars', '--bootstrap', '0']);
  assertClinicalConsistent(atThreshold, 20);
  assert.deepEqual(atThreshold.clinical.operatingPoint, { rule: 'threshold', threshold: 0.9, positiveClass: 0 });
  const [bars] = atThreshold.clinical.confusion;
  assert.equal(atThreshold.clinical.sensitivity.value, bars[0] / (bars[0] + bars[1]), 'sensitivity of bars: its row of the confusion matrix');
  assert.equal(atThreshold.clinical.auroc.low, null, 'no interval with --bootstrap 0');
  const human = await episteme(['evaluate', project, '--labels', evalCsv, '--bootstrap', '50']);
  assert.equal(human.code, 0, human.stderr);
  for (const text of ['95% interval', 'AUROC (rings)', 'sensitivity (rings)', 'confusion matrix (rows: true class', 'prevalence: bars']) assert.ok(human.stdout.includes(text), `${text} in:\n${human.stdout}`);

  const status = await epistemeJson(['status', project]);
  assert.deepEqual(status.perClass.map((c: { count: number }) => c.count), [20, 20]);
  assert.equal(status.models.length, 1);

  for (const format of ['csv', 'json', 'folders']) {
    const out = path.join(root, 'exports', format);
    const result = await epistemeJson(['export', project, out, '--format', format]);
    assert.equal(result.rows, 40);
  }
  const csvRows = parseCsvRecords(fs.readFileSync(path.join(root, 'exports/csv/labels.csv'), 'utf8'), ['path', 'label', 'annotator']);
  assert.equal(csvRows.length, 40);
  assert.ok(csvRows.every((r) => r.annotator === 'dr-test'));
  assert.equal(filesUnder(path.join(root, 'exports/folders')).length, 40);
  assert.equal(JSON.parse(fs.readFileSync(path.join(root, 'exports/json/labels.json'), 'utf8')).rows.length, 40);
  const again = await episteme(['export', project, path.join(root, 'exports/csv'), '--format', 'csv']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /not empty/);
});

test('bad input to the CLI gives a clear error and exit code 1', async () => {
  const root = tempDir();
  const missing = await episteme(['status', path.join(root, 'nothing')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not an Episteme project/);
  const badClasses = await episteme(['init', path.join(root, 'p'), '--classes', 'one']);
  assert.match(badClasses.stderr, /at least two classes/);
  await epistemeJson(['init', path.join(root, 'p2'), '--classes', 'a,b']);
  const untrained = await episteme(['train', path.join(root, 'p2')]);
  assert.equal(untrained.code, 1);
  assert.match(untrained.stderr, /at least 2 labelled images/);
  const csv = path.join(root, 'any.csv');
  const badThreshold = await episteme(['evaluate', path.join(root, 'p2'), '--labels', csv, '--threshold', '1.5']);
  assert.equal(badThreshold.code, 1);
  assert.match(badThreshold.stderr, /--threshold must be in \(0, 1\), not 1.5/);
  assert.match((await episteme(['evaluate', path.join(root, 'p2'), '--labels', csv, '--positive', 'c'])).stderr, /--positive "c" is not one of a, b/);
  await epistemeJson(['init', path.join(root, 'p3'), '--classes', 'a,b,c']);
  assert.match((await episteme(['evaluate', path.join(root, 'p3'), '--labels', csv, '--threshold', '0.5'])).stderr, /--threshold is for two-class projects; this one has 3 classes/);
  assert.match((await episteme(['evaluate', path.join(root, 'p3'), '--labels', csv, '--bootstrap', '-1'])).stderr, /--bootstrap/);
});

test('on real data: 500 MNIST digits as PNG plus the DICOM samples, 100 labels, train, rank, export, evaluate', { skip: skipWithoutShared(sharedMnist) || skipWithoutShared(sharedDicom) }, async () => {
  const root = tempDir();
  const project = path.join(root, 'mnist');
  const pool = await writeMnistPngs(sharedMnist, path.join(root, 'digits'), 0, 500);
  const heldOut = await writeMnistPngs(sharedMnist, path.join(root, 'test-digits'), 8000, 8500);
  await epistemeJson(['init', project, '--classes', '0,1,2,3,4,5,6,7,8,9', '--image-size', '28']);
  const imported = await epistemeJson(['import', project, path.join(root, 'digits'), sharedDicom]);
  const failed = imported.failed.map((f: { path: string }) => path.basename(f.path));
  assert.ok(failed.includes('rtplan_truncated.dcm'), `the truncated DICOM is reported: ${JSON.stringify(imported.failed)}`);
  assert.equal(imported.added, 500 + 10);

  const first100 = path.join(root, 'digits', 'first100.csv');
  const rows = parseCsvRecords(fs.readFileSync(pool.csv, 'utf8'), ['path', 'label']).slice(0, 100);
  fs.writeFileSync(first100, formatCsv([['path', 'label'], ...rows.map((r) => [r.path, r.label])]));
  assert.equal((await epistemeJson(['label', project, '--csv', first100])).labelled, 100);

  const version = await epistemeJson(['train', project, '--epochs', '20', '--seed', '1']);
  const ranked = await epistemeJson(['rank', project, '--top', '1000']);
  assert.equal(ranked.unlabelled, 410);
  const evaluation = await epistemeJson(['evaluate', project, '--labels', heldOut.csv]);
  assert.equal(evaluation.evaluated, 500);
  // Chance is 0.1; Gal et al. report about 0.8 with 100 labels.
  assert.ok(evaluation.metrics.accuracy > 0.6, `accuracy on 500 other digits: ${evaluation.metrics.accuracy}`);
  console.log(`# MNIST, 100 labels: held-out ${version.metrics?.accuracy}, other digits accuracy ${evaluation.metrics.accuracy.toFixed(3)}, NLL ${evaluation.metrics.nll.toFixed(3)} (${version.backend}, ${version.trainSeconds.toFixed(1)} s)`);

  const out = path.join(root, 'export');
  await epistemeJson(['export', project, out, '--format', 'folders']);
  const exported = filesUnder(out);
  assert.equal(exported.length, 100);
  assert.ok(exported.every((f) => !path.relative(out, f).startsWith('..')));
  assert.equal(new Set(exported.map((f) => path.basename(path.dirname(f)))).size, 10);

  const db = new BetterSqlite3(path.join(project, 'episteme.sqlite'), { readonly: true });
  assert.equal((db.prepare("SELECT COUNT(*) AS n FROM label_events WHERE kind = 'class'").get() as { n: number }).n, 100);
  db.close();
});
