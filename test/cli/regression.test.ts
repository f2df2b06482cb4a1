import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { formatCsv, parseCsvRecords } from '../../src-main/util/csv.ts';
import { episteme, epistemeJson } from '../helpers/cli.ts';
import { writeSeverityPngs } from '../helpers/regressionImages.ts';
import { tempDir } from '../helpers/tmp.ts';

test('a regression project through the CLI: init, import numeric labels, label --value, train gp, rank, status, evaluate, export', async () => {
  const root = tempDir();
  const project = path.join(root, 'project');
  const images = await writeSeverityPngs(path.join(root, 'images'), 40, 5);
  const info = await epistemeJson(['init', project, '--task', 'regression', '--target', 'severity', '--unit', 'points', '--min', '0', '--max', '10', '--image-size', '28']);
  assert.equal(info.task, 'regression');
  assert.deepEqual(info.target, { name: 'severity', unit: 'points', min: 0, max: 10 });

  // Numeric labels on import; bad rows are reported and not stored.
  const labelled = images.filter((_, i) => i % 3 === 0);
  const csv = path.join(root, 'labels.csv');
  fs.writeFileSync(csv, formatCsv([['path', 'label'], ...labelled.map((l) => [l.file, l.value]), [images[1].file, 'mild'], [images[2].file, '12']]));
  const imported = await epistemeJson(['import', project, path.join(root, 'images'), '--labels', csv]);
  assert.equal(imported.added, 40);
  assert.equal(imported.labelled, labelled.length);
  assert.deepEqual(imported.failed.map((f: { code: string }) => f.code).sort(), ['bad-value', 'bad-value']);

  const single = await epistemeJson(['label', project, images[1].file, '--value', '0.25']);
  assert.equal(single.kind, 'value');
  assert.equal(single.value, 0.25);
  for (const [args, message] of [
    [['--value', 'abc'], /"abc" is not a number/],
    [['--value', '10.5'], /outside the range of severity \(0 to 10\)/],
    [['--value', 'Infinity'], /not a number/],
    [['--value', '1.5e308'], /too large: a value must lie between -1e300 and 1e300/],
    [['rings'], /label is a number: use --value rings/],
  ] as const) {
    const result = await episteme(['label', project, images[4].file, ...args]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, message);
  }

  const wrongMethod = await episteme(['train', project, '--method', 'mc-dropout']);
  assert.equal(wrongMethod.code, 1);
  assert.match(wrongMethod.stderr, /classification method; this regression project trains with gp/);
  const version = await epistemeJson(['train', project, '--seed', '2']);
  assert.equal(version.method, 'gp');
  assert.equal(version.nLabels, labelled.length + 1);
  assert.ok(version.regressionMetrics.rmse < 1.5, `held-out RMSE ${version.regressionMetrics.rmse}`);
  assert.ok(version.hyper.lengthscale > 0 && version.hyper.noiseStd > 0);
  console.log(`[cli regression] ${version.nLabels} labels: RMSE ${version.regressionMetrics.rmse.toFixed(3)}, coverage90 ${version.regressionMetrics.coverage90.toFixed(2)}, lengthscale ${version.hyper.lengthscale.toFixed(3)}, noise std ${version.hyper.noiseStd.toFixed(3)}, LML ${version.hyper.logMarginalLikelihood.toFixed(2)}, ${version.trainSeconds.toFixed(2)} s`);

  const ranked = await epistemeJson(['rank', project, '--top', '100']);
  assert.equal(ranked.acquisition, 'variance');
  assert.equal(ranked.unlabelled, 40 - labelled.length - 1);
  for (let i = 1; i < ranked.rows.length; i++) assert.ok(ranked.rows[i - 1].score >= ranked.rows[i].score);
  for (const row of ranked.rows) assert.ok(row.interval90.lower < row.mean && row.mean < row.interval90.upper);
  const bald = await episteme(['rank', project, '--acquisition', 'bald']);
  assert.equal(bald.code, 1);
  assert.match(bald.stderr, /ranked by variance or random/);

  const status = await epistemeJson(['status', project]);
  assert.equal(status.values.count, labelled.length + 1);
  assert.equal(status.models[0].regressionMetrics.heldOut, version.regressionMetrics.heldOut);
  assert.match((await episteme(['status', project])).stdout, /severity: 15 values/);

  const truth = path.join(root, 'truth.csv');
  fs.writeFileSync(truth, formatCsv([['path', 'label'], ...images.filter((_, i) => i % 3 !== 0 && i !== 1).map((l) => [l.file, l.value])]));
  const report = await epistemeJson(['evaluate', project, '--labels', truth]);
  assert.equal(report.evaluated, 40 - labelled.length - 1);
  assert.ok(report.metrics.rmse < 1.5, `RMSE ${report.metrics.rmse}`);

  const out = path.join(root, 'export');
  await epistemeJson(['export', project, out, '--format', 'csv']);
  const rows = parseCsvRecords(fs.readFileSync(path.join(out, 'labels.csv'), 'utf8'), ['path', 'label']);
  assert.equal(rows.find((r) => r.path === images[1].file)?.label, '0.25');
  const folders = await episteme(['export', project, path.join(root, 'f'), '--format', 'folders']);
  assert.equal(folders.code, 1);
  assert.match(folders.stderr, /csv or json/);
});

test('classification-only and regression-only options are refused with a clear message', async () => {
  const root = tempDir();
  const cls = path.join(root, 'cls');
  await epistemeJson(['init', cls, '--classes', 'a,b']);
  const cases: [string[], RegExp][] = [
    [['init', path.join(root, 'r1'), '--task', 'regression'], /needs --target/],
    [['init', path.join(root, 'r2'), '--task', 'regression', '--target', 's', '--classes', 'a,b'], /--classes is for classification/],
    [['init', path.join(root, 'r3'), '--task', 'regression', '--target', 's', '--min', '5', '--max', '1'], /minimum \(5\) must be below its maximum \(1\)/],
    [['init', path.join(root, 'r4'), '--classes', 'a,b', '--target', 's'], /add --task regression/],
    [['train', cls, '--method', 'gp'], /method of regression projects/],
    [['rank', cls, '--acquisition', 'variance'], /ranked by bald/],
  ];
  for (const [args, message] of cases) {
    const result = await episteme(args);
    assert.equal(result.code, 1, args.join(' '));
    assert.match(result.stderr, message);
  }
  assert.ok(!fs.existsSync(path.join(root, 'r3', 'episteme.sqlite')), 'nothing is created for a refused init');
});
