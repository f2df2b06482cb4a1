import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, initBackend } from '../../src-main/bdl/backend.ts';

test('auto picks the best available backend (tfjs-node cannot install here → wasm) and is idempotent', async (t) => {
  delete process.env.EPISTEME_BACKEND;
  const a = await initBackend();
  const b = await initBackend('auto');
  assert.equal(a, b);
  assert.equal(tf.getBackend(), a);
  assert.ok(['tensorflow', 'wasm'].includes(a), `got ${a}`);
  const info = backendInfo();
  assert.equal(info?.name, a);
  if (a === 'wasm') {
    assert.ok(info?.wasm, 'wasm details');
    t.diagnostic(`wasm: simd=${info!.wasm!.simd} threaded=${info!.wasm!.threaded} threads=${info!.wasm!.threads}`);
    assert.ok(info!.extraKernels.includes('Conv2DBackpropFilter') || tf.getKernel('Conv2DBackpropFilter', 'wasm'));
  }
});

test('concurrent calls share one initialisation', async () => {
  const [a, b, c] = await Promise.all([initBackend('wasm'), initBackend('wasm'), initBackend('wasm')]);
  assert.equal(a, 'wasm');
  assert.equal(b, a);
  assert.equal(c, a);
});

test('a preferred backend is used when available; switching back and forth works', async () => {
  assert.equal(await initBackend('cpu'), 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(await initBackend('wasm'), 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  // tfjs-node is not installed: preferring it falls back down the order
  const fallback = await initBackend('tensorflow');
  assert.ok(['tensorflow', 'wasm'].includes(fallback));
});

test('EPISTEME_BACKEND forces a backend and rejects unknown names', async () => {
  try {
    process.env.EPISTEME_BACKEND = 'cpu';
    assert.equal(await initBackend('wasm'), 'cpu');
    process.env.EPISTEME_BACKEND = 'gpu';
    await assert.rejects(initBackend(), /EPISTEME_BACKEND='gpu'/);
    process.env.EPISTEME_BACKEND = 'tensorflow';
    if (tf.findBackend('tensorflow') === null) {
      await assert.rejects(initBackend(), /could not start/);
    }
  } finally {
    delete process.env.EPISTEME_BACKEND;
  }
  assert.equal(await initBackend('wasm'), 'wasm');
});
