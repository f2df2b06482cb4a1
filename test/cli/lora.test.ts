/**
 * LoRA through the CLI: a project of generated images, a TF.js backbone folder written by the test,
 * `train --method lora-ensemble --backbone`, `rank`, and `evaluate` (which loads the saved model
 * version — the backbone is embedded, so it works after the folder is gone).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { saveLayersModelToDisk } from '../../src-main/bdl/lora/io.ts';
import { formatCsv } from '../../src-main/util/csv.ts';
import { episteme, epistemeJson } from '../helpers/cli.ts';
import { writeTwoClassPngs } from '../helpers/images.ts';
import { tempDir } from '../helpers/tmp.ts';

test('train --method lora-ensemble --backbone, rank, and evaluate without the backbone folder', async () => {
  const root = tempDir();
  const project = path.join(root, 'project');
  const backbone = path.join(root, 'backbone');
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 5, strides: 2, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
  await saveLayersModelToDisk(model, backbone);
  model.dispose();

  const images = await writeTwoClassPngs(path.join(root, 'images'), 20);
  const unseen = await writeTwoClassPngs(path.join(root, 'unseen'), 10, 7);
  await epistemeJson(['init', project, '--classes', 'bars,rings', '--image-size', '28']);
  await epistemeJson(['import', project, path.join(root, 'images')]);
  const labels = path.join(root, 'labels.csv');
  fs.writeFileSync(labels, formatCsv([['path', 'label'], ...images.slice(0, 30).map((i) => [i.file, i.label])]));
  await epistemeJson(['label', project, '--csv', labels]);

  const missing = await episteme(['train', project, '--method', 'lora-ensemble']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /lora-ensemble needs a backbone/);
  const wrong = await episteme(['train', project, '--method', 'map', '--backbone', backbone]);
  assert.match(wrong.stderr, /only used by the methods lora-ensemble and lora-laplace/);
  const broken = await episteme(['train', project, '--method', 'lora-ensemble', '--backbone', path.join(root, 'images')]);
  assert.match(broken.stderr, /no model\.json in/);

  const version = await epistemeJson(['train', project, '--method', 'lora-ensemble', '--backbone', backbone, '--epochs', '120', '--seed', '2']);
  assert.equal(version.method, 'lora-ensemble');
  assert.equal(version.hyper.backbone, backbone);
  assert.ok(version.metrics.accuracy >= 0.8, `held-out accuracy ${version.metrics.accuracy}`);
  const ranked = await epistemeJson(['rank', project, '--acquisition', 'bald', '--top', '100']);
  assert.equal(ranked.rows.length, 10);
  for (let i = 1; i < ranked.rows.length; i++) assert.ok(ranked.rows[i - 1].score >= ranked.rows[i].score);
  assert.ok(ranked.rows.every((r: { epistemic: number }) => r.epistemic >= 0));

  fs.rmSync(backbone, { recursive: true });
  const csv = path.join(root, 'unseen.csv');
  fs.writeFileSync(csv, formatCsv([['path', 'label'], ...unseen.map((i) => [path.basename(i.file), i.label])]));
  fs.renameSync(csv, path.join(root, 'unseen', 'labels.csv'));
  const report = await epistemeJson(['evaluate', project, '--labels', path.join(root, 'unseen', 'labels.csv')]);
  assert.equal(report.method, 'lora-ensemble');
  assert.equal(report.evaluated, 20);
  assert.ok(report.metrics.accuracy >= 0.8, `accuracy on unseen images ${report.metrics.accuracy}`);
});
