import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { resampleLanczos } from '../../src-main/imaging/resample.ts';

/** A smooth gradient with a bright disc: edges and flat areas, like anatomy. */
function scene(width: number, height: number, channels: number): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inDisc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 4) ** 2;
      for (let c = 0; c < channels; c++) out[(y * width + x) * channels + c] = inDisc ? 230 - 20 * c : Math.round((200 * x) / width + 10 * c);
    }
  }
  return out;
}

async function sharpResize(src: Uint8Array, width: number, height: number, channels: 1 | 3, w: number, h: number): Promise<Uint8Array> {
  let pipe = sharp(src, { raw: { width, height, channels } });
  if (channels === 1) pipe = pipe.toColourspace('b-w');
  const { data, info } = await pipe.resize(w, h, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, channels);
  return new Uint8Array(data);
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

for (const [width, height, channels, w, h] of [
  [64, 64, 1, 28, 28],
  [512, 512, 1, 28, 28],
  [300, 200, 3, 64, 43],
  [2000, 1000, 1, 128, 64],
] as const) {
  test(`${width}×${height}×${channels} → ${w}×${h} agrees with libvips' Lanczos-3 reduce`, async () => {
    const src = scene(width, height, channels);
    const ours = resampleLanczos(src, width, height, channels, w, h);
    assert.equal(ours.length, w * h * channels);
    const theirs = await sharpResize(src, width, height, channels, w, h);
    const diff = meanAbsDiff(ours, theirs);
    assert.ok(diff < 3, `mean |ours − sharp| = ${diff.toFixed(3)} grey levels`);
  });
}

test('upscaling keeps a centred edge centred (pixel centres aligned, unlike libvips’ upsampler)', () => {
  const src = new Uint8Array(10).map((_, i) => (i < 5 ? 40 : 160));
  const out = resampleLanczos(src, 10, 1, 1, 28, 1);
  for (let i = 0; i < 28; i++) assert.ok(Math.abs(out[i] + out[27 - i] - 200) <= 1, `pixels ${i} and ${27 - i}: ${out[i]}, ${out[27 - i]}`);
  assert.ok(out[0] === 40 && out[27] === 160);
});

test('a constant image stays exactly constant, up and down', () => {
  const src = new Uint8Array(37 * 23 * 3).fill(141);
  for (const [w, h] of [[5, 3], [28, 17], [80, 50]]) assert.ok(resampleLanczos(src, 37, 23, 3, w, h).every((v) => v === 141));
});

test('averages rather than samples when shrinking: a one-pixel checkerboard becomes mid grey', () => {
  const n = 256;
  const src = new Uint8Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) src[y * n + x] = (x + y) % 2 ? 255 : 0;
  const out = resampleLanczos(src, n, n, 1, 28, 28);
  for (const v of out) assert.ok(Math.abs(v - 127.5) <= 2, `pixel ${v}`);
});
