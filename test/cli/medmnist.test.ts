/**
 * BreastMNIST (../shared/data/medmnist/breast) as a user would bring it: init with the classes of
 * labels.csv, import the train split with its labels, train the default method, evaluate on the
 * test split. Skips when ../shared is absent.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseCsvRecords } from '../../src-main/util/csv.ts';
import { episteme, epistemeJson } from '../helpers/cli.ts';
import { sharedDir, skipWithoutShared, tempDir } from '../helpers/tmp.ts';

const breast = path.join(sharedDir, 'data', 'medmnist', 'breast');

test('BreastMNIST through the CLI: train on the train split, AUROC on the test split far above chance', { skip: skipWithoutShared(breast) }, async () => {
  const project = path.join(tempDir(), 'breast');
  const trainCsv = path.join(breast, 'train', 'labels.csv');
  const testCsv = path.join(breast, 'test', 'labels.csv');
  // labels.csv has CRLF line ends; the parser takes them.
  const classes = [...new Set(parseCsvRecords(fs.readFileSync(trainCsv, 'utf8'), ['path', 'label']).map((r) => r.label))].sort();
  assert.deepEqual(classes, ['benign', 'malignant']);
  await epistemeJson(['init', project, '--classes', classes.join(','), '--image-size', '28', '--channels', '1']);
  const imported = await epistemeJson(['import', project, path.join(breast, 'train'), '--labels', trainCsv]);
  assert.equal(imported.added, 546);
  assert.equal(imported.labelled, 546);

  const version = await epistemeJson(['train', project, '--epochs', '15', '--seed', '1']);
  const report = await epistemeJson(['evaluate', project, '--labels', testCsv]);
  const c = report.clinical;
  // One test image is byte-identical to a train image: evaluate leaves it out as labelled in the project.
  assert.equal(report.evaluated + report.excludedAsLabelled, 156);
  assert.ok(report.excludedAsLabelled <= 2, `${report.excludedAsLabelled} test images are labelled train images`);
  assert.equal(c.prevalence.counts[0] + c.prevalence.counts[1], report.evaluated);
  assert.ok(c.prevalence.counts[1] >= 40, 'test split: 114 benign, 42 malignant');
  assert.equal(c.classes[c.positiveClass], 'malignant');
  // Chance is 0.5; MedMNIST v2's 28 px baselines reach about 0.9.
  assert.ok(c.auroc.value >= 0.7, `AUROC of malignant ${c.auroc.value}`);
  assert.ok(c.auroc.low <= c.auroc.value && c.auroc.value <= c.auroc.high);
  console.log(
    `# BreastMNIST, ${version.method}, ${version.trainSeconds.toFixed(1)} s: AUROC ${c.auroc.value.toFixed(3)} (${c.auroc.low.toFixed(3)}–${c.auroc.high.toFixed(3)}), accuracy ${c.accuracy.value.toFixed(3)}, sensitivity ${c.sensitivity.value.toFixed(3)}, specificity ${c.specificity.value.toFixed(3)}`,
  );
  const human = await episteme(['evaluate', project, '--labels', testCsv, '--threshold', '0.3', '--bootstrap', '200']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /malignant when P\(malignant\) ≥ 0\.3/);
  console.log(human.stdout.replace(/^/gm, '# '));
});
