/**
 * Prior 'spike-slab' selects the informative input channel: 28×28×3 images whose class is in one
 * channel (a different one per seed) and label-independent bars in the other two. The inclusion
 * probability must follow the signal, not the initialisation, at the Gaussian MAP's accuracy.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { createPosterior } from '../../src-main/bdl/posterior/registry.ts';
import type { Prior } from '../../src-main/bdl/posterior/types.ts';
import { accuracy, channelBars } from './methodFixtures.ts';

before(async () => {
  await initBackend('wasm');
});

async function fitAndTest(prior: Prior, seed: number, signal: number) {
  const train = channelBars(128, 100 + seed, signal);
  const heldOut = channelBars(200, 900 + seed, signal);
  const p = createPosterior({ method: 'map', prior, imageSize: 28, channels: 3, numClasses: 2, seed });
  try {
    const report = await p.fit(train.x, train.y, { epochs: 5, batchSize: 32 });
    return { report, accuracy: accuracy(await p.predictiveSamples(heldOut.x), heldOut.y) };
  } finally {
    p.dispose();
  }
}

test('spike-slab: the informative channel is included (γ ≥ 0.8), the noise channels excluded (γ ≤ 0.3), at the Gaussian MAP accuracy', async () => {
  for (const [seed, signal] of [[1, 0], [2, 2]]) {
    const spike = await fitAndTest('spike-slab', seed, signal);
    const gauss = await fitAndTest('gaussian', seed, signal);
    const gamma = spike.report.inclusion!.perChannel;
    const noise = gamma.filter((_, c) => c !== signal);
    const msg = `seed ${seed}, signal in channel ${signal}: γ = ${gamma.map((g) => g.toFixed(3))}, accuracy ${spike.accuracy} vs Gaussian ${gauss.accuracy}`;
    console.log(msg);
    assert.ok(gamma[signal] >= 0.8, msg);
    assert.ok(noise.reduce((a, g) => a + g, 0) / noise.length <= 0.3, msg);
    assert.ok(spike.accuracy >= gauss.accuracy - 0.05, msg);
  }
});
