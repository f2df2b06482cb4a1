import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeImage, previewPng, toModelInput, type DecodedImage } from '../../src-main/imaging/index.ts';

function img(width: number, height: number, channels: 1 | 3, fill: (x: number, y: number, c: number) => number): DecodedImage {
  const pixels = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) pixels[(y * width + x) * channels + c] = fill(x, y, c);
  return { kind: 'raster', width, height, channels, pixels };
}

const row = (a: Uint8Array, size: number, channels: number, y: number) => Array.from(a.subarray(y * size * channels, (y + 1) * size * channels));

test('wide gray image is letterboxed top and bottom in black, not stretched', async () => {
  const src = img(4, 2, 1, (x, y) => 100 + 10 * x + y);
  const out = await toModelInput(src, 4, 1);
  assert.equal(out.length, 16);
  assert.deepEqual(row(out, 4, 1, 0), [0, 0, 0, 0]);
  assert.deepEqual(row(out, 4, 1, 1), [100, 110, 120, 130]);
  assert.deepEqual(row(out, 4, 1, 2), [101, 111, 121, 131]);
  assert.deepEqual(row(out, 4, 1, 3), [0, 0, 0, 0]);
});

test('tall RGB image is letterboxed left and right', async () => {
  const src = img(2, 4, 3, (_x, _y, c) => [10, 20, 30][c]);
  const out = await toModelInput(src, 4, 3);
  assert.equal(out.length, 48);
  for (let y = 0; y < 4; y++) assert.deepEqual(row(out, 4, 3, y), [0, 0, 0, 10, 20, 30, 10, 20, 30, 0, 0, 0]);
});

test('RGB → gray uses BT.601 luma; gray → RGB replicates', async () => {
  const rgb = img(6, 3, 3, (_x, _y, c) => [200, 100, 50][c]);
  const gray = await toModelInput(rgb, 6, 1);
  // 0.299·200 + 0.587·100 + 0.114·50 = 124.2
  assert.deepEqual(row(gray, 6, 1, 0), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(row(gray, 6, 1, 2), [124, 124, 124, 124, 124, 124]);
  assert.deepEqual(row(gray, 6, 1, 5), [0, 0, 0, 0, 0, 0]);
  const g = img(3, 3, 1, (x, y) => 3 * y + x + 1);
  const asRgb = await toModelInput(g, 3, 3);
  assert.deepEqual(Array.from(asRgb.subarray(0, 9)), [1, 1, 1, 2, 2, 2, 3, 3, 3]);
  assert.equal(asRgb.length, 27);
});

test('downscaling keeps the aspect ratio and the content', async () => {
  const src = img(200, 100, 3, (x) => (x < 100 ? 240 : 20));
  const out = await toModelInput(src, 28, 3);
  assert.equal(out.length, 28 * 28 * 3);
  const at = (x: number, y: number) => Array.from(out.subarray((y * 28 + x) * 3, (y * 28 + x) * 3 + 3));
  assert.deepEqual(at(14, 0), [0, 0, 0], 'top band is letterbox');
  assert.deepEqual(at(14, 27), [0, 0, 0], 'bottom band is letterbox');
  assert.ok(at(3, 14).every((v) => Math.abs(v - 240) <= 2), `left content ${at(3, 14)}`);
  assert.ok(at(24, 14).every((v) => Math.abs(v - 20) <= 2), `right content ${at(24, 14)}`);
  // 28 × 14 content rows centred: rows 7..20.
  assert.ok(at(3, 7).every((v) => v > 200) && at(3, 20).every((v) => v > 200));
  assert.ok(at(3, 6).every((v) => v < 40) && at(3, 21).every((v) => v < 40));
});

test('upscaling a small DICOM-like gray image gives exactly size²·channels bytes', async () => {
  const out = await toModelInput(img(3, 3, 1, () => 77), 10, 1);
  assert.equal(out.length, 100);
  assert.equal(out[55], 77);
});

test('previewPng downscales only when larger than maxSide', async () => {
  const big = img(1000, 500, 3, (x, y, c) => (x + y + c) % 256);
  const meta = await sharp(await previewPng(big)).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 512, 256]);
  const small = img(30, 20, 1, (x, y) => x * 8 + y);
  const png = await previewPng(small, 512);
  const back = await decodeImage(png, 'p.png');
  assert.deepEqual([back.width, back.height, back.channels], [30, 20, 1]);
  assert.deepEqual(Array.from(back.pixels), Array.from(small.pixels));
  const custom = await sharp(await previewPng(big, 100)).metadata();
  assert.deepEqual([custom.width, custom.height], [100, 50]);
});
