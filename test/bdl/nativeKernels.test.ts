/**
 * The native kernels' addon (src-main/bdl/native): GEMM against a float64 reference on sizes that
 * are not multiples of the blocking, thread-count independence, clear errors for bad arguments,
 * the backend reporting them, and the wasm fallbacks (kernels.test.ts run with EPISTEME_NATIVE=0).
 * In CI the addon must be built (npm ci runs scripts/build-native.mjs); elsewhere its absence skips.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo, initBackend } from '../../src-main/bdl/backend.ts';
import { nativeKernels, nativeInfo } from '../../src-main/bdl/native/index.ts';
import { dropoutMask } from '../../src-main/bdl/models/mcDropout.ts';
import { randomArray } from './helpers.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const native = nativeKernels();
const NOT_BUILT = 'native kernels not built (npm run build:native): skipping';

function reference(a: Float32Array, b: Float32Array, m: number, n: number, k: number, ta: boolean, tb: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

describe('native kernels', () => {
  test('are built in CI', () => {
    if (process.env.CI) assert.ok(native, 'CI must build the native kernels (scripts/build-native.mjs in postinstall)');
  });

  // m, n, k around the blocking (MR 6, NR 16, KC 256, MC 96), with both transposes and accumulation.
  const sizes: [number, number, number][] = [[1, 1, 1], [7, 17, 300], [100, 33, 5], [13, 40, 600], [200, 3, 1100], [97, 129, 257]];
  for (const [m, n, k] of sizes) {
    test(`gemm ${m}×${n}×${k} matches float64 for every transpose, with and without accumulation`, (t) => {
      if (!native) return t.skip(NOT_BUILT);
      const a = randomArray(m * k, m + k);
      const b = randomArray(k * n, n + 3 * k);
      for (const ta of [false, true])
        for (const tb of [false, true])
          for (const accumulate of [false, true]) {
            const c = new Float32Array(m * n).fill(0.5);
            native.gemm(a, b, c, m, n, k, ta ? 1 : 0, tb ? 1 : 0, accumulate ? 1 : 0);
            const want = reference(a, b, m, n, k, ta, tb);
            let worst = 0;
            for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(c[i] - (want[i] + (accumulate ? 0.5 : 0))) / Math.sqrt(k));
            assert.ok(worst < 1e-5, `ta=${ta} tb=${tb} acc=${accumulate}: error ${worst}`);
          }
    });
  }

  test('results do not depend on the thread count (bitwise)', (t) => {
    if (!native) return t.skip(NOT_BUILT);
    const dims = Int32Array.from([9, 12, 11, 5, 7, 3, 3, 1, 1, 1, 1, 0, 0, 10, 9]);
    const x = randomArray(9 * 12 * 11 * 5, 1);
    const dy = randomArray(9 * 10 * 9 * 7, 2);
    const run = (threads: number) => {
      native.setThreads(threads);
      const dw = new Float32Array(3 * 3 * 5 * 7);
      native.conv2dBackpropFilter(x, dy, dw, dims);
      const c = new Float32Array(300 * 40);
      native.gemm(randomArray(300 * 70, 3), randomArray(70 * 40, 4), c, 300, 40, 70, 0, 0, 0);
      return [dw, c];
    };
    try {
      const [dw1, c1] = run(1);
      const [dw3, c3] = run(3);
      assert.deepEqual(c3, c1);
      // partial filter gradients are summed in thread order: the same partition gives the same bits
      assert.deepEqual(run(3)[0], dw3);
      assert.ok(dw1.every((v, i) => Math.abs(v - dw3[i]) <= 1e-4 * (1 + Math.abs(v))));
    } finally {
      native.setThreads(nativeInfo()!.threads);
    }
  });

  test('dropout masks equal the JS ones value for value (both Bernoulli branches, any seed)', async (t) => {
    if (!native) return t.skip(NOT_BUILT);
    await initBackend('cpu'); // the JS mask
    try {
      for (const rate of [0.25, 0.5, 0.3, 0.1])
        for (const size of [1, 7, 4099, 100_003])
          for (const seed of [1, 0xdeadbeef]) {
            const js = dropoutMask([size], rate, seed);
            const ours = new Float32Array(size);
            native.dropoutMask(ours, rate, seed);
            assert.deepEqual(ours, await js.data(), `rate ${rate}, size ${size}, seed ${seed}`);
            js.dispose();
          }
    } finally {
      await initBackend('wasm');
    }
    const inHeap = dropoutMask([3, 1000], 0.25, 9);
    assert.deepEqual(inHeap.shape, [3, 1000]);
    const kept = (await inHeap.data()).filter((v) => v !== 0);
    assert.ok(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6) && Math.abs(kept.length / 3000 - 0.75) < 0.03);
    inHeap.dispose();
  });

  test('bad arguments get clear errors, and the process stays up', (t) => {
    if (!native) return t.skip(NOT_BUILT);
    const f = new Float32Array(4);
    assert.throws(() => native.gemm(f, f, f, 3, 3, 3, 0, 0, 0), /too short/);
    assert.throws(() => native.gemm(new Float32Array(new SharedArrayBuffer(16)), f, f, 1, 1, 1, 0, 0, 0), /SharedArrayBuffer/);
    assert.throws(() => native.gemm([1] as unknown as Float32Array, f, f, 1, 1, 1, 0, 0, 0), /Float32Array/);
    assert.throws(() => native.conv2d(f, f, null, f, new Int32Array(3), 0), /15 convolution dims/);
    assert.throws(() => native.conv2d(f, f, null, f, new Int32Array(15), 0), /positive/);
    assert.throws(() => native.setThreads(0), /1\.\.64/);
    assert.throws(() => native.dropoutMask(f, 1, 0), /rate/);
    const c = new Float32Array(1);
    native.gemm(Float32Array.of(2), Float32Array.of(3), c, 1, 1, 1, 0, 0, 0);
    assert.equal(c[0], 6);
  });

  test('the wasm backend reports them and runs single-threaded beside them', async (t) => {
    if (!native) return t.skip(NOT_BUILT);
    assert.equal(await initBackend('wasm'), 'wasm');
    const info = backendInfo()!;
    assert.deepEqual(info.native, nativeInfo());
    assert.match(info.native!.isa, /^(avx2-fma|generic)$/);
    assert.equal(info.wasm?.threaded, false, "the threaded build's shared memory is out of Node-API's reach");
  });

  test('without them (EPISTEME_NATIVE=0) the wasm kernels pass the same kernel tests', (t) => {
    if (!native) return t.skip(NOT_BUILT);
    // NODE_TEST_CONTEXT would make the inner runner report to this one instead of printing TAP.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const r = spawnSync(process.execPath, ['--import', path.join(root, 'node_modules/tsx/dist/loader.mjs'), '--test', '--test-reporter=tap', path.join(root, 'test/bdl/kernels.test.ts')], {
      cwd: root,
      env: { ...env, EPISTEME_NATIVE: '0' },
      encoding: 'utf8',
      timeout: 10 * 60_000,
    });
    assert.equal(r.status, 0, r.stdout.slice(-3000));
    assert.match(r.stdout, /^# fail 0$/m);
    assert.doesNotMatch(r.stdout, /^# pass 0$/m);
  });
});
