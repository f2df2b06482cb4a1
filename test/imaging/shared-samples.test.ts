// Real DICOM files from ../shared (never copied into the repo); skipped when that folder is absent.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage, previewPng, toModelInput, type DecodedImage } from '../../src-main/imaging/index.ts';
import { rejects } from './helpers.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = path.resolve(repoRoot, '..', 'shared', 'data', 'dicom');
const skip = fs.existsSync(dir) ? false : `shared DICOM samples not found at ${dir} (../shared beside the repository)`;

const load = (name: string) => fs.readFileSync(path.join(dir, name));
const decode = (name: string) => decodeImage(load(name), name);

function modalityRange(img: DecodedImage): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of img.modalityValues!) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

describe('shared DICOM samples', { skip }, () => {
  test('MR_small in five transfer syntaxes decodes to identical pixels', async () => {
    const names = ['MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small_RLE.dcm', 'MR_small_jpeg_ls_lossless.dcm'];
    const [ref, ...rest] = await Promise.all(names.map(decode));
    assert.deepEqual([ref.width, ref.height, ref.channels], [64, 64, 1]);
    assert.deepEqual([ref.dicom?.windowCenter, ref.dicom?.windowWidth, ref.dicom?.windowSource], [600, 1600, 'file']);
    assert.deepEqual(modalityRange(ref), [127, 2145]);
    const syntaxes = new Set([ref.dicom?.transferSyntax]);
    rest.forEach((img, i) => {
      assert.deepEqual(Array.from(img.modalityValues!), Array.from(ref.modalityValues!), names[i + 1]);
      assert.deepEqual(Buffer.from(img.pixels), Buffer.from(ref.pixels), names[i + 1]);
      syntaxes.add(img.dicom?.transferSyntax);
    });
    assert.equal(syntaxes.size, 5);
  });

  test('CT_small: 128² signed CT in Hounsfield units, window from the pixel range', async () => {
    const img = await decode('CT_small.dcm');
    assert.deepEqual([img.width, img.height, img.channels, img.dicom?.modality], [128, 128, 1, 'CT']);
    // Stored values 175, 180, 166, 143 with Rescale Intercept −1024.
    assert.deepEqual(Array.from(img.modalityValues!.subarray(0, 4)), [-849, -844, -858, -881]);
    assert.equal(img.dicom?.windowSource, 'pixel-range');
    const [min, max] = modalityRange(img);
    assert.equal(img.dicom?.windowWidth, max - min + 1);
    assert.ok(img.pixels.includes(0) && img.pixels.includes(255));
  });

  test('CT1_UNC: 512² CT', async () => {
    const img = await decode('CT1_UNC.explicit_little_endian.dcm');
    assert.deepEqual([img.width, img.height, img.channels, img.dicom?.bitsAllocated], [512, 512, 1, 16]);
    assert.equal(img.pixels.length, 512 * 512);
    assert.deepEqual(modalityRange(img), [-3024, 1254]);
    const input = await toModelInput(img, 64, 3);
    assert.equal(input.length, 64 * 64 * 3);
  });

  test('liver_1frame: 1-bit SEG becomes a 0/255 binary image with a note', async () => {
    const img = await decode('liver_1frame.dcm');
    assert.deepEqual([img.width, img.height, img.channels, img.dicom?.bitsAllocated], [512, 512, 1, 1]);
    assert.equal(img.dicom?.note, 'segmentation mask imported as a binary image');
    const on = img.pixels.filter((v) => v === 255).length;
    assert.equal(on + img.pixels.filter((v) => v === 0).length, 512 * 512, 'only 0 and 255');
    assert.ok(on > 1000 && on < 512 * 512 / 2, `${on} mask pixels`);
  });

  test('SC_rgb_small_odd: 3×3 RGB', async () => {
    const img = await decode('SC_rgb_small_odd.dcm');
    assert.deepEqual([img.width, img.height, img.channels], [3, 3, 3]);
    assert.deepEqual(Array.from(img.pixels), [166, 141, 52, 166, 141, 52, 166, 141, 52, 63, 87, 176, 63, 87, 176, 63, 87, 176, 158, 158, 158, 158, 158, 158, 158, 158, 158]);
    assert.equal(img.modalityValues, undefined);
  });

  test('examples_rgb_color: 320×240 ultrasound RGB, previewable', async () => {
    const img = await decode('examples_rgb_color.dcm');
    assert.deepEqual([img.width, img.height, img.channels, img.dicom?.modality], [320, 240, 3, 'US']);
    const png = await previewPng(img);
    const back = await decodeImage(png, 'preview.png');
    assert.deepEqual(Buffer.from(back.pixels), Buffer.from(img.pixels));
  });

  test('rtplan_truncated is rejected cleanly as having no pixel data', async () => {
    await rejects(decode('rtplan_truncated.dcm'), 'no-pixel-data', /RT Plan.*cut short/);
  });

  test('real files cut short are rejected as truncated', async () => {
    for (const name of ['CT_small.dcm', 'MR_small_implicit.dcm', 'MR_small_RLE.dcm', 'MR_small_jpeg_ls_lossless.dcm', 'liver_1frame.dcm']) {
      const b = load(name);
      for (const frac of [0.02, 0.1, 0.5, 0.9]) await rejects(decodeImage(b.subarray(0, Math.floor(b.length * frac)), name), 'truncated');
    }
  });
});
