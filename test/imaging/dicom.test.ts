import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeImage, isProbablyDicom, toModelInput, ImageDecodeError } from '../../src-main/imaging/index.ts';
import { TSU, imageElements, rleEncodeFrame, u16le, writeDicom, type El, type ImageSpec } from './dicomWriter.ts';
import { rejects } from './helpers.ts';
import { encodeJpegLs } from './jpegLsEncoder.ts';

const window = (center: number, width: number): El[] => [
  { tag: 0x00281050, vr: 'DS', value: String(center) },
  { tag: 0x00281051, vr: 'DS', value: String(width) },
];
const rescale = (slope: number, intercept: number): El[] => [
  { tag: 0x00281052, vr: 'DS', value: String(intercept) },
  { tag: 0x00281053, vr: 'DS', value: String(slope) },
];

function dcm(spec: ImageSpec, ts: string = TSU.explicitLE, extra: { noPreamble?: boolean; noMeta?: boolean } = {}): Buffer {
  return writeDicom(imageElements(spec), { transferSyntax: ts, ...extra });
}

// 2×2, 16-bit unsigned, used across transfer syntaxes.
const base16: ImageSpec = { rows: 2, cols: 2, bitsAllocated: 16, pixelData: u16le([10, 20, 30, 40]), modality: 'MR' };

test('explicit LE 16-bit with a window in the file: PS3.3 C.11.2.1.2 linear values', async () => {
  // c=50, w=101: x ≤ -0.5 → 0, x > 99.5 → 255, else ((x - 49.5)/100 + 0.5)·255
  const spec: ImageSpec = { rows: 1, cols: 5, bitsAllocated: 16, pixelData: u16le([0, 50, 99, 100, 7]), extra: window(50, 101) };
  const img = await decodeImage(dcm(spec), 'w.dcm');
  assert.equal(img.kind, 'dicom');
  assert.deepEqual([img.width, img.height, img.channels], [5, 1, 1]);
  // 0 → 1.275 → 1; 50 → 128.775 → 129; 99 → 253.725 → 254; 100 → 255; 7 → 19.125 → 19
  assert.deepEqual(Array.from(img.pixels), [1, 129, 254, 255, 19]);
  assert.deepEqual(Array.from(img.modalityValues!), [0, 50, 99, 100, 7]);
  assert.equal(img.dicom?.windowSource, 'file');
  assert.equal(img.dicom?.windowCenter, 50);
  assert.equal(img.dicom?.windowWidth, 101);
  assert.equal(img.dicom?.transferSyntax, TSU.explicitLE);
  assert.equal(img.dicom?.photometric, 'MONOCHROME2');
  assert.equal(img.dicom?.bitsAllocated, 16);
  assert.equal(img.dicom?.frames, 1);
  assert.equal(img.dicom?.note, undefined);
});

test('no window in the file: window spans the pixel range', async () => {
  const img = await decodeImage(dcm(base16), 'r.dcm');
  // min 10, max 40 → width 31, centre 25.5; 20 → ((20-25)/30+0.5)·255 = 85, 30 → 170
  assert.deepEqual(Array.from(img.pixels), [0, 85, 170, 255]);
  assert.equal(img.dicom?.windowSource, 'pixel-range');
  assert.equal(img.dicom?.windowCenter, 25.5);
  assert.equal(img.dicom?.windowWidth, 31);
  assert.equal(img.dicom?.modality, 'MR');
});

test('rescale slope/intercept are applied before the window', async () => {
  const spec: ImageSpec = { rows: 2, cols: 2, bitsAllocated: 16, pixelData: u16le([0, 100, 200, 300]), extra: [...rescale(2, -100), ...window(200, 401)] };
  const img = await decodeImage(dcm(spec), 's.dcm');
  assert.deepEqual(Array.from(img.modalityValues!), [-100, 100, 300, 500]);
  // lo = -0.5, hi = 399.5; 100 → ((100-199.5)/400+0.5)·255 = 64.07; 300 → 191.57
  assert.deepEqual(Array.from(img.pixels), [0, 64, 192, 255]);
});

test('MONOCHROME1 is inverted', async () => {
  const img = await decodeImage(dcm({ ...base16, photometric: 'MONOCHROME1' }), 'm1.dcm');
  assert.deepEqual(Array.from(img.pixels), [255, 170, 85, 0]);
  assert.deepEqual(Array.from(img.modalityValues!), [10, 20, 30, 40]);
  assert.equal(img.dicom?.photometric, 'MONOCHROME1');
});

test('signed 16-bit via Pixel Representation', async () => {
  const img = await decodeImage(dcm({ rows: 2, cols: 2, bitsAllocated: 16, signed: true, pixelData: u16le([-1000, -500, 0, 500]) }), 'ss.dcm');
  assert.deepEqual(Array.from(img.modalityValues!), [-1000, -500, 0, 500]);
  // range -1000..500: width 1501, centre -249.5 → [0, 85, 170, 255]
  assert.deepEqual(Array.from(img.pixels), [0, 85, 170, 255]);
});

test('Bits Stored 12 masks the unused high bits; signed 12-bit sign-extends', async () => {
  const unsigned = await decodeImage(dcm({ rows: 1, cols: 3, bitsAllocated: 16, bitsStored: 12, pixelData: u16le([0xf00a, 0x0fff, 0xa000]) }), 'b12.dcm');
  assert.deepEqual(Array.from(unsigned.modalityValues!), [10, 4095, 0]);
  const signed = await decodeImage(dcm({ rows: 1, cols: 2, bitsAllocated: 16, bitsStored: 12, signed: true, pixelData: u16le([0x0fff, 0x07ff]) }), 's12.dcm');
  assert.deepEqual(Array.from(signed.modalityValues!), [-1, 2047]);
});

test('8-bit and 32-bit grayscale', async () => {
  const eight = await decodeImage(dcm({ rows: 1, cols: 4, bitsAllocated: 8, pixelData: new Uint8Array([0, 64, 128, 255]), extra: window(128, 256) }), '8.dcm');
  // c=128, w=256 is the identity on 0..255
  assert.deepEqual(Array.from(eight.pixels), [0, 64, 128, 255]);
  const b = Buffer.alloc(12);
  [0, 100000, 140001].forEach((v, i) => b.writeUInt32LE(v, i * 4));
  const wide = await decodeImage(dcm({ rows: 1, cols: 3, bitsAllocated: 32, pixelData: b }), '32.dcm');
  assert.deepEqual(Array.from(wide.modalityValues!), [0, 100000, 140001]);
  // width 140002, centre 70001: ((100000 − 70000.5)/140001 + 0.5)·255 = 182.14
  assert.deepEqual(Array.from(wide.pixels), [0, 182, 255]);
});

test('implicit LE, explicit BE, deflate, RLE and preamble-less files decode to the same pixels', async () => {
  const spec: ImageSpec = { rows: 3, cols: 4, bitsAllocated: 16, pixelData: u16le([0, 5, 5, 5, 5, 300, 1000, 65535, 7, 7, 7, 8]), extra: window(500, 1000) };
  const reference = await decodeImage(dcm(spec), 'ref.dcm');
  const variants: [string, Buffer][] = [
    ['implicit', dcm(spec, TSU.implicitLE)],
    ['big endian', dcm(spec, TSU.explicitBE)],
    ['deflate', dcm(spec, TSU.deflate)],
    ['rle', dcm({ ...spec, pixelData: undefined, fragments: [rleEncodeFrame(spec.pixelData!, 12, 1, 2)] }, TSU.rle)],
    ['no preamble', dcm(spec, TSU.explicitLE, { noPreamble: true })],
    ['bare explicit data set', dcm(spec, TSU.explicitLE, { noMeta: true })],
    ['bare implicit data set', dcm(spec, TSU.implicitLE, { noMeta: true })],
  ];
  for (const [name, bytes] of variants) {
    const img = await decodeImage(bytes, `${name}.bin`);
    assert.equal(img.kind, 'dicom', name);
    assert.deepEqual(Array.from(img.modalityValues!), Array.from(reference.modalityValues!), name);
    assert.deepEqual(Array.from(img.pixels), Array.from(reference.pixels), name);
  }
  assert.deepEqual(Array.from(reference.modalityValues!), [0, 5, 5, 5, 5, 300, 1000, 65535, 7, 7, 7, 8]);
});

test('RGB with planar configuration 0 and 1, uncompressed and RLE', async () => {
  const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30];
  const planar = [255, 0, 0, 10, 0, 255, 0, 20, 0, 0, 255, 30];
  const spec = { rows: 2, cols: 2, bitsAllocated: 8, spp: 3 as const };
  const p0 = await decodeImage(dcm({ ...spec, planar: 0, pixelData: new Uint8Array(rgb) }), 'p0.dcm');
  const p1 = await decodeImage(dcm({ ...spec, planar: 1, pixelData: new Uint8Array(planar) }), 'p1.dcm');
  const rle = await decodeImage(dcm({ ...spec, planar: 0, fragments: [rleEncodeFrame(new Uint8Array(rgb), 4, 3, 1)] }, TSU.rle), 'rle.dcm');
  for (const img of [p0, p1, rle]) {
    assert.equal(img.channels, 3);
    assert.deepEqual(Array.from(img.pixels), rgb);
    assert.equal(img.modalityValues, undefined);
    assert.equal(img.dicom?.photometric, 'RGB');
  }
});

test('YBR_FULL and YBR_FULL_422 are converted to RGB', async () => {
  const full = await decodeImage(dcm({ rows: 1, cols: 2, bitsAllocated: 8, spp: 3, photometric: 'YBR_FULL', pixelData: new Uint8Array([128, 128, 128, 76, 85, 255]) }), 'ybr.dcm');
  // (76, 85, 255): R = 76 + 1.402·127 = 254.05, G = 76 + 0.344·43 − 0.714·127 = 0.09, B = 76 − 1.772·43 < 0
  assert.deepEqual(Array.from(full.pixels), [128, 128, 128, 254, 0, 0]);
  const sub = await decodeImage(dcm({ rows: 1, cols: 2, bitsAllocated: 8, spp: 3, photometric: 'YBR_FULL_422', pixelData: new Uint8Array([100, 200, 128, 128]) }), '422.dcm');
  assert.deepEqual(Array.from(sub.pixels), [100, 100, 100, 200, 200, 200]);
});

test('1-bit SEG mask decodes as a 0/255 binary image with a note', async () => {
  // 3×3 pixels, bit-packed LSB first: pixels 0, 4, 8 set (diagonal) → bits 0,4 of byte 0 and bit 0 of byte 1.
  const spec: ImageSpec = { rows: 3, cols: 3, bitsAllocated: 1, modality: 'SEG', pixelData: new Uint8Array([0b00010001, 0b00000001]) };
  const img = await decodeImage(dcm(spec), 'seg.dcm');
  assert.deepEqual(Array.from(img.pixels), [255, 0, 0, 0, 255, 0, 0, 0, 255]);
  assert.equal(img.dicom?.note, 'segmentation mask imported as a binary image');
  assert.equal(img.dicom?.bitsAllocated, 1);
});

test('multi-frame: the first frame is used and noted', async () => {
  const spec: ImageSpec = { rows: 1, cols: 2, bitsAllocated: 8, frames: 3, pixelData: new Uint8Array([0, 255, 9, 9, 9, 9]), extra: window(128, 256) };
  const img = await decodeImage(dcm(spec), 'mf.dcm');
  assert.deepEqual(Array.from(img.pixels), [0, 255]);
  assert.equal(img.dicom?.frames, 3);
  assert.match(img.dicom?.note ?? '', /3 frames.*first frame/);
  const rle = await decodeImage(dcm({ ...spec, pixelData: undefined, fragments: [0, 1, 2].map((f) => rleEncodeFrame(new Uint8Array(f === 0 ? [0, 255] : [9, 9]), 2, 1, 1)) }, TSU.rle), 'mf-rle.dcm');
  assert.deepEqual(Array.from(rle.pixels), [0, 255]);
});

test('truncated DICOM at many offsets is rejected as truncated', async () => {
  const full = dcm({ rows: 8, cols: 8, bitsAllocated: 16, pixelData: u16le(Array.from({ length: 64 }, (_, i) => i * 10)), extra: window(300, 600) });
  const pixelStart = full.length - 128;
  const cuts = [1, 60, 131, 132, 140, 150, 190, 230, pixelStart - 12, pixelStart - 3, pixelStart, pixelStart + 1, pixelStart + 64, full.length - 1];
  for (const cut of cuts) {
    const e = await rejects(decodeImage(full.subarray(0, cut), 'cut.dcm'), 'truncated');
    assert.ok(e.message.length > 10, `cut ${cut}: ${e.message}`);
  }
  const implicit = dcm({ rows: 8, cols: 8, bitsAllocated: 16, pixelData: u16le(new Array(64).fill(3)) }, TSU.implicitLE);
  await rejects(decodeImage(implicit.subarray(0, implicit.length - 20), 'cut.dcm'), 'truncated', /Pixel Data/);
  const rle = dcm({ rows: 8, cols: 8, bitsAllocated: 16, fragments: [rleEncodeFrame(u16le(Array.from({ length: 64 }, (_, i) => i * 97)), 64, 1, 2)] }, TSU.rle);
  for (const cut of [rle.length - 9, rle.length - 40, rle.length - 100]) {
    await rejects(decodeImage(rle.subarray(0, cut), 'cut-rle.dcm'), 'truncated');
  }
});

test('pixel data shorter than rows×cols×bits is truncated, saying what was short', async () => {
  await rejects(decodeImage(dcm({ rows: 4, cols: 4, bitsAllocated: 16, pixelData: u16le([1, 2, 3, 4]) }), 'short.dcm'), 'truncated', /holds 8 bytes .* needs 32/);
});

test('huge declared rows×cols or frames is refused without allocating', async () => {
  const t0 = Date.now();
  await rejects(decodeImage(dcm({ rows: 65535, cols: 65535, bitsAllocated: 16, pixelData: u16le([1, 2]) }), 'huge.dcm'), 'too-many-pixels');
  await rejects(decodeImage(dcm({ rows: 1000, cols: 1000, frames: 1000, bitsAllocated: 8, pixelData: new Uint8Array(10) }), 'frames.dcm'), 'too-many-pixels');
  await rejects(decodeImage(dcm(base16), 'cap.dcm', { maxPixels: 3 }), 'too-many-pixels');
  assert.ok(Date.now() - t0 < 1000);
});

test('unsupported transfer syntax names the syntax', async () => {
  const jp2 = dcm({ ...base16, pixelData: undefined, fragments: [new Uint8Array([0xff, 0x4f, 0xff, 0x51])] }, TSU.jpeg2000);
  await rejects(decodeImage(jp2, 'j2k.dcm'), 'unsupported-transfer-syntax', /^unsupported transfer syntax 1\.2\.840\.10008\.1\.2\.4\.90 \(JPEG 2000\): /);
});

test('a data set without pixel data is no-pixel-data; PALETTE COLOR is unsupported-image', async () => {
  const sr = writeDicom([
    { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.88.11' },
    { tag: 0x00080060, vr: 'CS', value: 'SR' },
    { tag: 0x00100010, vr: 'PN', value: 'Doe^J' },
  ], { transferSyntax: TSU.explicitLE });
  await rejects(decodeImage(sr, 'report.dcm'), 'no-pixel-data', /Structured Report/);
  await rejects(decodeImage(dcm({ rows: 1, cols: 2, bitsAllocated: 8, photometric: 'PALETTE COLOR', pixelData: new Uint8Array([0, 1]) }), 'pal.dcm'), 'unsupported-image', /PALETTE COLOR/);
});

test('garbage after the DICM marker and random corruption never escape as other errors', async () => {
  const garbage = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from('\x02\x00\x10\x00UI\xff\xffnonsense'.repeat(3), 'latin1')]);
  await rejects(decodeImage(garbage, 'g.dcm'), 'truncated');
  const good = dcm({ rows: 4, cols: 4, bitsAllocated: 16, pixelData: u16le(new Array(16).fill(100)), extra: window(100, 50) });
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const t0 = Date.now();
  for (let i = 0; i < 400; i++) {
    const b = Buffer.from(good);
    for (let k = 0; k < 1 + (i % 4); k++) b[132 + Math.floor(rand() * (b.length - 132))] = Math.floor(rand() * 256);
    try {
      const img = await decodeImage(b, 'fuzz.dcm');
      assert.equal(img.pixels.length, img.width * img.height * img.channels);
    } catch (e) {
      assert.ok(e instanceof ImageDecodeError, `iteration ${i}: ${String(e)}`);
    }
  }
  assert.ok(Date.now() - t0 < 10_000);
});

test('isProbablyDicom: name, DICM marker, or a preamble-less data set', async () => {
  const withMagic = dcm(base16);
  assert.equal(isProbablyDicom(withMagic, 'x.bin'), true);
  assert.equal(isProbablyDicom(Buffer.from('abc'), 'IMG0001.DCM'), true);
  assert.equal(isProbablyDicom(dcm(base16, TSU.explicitLE, { noPreamble: true }), 'x'), true);
  assert.equal(isProbablyDicom(dcm(base16, TSU.implicitLE, { noMeta: true }), 'x'), true);
  assert.equal(isProbablyDicom(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48]), 'x.png'), false);
  assert.equal(isProbablyDicom(Buffer.from('just some text, nothing more'), 'notes.txt'), false);
});

test('toModelInput works on decoded DICOM', async () => {
  const img = await decodeImage(dcm(base16), 'r.dcm');
  assert.deepEqual(Array.from(await toModelInput(img, 2, 1)), [0, 85, 170, 255]);
  assert.deepEqual(Array.from(await toModelInput(img, 2, 3)), [0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255]);
});

test('JPEG-LS: 16-bit gray and RGB in every interleave mode', async () => {
  const values = [0, 1, 4095, 1234, 65535, 42];
  const gray = await encodeJpegLs(u16le(values), 3, 2, 16, 1, 0);
  const g = await decodeImage(dcm({ rows: 2, cols: 3, bitsAllocated: 16, fragments: [gray] }, '1.2.840.10008.1.2.4.80'), 'ls.dcm');
  assert.deepEqual(Array.from(g.modalityValues!), values);
  const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30];
  const planar = [255, 0, 0, 10, 0, 255, 0, 20, 0, 0, 255, 30];
  for (const il of [0, 1, 2] as const) {
    const ls = await encodeJpegLs(new Uint8Array(il === 0 ? planar : rgb), 2, 2, 8, 3, il);
    const img = await decodeImage(dcm({ rows: 2, cols: 2, bitsAllocated: 8, spp: 3, fragments: [ls] }, '1.2.840.10008.1.2.4.80'), 'ls-rgb.dcm');
    assert.deepEqual(Array.from(img.pixels), rgb, `interleave ${il}`);
  }
});

test('JPEG-LS near-lossless (.81) decodes within the allowed error; corrupt streams are unreadable and do not poison the decoder', async () => {
  const values = Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
  const ls = await encodeJpegLs(new Uint8Array(values), 8, 8, 8, 1, 0, 2);
  const file = dcm({ rows: 8, cols: 8, bitsAllocated: 8, fragments: [ls] }, '1.2.840.10008.1.2.4.81');
  const img = await decodeImage(file, 'nl.dcm');
  img.modalityValues!.forEach((v, i) => assert.ok(Math.abs(v - values[i]) <= 2, `pixel ${i}: ${v} vs ${values[i]}`));
  const corrupt = Buffer.from(file);
  const at = corrupt.indexOf(Buffer.from([0xff, 0xda]));
  corrupt.fill(0xff, at + 12, at + 40);
  await assert.rejects(decodeImage(corrupt, 'bad.dcm'), (e: unknown) => e instanceof ImageDecodeError && ['unreadable', 'truncated'].includes(e.code));
  const forged = Buffer.from(file);
  forged.writeUInt16BE(60000, forged.indexOf(Buffer.from([0xff, 0xf7])) + 7);
  await rejects(decodeImage(forged, 'forged.dcm'), 'unreadable', /60000×8×1 but the DICOM header says 8×8×1/);
  const again = await decodeImage(file, 'nl.dcm');
  assert.deepEqual(Array.from(again.pixels), Array.from(img.pixels));
});

test('deflate: a cut-short stream is truncated; an inflation bomb is too-many-pixels', async () => {
  const spec: ImageSpec = { rows: 16, cols: 16, bitsAllocated: 16, pixelData: u16le(Array.from({ length: 256 }, (_, i) => i * 255)) };
  const deflated = dcm(spec, TSU.deflate);
  await rejects(decodeImage(deflated.subarray(0, deflated.length - 30), 'cut.dcm'), 'truncated');
  // 70 MB of pixel data squeezes to ~70 kB; with maxPixels 1 the inflate cap is 64 MiB + 12 bytes.
  const bomb = writeDicom(imageElements({ rows: 1, cols: 1, bitsAllocated: 8, pixelData: new Uint8Array(70_000_000) }), { transferSyntax: TSU.deflate });
  assert.ok(bomb.length < 1_000_000);
  await rejects(decodeImage(bomb, 'bomb.dcm', { maxPixels: 1 }), 'too-many-pixels', /inflates to more than/);
});
