/**
 * The kernels registered for wasm (src-main/bdl/kernels) against the cpu backend's reference
 * kernels, on random inputs, for the strides/paddings the Gal CNN uses and a few more.
 * Tolerance: normwise relative error ‖wasm − cpu‖∞ / ‖cpu‖∞ ≤ 1e-4.
 *
 * With the native kernels built this tests them (and their fallbacks for the cases they leave to
 * wasm); test/bdl/nativeKernels.test.ts runs this file again with EPISTEME_NATIVE=0.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, initBackend } from '../../src-main/bdl/backend.ts';
import { ConvNet } from '../../src-main/bdl/models/convNet.ts';
import { isOverridden, originalKernel } from '../../src-main/bdl/kernels/index.ts';
import { randomArray, relErr } from './helpers.ts';

const TOL = 1e-4;
let wasmOk = false;

type Spec = { name: string; shape: number[]; dtype?: 'float32' | 'int32' };

/** Runs kernel `name` on `backend` with inputs made from the same random arrays. */
async function runOn(backend: 'wasm' | 'cpu', name: string, inputs: Spec[], attrs: Record<string, unknown>, seed: number) {
  await initBackend(backend);
  assert.equal(tf.getBackend(), backend);
  const before = tf.memory().numTensors;
  const ts: Record<string, tf.Tensor> = {};
  inputs.forEach((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    ts[s.name] = tf.tensor(randomArray(n, seed + 17 * i), s.shape, s.dtype ?? 'float32');
  });
  try {
    const out = tf.engine().runKernel(name, ts, attrs as tf.NamedAttrMap) as tf.Tensor;
    const shape = out.shape;
    const data = await out.data();
    out.dispose();
    return { data, shape };
  } finally {
    Object.values(ts).forEach((t) => t.dispose());
    assert.equal(tf.memory().numTensors, before, `${name} on ${backend} leaked tensors`);
  }
}

async function compare(name: string, inputs: Spec[], attrs: Record<string, unknown>, seed = 1) {
  const ref = await runOn('cpu', name, inputs, attrs, seed);
  const got = await runOn('wasm', name, inputs, attrs, seed);
  assert.deepEqual(got.shape, ref.shape, `${name}: shape`);
  const e = relErr(got.data as Float32Array, ref.data as Float32Array);
  assert.ok(e <= TOL, `${name} ${JSON.stringify(attrs)}: relative error ${e.toExponential(2)} > ${TOL}`);
  return e;
}

before(async () => {
  wasmOk = (await initBackend('wasm')) === 'wasm';
});

describe('wasm training kernels vs cpu', () => {
  test('the wasm backend started', (t) => {
    if (!wasmOk) t.skip('wasm backend unavailable');
    assert.ok(wasmOk);
  });

  const convCases: { label: string; x: number[]; f: number[]; strides: number | [number, number]; pad: unknown; dy: number[] }[] = [
    { label: 'Gal conv1 28→25 valid', x: [3, 28, 28, 1], f: [4, 4, 1, 32], strides: 1, pad: 'valid', dy: [3, 25, 25, 32] },
    { label: 'Gal conv2 25→22 valid', x: [2, 25, 25, 32], f: [4, 4, 32, 32], strides: 1, pad: 'valid', dy: [2, 22, 22, 32] },
    { label: 'stride 1 valid, 20 channels (partial panel)', x: [3, 9, 8, 3], f: [3, 2, 3, 20], strides: 1, pad: 'valid', dy: [3, 7, 7, 20] },
    { label: 'stride 1 same, 5 channels', x: [2, 7, 6, 3], f: [3, 4, 3, 5], strides: 1, pad: 'same', dy: [2, 7, 6, 5] },
    { label: 'stride 2 same', x: [2, 9, 11, 3], f: [3, 3, 3, 5], strides: 2, pad: 'same', dy: [2, 5, 6, 5] },
    { label: 'stride 2 valid, even filter', x: [2, 10, 9, 2], f: [4, 4, 2, 3], strides: 2, pad: 'valid', dy: [2, 4, 3, 3] },
    { label: 'strides [1,2] same', x: [1, 7, 8, 2], f: [4, 3, 2, 4], strides: [1, 2], pad: 'same', dy: [1, 7, 4, 4] },
    {
      label: 'explicit padding',
      x: [2, 6, 6, 2],
      f: [3, 3, 2, 2],
      strides: 1,
      pad: [
        [0, 0],
        [1, 2],
        [2, 0],
        [0, 0],
      ],
      dy: [2, 7, 6, 2],
    },
  ];

  for (const c of convCases) {
    test(`Conv2DBackpropFilter: ${c.label}`, async (t) => {
      if (!wasmOk) return t.skip('wasm backend unavailable');
      const e = await compare(
        'Conv2DBackpropFilter',
        [
          { name: 'x', shape: c.x },
          { name: 'dy', shape: c.dy },
        ],
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: c.f },
      );
      t.diagnostic(`relative error ${e.toExponential(2)}`);
    });
    test(`Conv2DBackpropInput: ${c.label}`, async (t) => {
      if (!wasmOk) return t.skip('wasm backend unavailable');
      const e = await compare(
        'Conv2DBackpropInput',
        [
          { name: 'dy', shape: c.dy },
          { name: 'filter', shape: c.f },
        ],
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: c.x },
      );
      t.diagnostic(`relative error ${e.toExponential(2)}`);
    });
  }

  for (const c of convCases) {
    test(`Conv2D: ${c.label}`, async (t) => {
      if (!wasmOk) return t.skip('wasm backend unavailable');
      await compare(
        'Conv2D',
        [
          { name: 'x', shape: c.x },
          { name: 'filter', shape: c.f },
        ],
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined },
      );
    });
  }

  test('Conv2D with dilation 2', async (t) => {
    if (!wasmOk) return t.skip('wasm backend unavailable');
    const x = { name: 'x', shape: [2, 11, 10, 3] };
    const filter = { name: 'filter', shape: [3, 3, 3, 4] };
    for (const pad of ['valid', 'same']) await compare('Conv2D', [x, filter], { strides: 1, pad, dataFormat: 'NHWC', dilations: 2, dimRoundingMode: undefined });
  });

  for (const activation of ['linear', 'relu', 'sigmoid']) {
    // sigmoid is not fused by the native kernels: it must reach the wasm backend's own kernel.
    test(`FusedConv2D with bias and ${activation}`, async (t) => {
      if (!wasmOk) return t.skip('wasm backend unavailable');
      await compare(
        'FusedConv2D',
        [
          { name: 'x', shape: [2, 9, 9, 3] },
          { name: 'filter', shape: [4, 4, 3, 5] },
          { name: 'bias', shape: [5] },
        ],
        { strides: 2, pad: 'same', dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined, activation, leakyreluAlpha: 0.2 },
      );
    });
  }

  const sumCases = [
    { label: 'bias gradient: all axes but the last', x: [4, 6, 5, 7], axis: [0, 1, 2], keepDims: false },
    { label: 'all but the last, keepDims, negative axes', x: [3, 8, 5], axis: [-3, -2], keepDims: true },
    { label: 'last axis (not native)', x: [4, 6, 5], axis: [2], keepDims: false },
    { label: 'middle axis (not native)', x: [4, 6, 5], axis: [1], keepDims: true },
  ];
  for (const c of sumCases) {
    test(`Sum: ${c.label}`, async (t) => {
      if (!wasmOk) return t.skip('wasm backend unavailable');
      await compare('Sum', [{ name: 'x', shape: c.x }], { axis: c.axis, keepDims: c.keepDims });
    });
  }

  const addCases = [
    { label: 'bias row added over N·H·W', a: [3, 4, 5, 6], b: [6] },
    { label: 'row first', a: [6], b: [2, 6] },
    { label: 'same shapes (not native)', a: [4, 5, 6], b: [4, 5, 6] },
    { label: 'scalar-like [1] (not native)', a: [4, 6], b: [1] },
  ];
  for (const c of addCases) {
    test(`Add: ${c.label}`, async (t) => {
      if (!wasmOk) return t.skip('wasm backend unavailable');
      await compare('Add', [{ name: 'a', shape: c.a }, { name: 'b', shape: c.b }], {});
    });
  }

  test('Identity and same-dtype Cast share data; Cast to another dtype converts', async (t) => {
    if (!wasmOk) return t.skip('wasm backend unavailable');
    await initBackend('wasm');
    const x = tf.tensor1d([1.5, -2.25, 3]);
    const clone = tf.clone(x);
    const same = tf.cast(x, 'float32');
    const asInt = tf.cast(x, 'int32');
    assert.deepEqual(Array.from(await clone.data()), [1.5, -2.25, 3]);
    assert.deepEqual(Array.from(await same.data()), [1.5, -2.25, 3]);
    assert.deepEqual(Array.from(await asInt.data()), [1, -2, 3]);
    x.dispose(); // the others keep the shared data alive
    assert.deepEqual(Array.from(await clone.data()), [1.5, -2.25, 3]);
    assert.deepEqual(Array.from(await same.data()), [1.5, -2.25, 3]);
    tf.dispose([clone, same, asInt]);
  });

  const poolCases = [
    { label: 'Gal pool 2×2/2 on 22×22', x: [3, 22, 22, 32], size: 2, strides: 2, pad: 'valid' },
    { label: '2×2/2 on odd 25×25 (remainder row/col)', x: [2, 25, 25, 4], size: 2, strides: 2, pad: 'valid' },
    { label: '3×3/3 on 9×10', x: [1, 9, 10, 3], size: 3, strides: 3, pad: 'valid' },
    { label: 'overlapping 3×3/2 same', x: [2, 9, 9, 3], size: 3, strides: 2, pad: 'same' },
    { label: 'overlapping 3×3/1 valid', x: [1, 7, 6, 2], size: 3, strides: 1, pad: 'valid' },
    { label: '2×2/2 same on odd 7×7 (padding)', x: [2, 7, 7, 3], size: 2, strides: 2, pad: 'same' },
  ];
  for (const c of poolCases) {
    test(`MaxPoolGrad: ${c.label}`, async (t) => {
      if (!wasmOk) return t.skip('wasm backend unavailable');
      // MaxPoolGrad needs output = maxPool(input): compute it on each backend from the same input.
      const results: Float32Array[] = [];
      for (const backend of ['cpu', 'wasm'] as const) {
        await initBackend(backend);
        const before = tf.memory().numTensors;
        const x = tf.tensor4d(randomArray(c.x.reduce((a, b) => a * b, 1), 5), c.x as [number, number, number, number]);
        const y = tf.maxPool(x, c.size, c.strides, c.pad as 'valid');
        const dy = tf.tensor(randomArray(y.size, 9), y.shape);
        const dx = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, {
          filterSize: c.size,
          strides: c.strides,
          pad: c.pad,
          dimRoundingMode: undefined,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        assert.deepEqual(dx.shape, c.x);
        results.push((await dx.data()) as Float32Array);
        tf.dispose([x, y, dy, dx]);
        assert.equal(tf.memory().numTensors, before, 'leak');
      }
      const e = relErr(results[1], results[0]);
      assert.ok(e <= TOL, `relative error ${e}`);
    });
  }

  test('MaxPoolGrad routes ties to the first maximum, like cpu', async (t) => {
    if (!wasmOk) return t.skip('wasm backend unavailable');
    // every window has a tie for its maximum (and one has all four equal)
    const xs = [2, 2, 1, 4, 2, 2, 4, 4, 0, 1, 9, 1, 1, 0, 1, 9];
    const out: Float32Array[] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      await initBackend(backend);
      const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')))(tf.tensor4d(xs, [1, 4, 4, 1])));
      out.push((await g.data()) as Float32Array);
      g.dispose();
    }
    assert.deepEqual(Array.from(out[1]), Array.from(out[0]));
  });

  const mmCases = [
    { label: 'dense dW = xᵀ·dy', a: [64, 300], b: [64, 20], transposeA: true, transposeB: false },
    { label: 'dense dx = dy·Wᵀ', a: [64, 20], b: [300, 20], transposeA: false, transposeB: true },
    { label: 'both, batched', a: [3, 7, 5], b: [3, 6, 7], transposeA: true, transposeB: true },
    { label: 'plain (delegates)', a: [2, 5, 7], b: [2, 7, 3], transposeA: false, transposeB: false },
  ];
  for (const c of mmCases) {
    test(`BatchMatMul: ${c.label}`, async (t) => {
      if (!wasmOk) return t.skip('wasm backend unavailable');
      await compare(
        'BatchMatMul',
        [
          { name: 'a', shape: c.a },
          { name: 'b', shape: c.b },
        ],
        { transposeA: c.transposeA, transposeB: c.transposeB },
      );
    });
  }

  test('_FusedMatMul with transposeB, bias and relu', async (t) => {
    if (!wasmOk) return t.skip('wasm backend unavailable');
    await compare(
      '_FusedMatMul',
      [
        { name: 'a', shape: [1, 8, 12] },
        { name: 'b', shape: [1, 5, 12] },
        { name: 'bias', shape: [5] },
      ],
      { transposeA: false, transposeB: true, activation: 'relu', leakyreluAlpha: 0.2 },
    );
  });

  test('which kernels are ours: Conv2DBackpropFilter is new, the others replace wasm originals', (t) => {
    if (!wasmOk) return t.skip('wasm backend unavailable');
    assert.equal(isOverridden('Conv2DBackpropFilter', 'wasm'), false, 'wasm 4.22 has no Conv2DBackpropFilter of its own');
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'registered');
    const native = backendInfo()?.native ? ['Conv2D', 'FusedConv2D', 'Sum', 'Add'] : [];
    for (const k of ['Conv2DBackpropInput', 'MaxPoolGrad', 'BatchMatMul', '_FusedMatMul', 'Identity', 'Cast', ...native]) {
      assert.ok(isOverridden(k, 'wasm'), `${k} replaced`);
      assert.notEqual(originalKernel(k, 'wasm')?.kernelFunc, tf.getKernel(k, 'wasm')?.kernelFunc);
    }
  });

  test('Gal CNN: every weight gradient of a training loss matches cpu (end to end)', async (t) => {
    if (!wasmOk) return t.skip('wasm backend unavailable');
    const grads: Float32Array[][] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      await initBackend(backend);
      const before = tf.memory().numTensors;
      const net = ConvNet.create({ imageSize: 28, channels: 1, numClasses: 10, seed: 3 });
      const x = tf.tensor4d(randomArray(2 * 28 * 28, 11, 0, 1), [2, 28, 28, 1]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d([1, 7], 'int32'), 10));
      const { grads: g, value } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, net.logits(x, { dropout: 'all', seed: 5 })) as tf.Scalar,
        net.trainableVariables,
      );
      const names = Object.keys(g).sort();
      grads.push(await Promise.all(names.map(async (k) => (await g[k].data()) as Float32Array)));
      tf.dispose([x, y, value, ...Object.values(g)]);
      net.dispose();
      assert.equal(tf.memory().numTensors, before, `leak on ${backend}`);
    }
    grads[0].forEach((ref, i) => {
      const e = relErr(grads[1][i], ref);
      assert.ok(e <= TOL, `gradient ${i}: relative error ${e.toExponential(2)}`);
    });
  });
});
