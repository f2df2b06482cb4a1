/**
 * Timing of the standard round (the one scripts/bench/torch_round.py runs in PyTorch):
 * MC dropout on MNIST t10k images 0–999, 20 epochs, batch 64, Adam 1e-3, L2 1e-4; then T = 20
 * predictive samples for the other 7,000 pool images (1000–7999) ranked by BALD; accuracy on
 * 8000–9999. Printed, not asserted. Opt-in (it takes minutes): EPISTEME_BDL_BENCH=1.
 *
 * wasm runs the full round. The cpu backend is ~100× slower on convolutions (a full round would
 * take hours), so for cpu a few training steps and one scoring batch are timed and extrapolated;
 * EPISTEME_BDL_BENCH_CPU_FULL=1 runs it in full anyway. EPISTEME_BDL_BENCH_BACKENDS=wasm (or cpu)
 * restricts the backends (default: wasm,cpu).
 */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, initBackend, type BackendName } from '../../src-main/bdl/backend.ts';
import { readMnist, sliceMnist } from '../../src-main/bdl/data/mnist.ts';
import { createPosterior } from '../../src-main/bdl/posterior/index.ts';
import { bald, meanProbs, rank } from '../../src-main/bdl/acquisition/index.ts';
import { evaluate } from '../../src-main/bdl/metrics.ts';
import { MNIST_DIR, MNIST_SKIP, mnistAvailable } from './helpers.ts';

const enabled = process.env.EPISTEME_BDL_BENCH === '1';

async function round(backend: BackendName, full: boolean) {
  const got = await initBackend(backend);
  if (got !== backend) throw new Error(`${backend} unavailable (got ${got})`);
  const m = readMnist(MNIST_DIR);
  const train = sliceMnist(m, 0, 1000);
  const pool = sliceMnist(m, 1000, 8000);
  const held = sliceMnist(m, 8000, 10000);
  const post = createPosterior({ method: 'mc-dropout', imageSize: 28, channels: 1, numClasses: 10, seed: 0, mcSamples: 20 });
  try {
    if (full) {
      const fit = await post.fit(train.images, train.labels, { epochs: 20, batchSize: 64 });
      const t0 = performance.now();
      const p = await post.predictiveSamples(pool.images, { samples: 20 });
      rank(bald.score(p), 'max');
      const scoreSeconds = (performance.now() - t0) / 1000;
      const acc = evaluate(meanProbs(await post.predictiveSamples(held.images)), held.labels, 10).accuracy;
      return { backend, measured: 'full', trainSeconds: fit.seconds, scoreSeconds, testAccuracy: acc };
    }
    // Extrapolated: 3 steps (first one warms up and is dropped) and one scoring batch of 64.
    const small = sliceMnist(m, 0, 192);
    let last = performance.now();
    const stepTimes: number[] = [];
    await post.fit(small.images, small.labels, {
      epochs: 1,
      batchSize: 64,
      onProgress: () => {
        const now = performance.now();
        stepTimes.push((now - last) / 1000);
        last = now;
      },
    });
    const perStep = stepTimes.slice(1).reduce((a, b) => a + b, 0) / Math.max(1, stepTimes.length - 1);
    const steps = 20 * Math.ceil(1000 / 64);
    const batch = sliceMnist(m, 1000, 1064);
    await post.predictiveSamples(batch.images, { samples: 20 }); // warm-up
    const t0 = performance.now();
    await post.predictiveSamples(batch.images, { samples: 20 });
    const perBatch = (performance.now() - t0) / 1000;
    return {
      backend,
      measured: `extrapolated from ${stepTimes.length - 1} steps and 1 scoring batch`,
      secondsPerStep: perStep,
      trainSeconds: perStep * steps,
      scoreSeconds: (perBatch * 7000) / 64,
    };
  } finally {
    post.dispose();
  }
}

test('standard round timings (wasm, cpu)', { timeout: 3 * 3600_000 }, async (t) => {
  if (!enabled) return t.skip('set EPISTEME_BDL_BENCH=1 to time the standard round (takes minutes)');
  if (!mnistAvailable()) return t.skip(MNIST_SKIP);
  const backends = (process.env.EPISTEME_BDL_BENCH_BACKENDS ?? 'wasm,cpu').split(',').map((b) => b.trim());
  const results: unknown[] = [];
  for (const b of backends) {
    const r =
      b === 'wasm'
        ? { ...(await round('wasm', true)), wasmInfo: backendInfo()?.wasm }
        : await round(b as BackendName, process.env.EPISTEME_BDL_BENCH_CPU_FULL === '1');
    results.push(r);
    console.log('[bdl bench]', JSON.stringify(r));
  }
  t.diagnostic(JSON.stringify(results));
  await tf.nextFrame();
});
