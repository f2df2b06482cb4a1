import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { formatCsv } from '../../src-main/util/csv.ts';
import { episteme, epistemeJson } from '../helpers/cli.ts';
import { writeTwoClassPngs } from '../helpers/images.ts';
import { tempDir } from '../helpers/tmp.ts';

test('episteme rerank: refits the last layer on cached features after new labels, as a new model version', async () => {
  const root = tempDir();
  const project = path.join(root, 'project');
  const images = await writeTwoClassPngs(path.join(root, 'images'), 20);
  await epistemeJson(['init', project, '--classes', 'bars,rings', '--image-size', '28']);
  await epistemeJson(['import', project, path.join(root, 'images')]);
  const noModel = await episteme(['rerank', project]);
  assert.equal(noModel.code, 1);
  assert.match(noModel.stderr, /no model version yet/);

  const label = async (rows: typeof images, name: string) => {
    const csv = path.join(root, name);
    fs.writeFileSync(csv, formatCsv([['path', 'label'], ...rows.map((i) => [i.file, i.label])]));
    await epistemeJson(['label', project, '--csv', csv, '--annotator', 'dr-test']);
  };
  await label(images.slice(0, 12), 'first.csv');
  const trained = await epistemeJson(['train', project, '--epochs', '3']);
  assert.ok(fs.existsSync(path.join(project, 'cache', 'features', `v${trained.id}.bin`)), 'training caches the features');

  await label(images.slice(12, 20), 'second.csv');
  const r = await epistemeJson(['rerank', project]);
  assert.equal(r.baseVersionId, trained.id);
  assert.equal(r.rerankCount, 1);
  assert.equal(r.labels, 20);
  assert.equal(r.scored, 20);
  assert.equal(r.modelVersion.method, 'last-layer');
  assert.equal(r.modelVersion.hyper.rerankOf, trained.id);
  assert.ok(r.seconds.total > 0 && r.seconds.total >= r.seconds.fit);

  const ranked = await epistemeJson(['rank', project, '--top', '100']);
  assert.equal(ranked.rows.length, 20, 'the queue reads the re-rank scores');
  const again = await epistemeJson(['rerank', project, '--model', 'logistic']);
  assert.equal(again.rerankCount, 2);
  assert.equal(again.baseVersionId, trained.id);
  // The re-rank version is a loadable 'last-layer' posterior: the CLI's predict path uses it.
  const evalCsv = path.join(root, 'eval.csv');
  fs.writeFileSync(evalCsv, formatCsv([['path', 'label'], ...images.slice(20, 30).map((i) => [i.file, i.label])]));
  const evaluated = await epistemeJson(['evaluate', project, '--labels', evalCsv]);
  assert.equal(evaluated.modelVersionId, again.modelVersion.id);
  assert.equal(evaluated.method, 'last-layer');
  assert.equal(evaluated.evaluated, 10);

  const bad = await episteme(['rerank', project, '--model', 'cubic']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--model must be/);
});
