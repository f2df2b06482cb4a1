/**
 * Issue 4's acceptance test on real data: on MNIST (the first 1,000 pool images labelled, tested on
 * images 8000–9999, 20 epochs) deep ensembles, Laplace, IVON and MC dropout each have a lower NLL and
 * a lower ECE than MAP. The other methods are in the README's table (`episteme compare`) and have
 * their own tests. Skips without ../shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { compareMethods, type MethodRow } from '../../src-main/bench/methodComparison.ts';
import { MNIST_DIR, MNIST_SKIP, mnistAvailable } from './helpers.ts';

const BETTER_THAN_MAP = ['ensemble', 'laplace', 'ivon', 'mc-dropout'] as const;

test('MNIST, 1,000 labels: ensemble, Laplace, IVON and MC dropout beat MAP on NLL and ECE', { timeout: 60 * 60_000 }, async (t) => {
  if (!mnistAvailable()) return t.skip(MNIST_SKIP);
  await initBackend('auto');
  const rows = await compareMethods(MNIST_DIR, {
    methods: ['map', ...BETTER_THAN_MAP],
    onRow: (r: MethodRow) =>
      t.diagnostic(`${r.method}: top-1 ${r.accuracy.toFixed(4)}, NLL ${r.nll.toFixed(4)}, ECE ${r.ece.toFixed(4)}, Brier ${r.brier.toFixed(4)}, train ${r.trainSeconds.toFixed(0)} s`),
  });
  const byMethod = new Map(rows.map((r) => [r.method, r]));
  for (const r of rows) assert.ok(r.accuracy > 0.9, `${r.method}: top-1 ${r.accuracy} (MAP reaches about 0.95)`);
  const map = byMethod.get('map')!;
  for (const method of BETTER_THAN_MAP) {
    const r = byMethod.get(method)!;
    assert.ok(r.nll < map.nll, `${method}: NLL ${r.nll} should be below MAP's ${map.nll}`);
    assert.ok(r.ece < map.ece, `${method}: ECE ${r.ece} should be below MAP's ${map.ece}`);
  }
});

test('MNIST: the LoRA methods train on a backbone trained on the same labels, and predict', { timeout: 10 * 60_000 }, async (t) => {
  if (!mnistAvailable()) return t.skip(MNIST_SKIP);
  await initBackend('auto');
  // A short run (300 labels, 3 epochs for backbone and adapters): the README table has the full one.
  const rows = await compareMethods(MNIST_DIR, { methods: ['lora-ensemble', 'lora-laplace'], labels: 300, epochs: 3 });
  assert.deepEqual(
    rows.map((r) => [r.method, r.samples]),
    [
      ['lora-ensemble', 5],
      ['lora-laplace', 20],
    ],
  );
  for (const r of rows) {
    t.diagnostic(`${r.method}: top-1 ${r.accuracy.toFixed(4)}, NLL ${r.nll.toFixed(4)}`);
    assert.ok(r.accuracy > 0.15, `${r.method}: top-1 ${r.accuracy} (chance 0.1)`);
    assert.ok(Number.isFinite(r.nll) && r.nll < Math.log(10), `${r.method}: NLL ${r.nll} (uniform: ${Math.log(10).toFixed(3)})`);
  }
});
