import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeImage } from '../../src-main/imaging/index.ts';
import { rejects } from './helpers.ts';
import { makePng } from './pngWriter.ts';

function raw(width: number, height: number, channels: 1 | 3 | 4, fill: (x: number, y: number, c: number) => number): Buffer {
  const b = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) b[(y * width + x) * channels + c] = fill(x, y, c);
  return b;
}

function encode(buf: Buffer, width: number, height: number, channels: 1 | 3 | 4) {
  const s = sharp(buf, { raw: { width, height, channels } });
  // sharp treats raw input as sRGB and would write a 1-band buffer as an RGB file.
  return channels === 1 ? s.toColourspace('b-w') : s;
}

const gradient = (x: number, y: number, c: number) => (x * 40 + y * 7 + c * 60) % 256;

test('PNG RGB decodes to exact pixels', async () => {
  const src = raw(5, 3, 3, gradient);
  const img = await decodeImage(await encode(src, 5, 3, 3).png().toBuffer(), 'a.png');
  assert.equal(img.kind, 'raster');
  assert.deepEqual([img.width, img.height, img.channels], [5, 3, 3]);
  assert.deepEqual(Buffer.from(img.pixels), src);
  assert.equal(img.dicom, undefined);
  assert.equal(img.modalityValues, undefined);
});

test('grayscale PNG stays single-channel with exact values', async () => {
  const src = raw(4, 4, 1, (x, y) => x * 60 + y);
  const img = await decodeImage(await encode(src, 4, 4, 1).png().toBuffer(), 'g.png');
  assert.equal(img.channels, 1);
  assert.deepEqual(Buffer.from(img.pixels), src);
});

test('alpha is dropped by flattening on black', async () => {
  // Pixel 0 opaque, pixel 1 fully transparent, pixel 2 half transparent.
  const src = Buffer.from([200, 100, 50, 255, 200, 100, 50, 0, 200, 100, 50, 128]);
  const img = await decodeImage(await encode(src, 3, 1, 4).png().toBuffer(), 'rgba.png');
  assert.equal(img.channels, 3);
  assert.deepEqual(Array.from(img.pixels.subarray(0, 6)), [200, 100, 50, 0, 0, 0]);
  const half = Array.from(img.pixels.subarray(6, 9));
  [100, 50, 25].forEach((v, i) => assert.ok(Math.abs(half[i] - v) <= 1, `half-alpha channel ${i}: ${half[i]} vs ${v}`));
});

test('palette PNG is expanded to RGB', async () => {
  const src = raw(4, 2, 3, (x, _y, c) => (x % 2 ? [255, 0, 0][c] : [0, 0, 255][c]));
  const png = await encode(src, 4, 2, 3).png({ palette: true, colours: 2, dither: 0 }).toBuffer();
  assert.equal((await sharp(png).metadata()).isPalette, true);
  const img = await decodeImage(png, 'pal.png');
  assert.equal(img.channels, 3);
  assert.deepEqual(Buffer.from(img.pixels), src);
});

test('16-bit grayscale PNG is reduced to 8 bits by scaling, not clipping', async () => {
  const row = Buffer.alloc(8);
  [0, 0x8080, 0xffff, 0x1010].forEach((v, i) => row.writeUInt16BE(v, i * 2));
  const img = await decodeImage(makePng(4, 1, 16, 0, [row]), 'deep.png');
  assert.equal(img.channels, 1);
  assert.deepEqual(Array.from(img.pixels), [0, 0x80, 0xff, 0x10]);
});

test('16-bit RGB PNG is reduced to 8 bits', async () => {
  const row = Buffer.alloc(12);
  [0xffff, 0, 0x4040, 0, 0xffff, 0x8080].forEach((v, i) => row.writeUInt16BE(v, i * 2));
  const img = await decodeImage(makePng(2, 1, 16, 2, [row]), 'deep-rgb.png');
  assert.deepEqual(Array.from(img.pixels), [255, 0, 0x40, 0, 255, 0x80]);
});

test('TIFF and lossless WebP decode exactly', async () => {
  const src = raw(6, 4, 3, gradient);
  for (const [name, buf] of [
    ['t.tiff', await encode(src, 6, 4, 3).tiff({ compression: 'lzw' }).toBuffer()],
    ['w.webp', await encode(src, 6, 4, 3).webp({ lossless: true }).toBuffer()],
  ] as const) {
    const img = await decodeImage(buf, name);
    assert.deepEqual([img.width, img.height, img.channels], [6, 4, 3], name);
    assert.deepEqual(Buffer.from(img.pixels), src, name);
  }
});

test('JPEG decodes close to the encoded flat colours; gray JPEG has one channel', async () => {
  const src = raw(16, 16, 3, (x, _y, c) => (x < 8 ? [200, 40, 40][c] : [30, 160, 90][c]));
  const img = await decodeImage(await encode(src, 16, 16, 3).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer(), 'c.jpg');
  assert.equal(img.channels, 3);
  for (const [x, rgb] of [[2, [200, 40, 40]], [13, [30, 160, 90]]] as const) {
    const i = (8 * 16 + x) * 3;
    rgb.forEach((v, c) => assert.ok(Math.abs(img.pixels[i + c] - v) <= 4, `x=${x} c=${c}: ${img.pixels[i + c]} vs ${v}`));
  }
  const gray = await decodeImage(await encode(raw(8, 8, 1, () => 77), 8, 8, 1).jpeg().toBuffer(), 'g.jpeg');
  assert.equal(gray.channels, 1);
  assert.ok(gray.pixels.every((v) => Math.abs(v - 77) <= 2));
});

test('EXIF orientation is applied', async () => {
  const src = raw(3, 1, 3, (x, _y, c) => (c === 0 ? x * 100 : 0));
  const jpg = await encode(src, 3, 1, 3).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
  const img = await decodeImage(jpg, 'rot.jpg');
  assert.deepEqual([img.width, img.height], [1, 3]);
});

test('empty input and non-images are not-an-image', async () => {
  await rejects(decodeImage(Buffer.alloc(0), 'x.png'), 'not-an-image');
  await rejects(decodeImage(Buffer.alloc(0), 'x.dcm'), 'not-an-image');
  await rejects(decodeImage(Buffer.from('hello, this is plain text and certainly no image at all '.repeat(4)), 'notes.txt'), 'not-an-image');
});

test('truncated PNG fails as truncated at every cut', async () => {
  const src = raw(32, 32, 3, gradient);
  const png = await encode(src, 32, 32, 3).png({ compressionLevel: 0 }).toBuffer();
  for (const cut of [4, 8, 20, 33, 45, Math.floor(png.length / 3), Math.floor(png.length / 2), png.length - 40, png.length - 13]) {
    await rejects(decodeImage(png.subarray(0, cut), 'cut.png'), 'truncated');
  }
});

test('truncated JPEG, GIF and WebP fail as truncated', async () => {
  const src = raw(32, 32, 3, gradient);
  const jpg = await encode(src, 32, 32, 3).jpeg().toBuffer();
  for (const cut of [3, 20, 200, Math.floor(jpg.length / 2), jpg.length - 2]) {
    await rejects(decodeImage(jpg.subarray(0, cut), 'cut.jpg'), 'truncated');
  }
  const gif = await encode(src, 32, 32, 3).gif().toBuffer();
  await rejects(decodeImage(gif.subarray(0, Math.floor(gif.length / 2)), 'cut.gif'), 'truncated');
  const webp = await encode(src, 32, 32, 3).webp().toBuffer();
  await rejects(decodeImage(webp.subarray(0, Math.floor(webp.length / 2)), 'cut.webp'), 'truncated');
});

test('a PNG header declaring 100000×100000 is refused quickly as too-many-pixels', async () => {
  // A valid zlib stream of a few zero scanlines: what a decompression bomb's first bytes look like.
  const bomb = makePng(100_000, 100_000, 8, 0, [new Uint8Array(100_000)]);
  const t0 = Date.now();
  await rejects(decodeImage(bomb, 'bomb.png'), 'too-many-pixels', /100000×100000/);
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
});

test('maxPixels is honoured for ordinary images', async () => {
  const png = await encode(raw(20, 10, 1, () => 5), 20, 10, 1).png().toBuffer();
  await rejects(decodeImage(png, 'a.png', { maxPixels: 199 }), 'too-many-pixels');
  const ok = await decodeImage(png, 'a.png', { maxPixels: 200 });
  assert.equal(ok.pixels.length, 200);
});

test('a PNG named .dcm is still decoded as a PNG', async () => {
  const src = raw(2, 2, 1, (x, y) => 10 + x + 2 * y);
  const img = await decodeImage(await encode(src, 2, 2, 1).png().toBuffer(), 'misnamed.DCM');
  assert.equal(img.kind, 'raster');
  assert.deepEqual(Array.from(img.pixels), [10, 11, 12, 13]);
});

test('corrupt (not truncated) PNG data is unreadable', async () => {
  const png = makePng(4, 4, 8, 0, null, Buffer.from('this is not a zlib stream at all'));
  await rejects(decodeImage(png, 'bad.png'), 'unreadable');
});
