/**
 * The idx reader, and proof that the library learns: MC dropout on the first 1,000 MNIST t10k
 * images, evaluated on images 8000–9999 (the project's standard split). Skips when ../shared is
 * absent. Set EPISTEME_BDL_EPOCHS to change the epoch count (default 5, to keep the suite fast;
 * the standard round is 20). Timings of the standard round: test/bdl/bench.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { parseIdxImages, parseIdxLabels, readMnist, sliceMnist } from '../../src-main/bdl/data/mnist.ts';
import { createPosterior } from '../../src-main/bdl/posterior/index.ts';
import { bald, meanProbs, rank } from '../../src-main/bdl/acquisition/index.ts';
import { evaluate } from '../../src-main/bdl/metrics.ts';
import { MNIST_DIR, MNIST_SKIP, mnistAvailable } from './helpers.ts';

function idx(magic: number, dimsList: number[], payload: number[]): Uint8Array {
  const header = new DataView(new ArrayBuffer(4 + 4 * dimsList.length));
  header.setUint32(0, magic, false);
  dimsList.forEach((d, i) => header.setUint32(4 + 4 * i, d, false));
  return new Uint8Array([...new Uint8Array(header.buffer), ...payload]);
}

test('idx parser: raw and gzip, images and labels, bad magic / truncation', () => {
  const img = idx(2051, [2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const parsed = parseIdxImages(img);
  assert.deepEqual([parsed.n, parsed.rows, parsed.cols], [2, 2, 3]);
  assert.deepEqual(Array.from(parsed.pixels), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(parseIdxImages(zlib.gzipSync(img)).pixels, parsed.pixels);
  const lab = idx(2049, [3], [7, 0, 9]);
  assert.deepEqual(Array.from(parseIdxLabels(zlib.gzipSync(lab))), [7, 0, 9]);
  assert.throws(() => parseIdxImages(lab), /magic 2049, expected 2051/);
  assert.throws(() => parseIdxLabels(img), /magic 2051, expected 2049/);
  assert.throws(() => parseIdxImages(img.subarray(0, 20)), /expected 12 pixel bytes/);
});

test('reads the real MNIST t10k', (t) => {
  if (!mnistAvailable()) return t.skip(MNIST_SKIP);
  const m = readMnist(MNIST_DIR);
  assert.equal(m.n, 10000);
  assert.equal(m.imageSize, 28);
  assert.equal(m.images.length, 10000 * 784);
  const counts = new Array(10).fill(0);
  for (const y of m.labels) counts[y]++;
  assert.deepEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
});

test('MC dropout learns MNIST from 1,000 labels (test on images 8000–9999)', async (t) => {
  if (!mnistAvailable()) return t.skip(MNIST_SKIP);
  const backend = await initBackend('auto');
  const epochs = Number(process.env.EPISTEME_BDL_EPOCHS ?? 5);
  const m = readMnist(MNIST_DIR);
  const train = sliceMnist(m, 0, 1000);
  const held = sliceMnist(m, 8000, 10000);
  const before = tf.memory().numTensors;
  const post = createPosterior({ method: 'mc-dropout', imageSize: 28, channels: 1, numClasses: 10, seed: 0, mcSamples: 20 });
  try {
    const fit = await post.fit(train.images, train.labels, { epochs });
    const started = performance.now();
    const p = await post.predictiveSamples(held.images);
    const scoreSeconds = (performance.now() - started) / 1000;
    const r = evaluate(meanProbs(p), held.labels, 10);
    const msg =
      `[bdl] ${backend}: MC dropout, 1000 labels, ${epochs} epochs (${fit.seconds.toFixed(1)} s), ` +
      `T=20 on 2000 held-out images (${scoreSeconds.toFixed(1)} s): accuracy ${r.accuracy.toFixed(4)}, ` +
      `top5 ${r.top5!.toFixed(4)}, nll ${r.nll.toFixed(4)}, ece ${r.ece.toFixed(4)}, brier ${r.brier.toFixed(4)}; ` +
      `loss ${fit.lossHistory.map((v) => v.toFixed(3)).join(' → ')}`;
    t.diagnostic(msg);
    assert.ok(r.accuracy > 0.8, `accuracy ${r.accuracy} should be far above chance (0.1)`);
    // BALD ranks misclassified images higher on average than correct ones
    const scores = bald.score(p);
    const order = rank(scores, 'max');
    const mean = meanProbs(p);
    const wrong = new Set<number>();
    for (let n = 0; n < held.n; n++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (mean[n * 10 + c] > mean[n * 10 + best]) best = c;
      if (best !== held.labels[n]) wrong.add(n);
    }
    const top = Array.from(order.subarray(0, 200));
    const wrongInTop = top.filter((i) => wrong.has(i)).length / 200;
    t.diagnostic(`misclassified: ${(wrong.size / held.n).toFixed(3)} overall, ${wrongInTop.toFixed(3)} among the 200 highest-BALD`);
    assert.ok(wrongInTop > wrong.size / held.n, 'BALD concentrates on the errors');
  } finally {
    post.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});
