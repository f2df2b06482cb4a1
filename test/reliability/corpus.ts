// Generated bad inputs for the import path. Every case is built here from scratch, except the seeded
// mutations of ../shared samples, which only ever live in a temporary folder.
import fs from 'node:fs';
import path from 'node:path';
import { deflateRawSync, constants as zlibConstants, createDeflateRaw } from 'node:zlib';
import sharp from 'sharp';
import { imageElements, TSU, writeDicom, type El } from '../imaging/dicomWriter.ts';
import { makePng } from '../imaging/pngWriter.ts';

/** `fail`: must end in a per-file failure (with one of `codes` when given); `ok`: must be imported; `either`: must not crash or hang. */
export interface CorpusCase {
  name: string;
  bytes: Buffer;
  expect: 'fail' | 'ok' | 'either';
  codes?: string[];
}

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STEP = 7;

/** Cuts at every STEP-th byte; a cut that only drops the end marker (last `trailer` bytes) leaves complete pixels, so either outcome is right. */
function truncations(prefix: string, ext: string, bytes: Buffer, trailer: number, codes: string[]): CorpusCase[] {
  const out: CorpusCase[] = [];
  for (let n = 0; n < bytes.length; n += STEP) {
    const tolerated = n >= bytes.length - trailer;
    out.push({ name: `${prefix}-cut-${String(n).padStart(6, '0')}.${ext}`, bytes: bytes.subarray(0, n), expect: tolerated ? 'either' : 'fail', ...(tolerated ? {} : { codes }) });
  }
  return out;
}

async function rasters(seed: number) {
  const random = seededRandom(seed);
  const px = (w: number, h: number, c: number) => Buffer.from(Array.from({ length: w * h * c }, () => Math.floor(random() * 256)));
  const raw = (w: number, h: number, c: 1 | 3) => sharp(px(w, h, c), { raw: { width: w, height: h, channels: c } });
  return {
    png: await raw(24, 20, 3).png().toBuffer(),
    png2: await raw(16, 16, 1).png().toBuffer(),
    png3: await raw(18, 12, 3).png().toBuffer(),
    jpeg: await raw(24, 20, 3).jpeg({ quality: 90 }).toBuffer(),
    jpeg2: await raw(20, 16, 3).jpeg({ quality: 80 }).toBuffer(),
    tiff: await raw(10, 10, 1).tiff().toBuffer(),
  };
}

export function smallDicom(ts: string, opts: { noPreamble?: boolean; noMeta?: boolean; extra?: El[] } = {}): Buffer {
  const pixels = Buffer.alloc(16 * 16 * 2);
  for (let i = 0; i < 256; i++) pixels.writeUInt16LE((i * 97) % 4096, i * 2);
  const extra: El[] = [
    { tag: 0x00080020, vr: 'DA', value: '20240131' },
    { tag: 0x00100020, vr: 'LO', value: 'PID-0001' },
    { tag: 0x0020000d, vr: 'UI', value: '1.2.3.4.5.6.1' },
    ...(opts.extra ?? []),
  ];
  return writeDicom(imageElements({ rows: 16, cols: 16, bitsAllocated: 16, bitsStored: 12, modality: 'CT', pixelData: pixels, extra }), {
    transferSyntax: ts,
    noPreamble: opts.noPreamble,
    noMeta: opts.noMeta,
  });
}

/** Offsets of the data-set elements (explicit VR LE) after the meta group, with their header sizes. */
function explicitElementOffsets(b: Buffer): { at: number; vr: string; long: boolean }[] {
  let pos = 132 + 12 + b.readUInt32LE(132 + 8);
  const out: { at: number; vr: string; long: boolean }[] = [];
  while (pos + 8 <= b.length) {
    const vr = b.toString('latin1', pos + 4, pos + 6);
    const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
    const len = long ? b.readUInt32LE(pos + 8) : b.readUInt16LE(pos + 6);
    out.push({ at: pos, vr, long });
    pos += (long ? 12 : 8) + len;
  }
  return out;
}

function withLength(b: Buffer, el: { at: number; long: boolean }, len: number): Buffer {
  const copy = Buffer.from(b);
  if (el.long) copy.writeUInt32LE(len >>> 0, el.at + 8);
  else copy.writeUInt16LE(len & 0xffff, el.at + 6);
  return copy;
}

/** `depth` sequences of undefined length, each holding one item of undefined length holding the next. */
function nestedSequences(depth: number, explicit: boolean): Buffer {
  const seqHead = Buffer.alloc(explicit ? 12 : 8);
  seqHead.writeUInt16LE(0x0008, 0);
  seqHead.writeUInt16LE(0x1115, 2);
  if (explicit) {
    seqHead.write('SQ', 4, 'latin1');
    seqHead.writeUInt32LE(0xffffffff, 8);
  } else seqHead.writeUInt32LE(0xffffffff, 4);
  const marker = (elem: number, len: number) => {
    const m = Buffer.alloc(8);
    m.writeUInt16LE(0xfffe, 0);
    m.writeUInt16LE(elem, 2);
    m.writeUInt32LE(len, 4);
    return m;
  };
  const open = Buffer.concat([seqHead, marker(0xe000, 0xffffffff)]);
  const close = Buffer.concat([marker(0xe00d, 0), marker(0xe0dd, 0)]);
  return Buffer.concat([...Array<Buffer>(depth).fill(open), ...Array<Buffer>(depth).fill(close)]);
}

/** Meta group followed by `dataset` as given (already deflated for the deflate syntax). */
function withDataSet(ts: string, dataset: Buffer): Buffer {
  const head = writeDicom([], { transferSyntax: ts });
  const emptyDataSet = ts === TSU.deflate ? deflateRawSync(Buffer.alloc(0)).length : 0;
  return Buffer.concat([head.subarray(0, head.length - emptyDataSet), dataset]);
}

/** A raw deflate stream of `total` zero bytes (after `prefix`), built by repeating one flushed block: megabytes, not gigabytes, of work. */
async function zeroBomb(prefix: Buffer, total: number): Promise<Buffer> {
  const chunk = 1 << 20;
  const deflate = createDeflateRaw({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (d: Buffer) => parts.push(d));
  const flush = () => new Promise<Buffer>((resolve) => deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(parts.splice(0)))));
  deflate.write(Buffer.concat([prefix, Buffer.alloc(chunk)]));
  const head = await flush();
  deflate.write(Buffer.alloc(chunk));
  const block = await flush(); // back-references into the 32 KiB window of zeros only, so it can repeat
  deflate.end();
  const final = Buffer.from([0x03, 0x00]); // an empty final fixed-Huffman block
  return Buffer.concat([head, ...Array<Buffer>(Math.ceil(total / chunk)).fill(block), final]);
}

function elementHeader(tag: number, vr: string, len: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16LE(tag >>> 16, 0);
  h.writeUInt16LE(tag & 0xffff, 2);
  h.write(vr, 4, 'latin1');
  h.writeUInt32LE(len >>> 0, 8);
  return h;
}

export async function generateCorpus(seed = 1): Promise<CorpusCase[]> {
  const r = await rasters(seed);
  const cases: CorpusCase[] = [];
  const add = (name: string, bytes: Buffer, expect: CorpusCase['expect'], codes?: string[]) => cases.push({ name, bytes, expect, ...(codes ? { codes } : {}) });
  const explicit = smallDicom(TSU.explicitLE);
  const implicit = smallDicom(TSU.implicitLE);

  // Good files, imported beside the bad ones.
  add('good.png', r.png, 'ok');
  add('good.jpg', r.jpeg, 'ok');
  add('good.tif', r.tiff, 'ok');
  add('good-explicit.dcm', explicit, 'ok');
  add('good-implicit.dcm', implicit, 'ok');
  add('good-no-preamble.dcm', smallDicom(TSU.explicitLE, { noPreamble: true, extra: [{ tag: 0x00081030, vr: 'LO', value: 'no preamble' }] }), 'ok');
  add('IM000001', smallDicom(TSU.explicitLE, { extra: [{ tag: 0x00081030, vr: 'LO', value: 'no extension' }] }), 'ok');
  add('good-bare-dataset.dcm', smallDicom(TSU.implicitLE, { noMeta: true, extra: [{ tag: 0x00081030, vr: 'LO', value: 'bare' }] }), 'ok');
  // Wrong extensions: content decides, so a real image under the wrong name is still imported.
  add('png-named.jpg', r.png2, 'ok');
  add('jpeg-named.dcm', r.jpeg2, 'ok');
  add('png-named.dcm', r.png3, 'ok');
  add('text-named.png', Buffer.from('just some notes, not an image\n'.repeat(20)), 'fail', ['not-an-image']);
  add('text-named.dcm', Buffer.from('just some notes, not an image\n'.repeat(20)), 'fail', ['not-an-image']);
  add('html-named.jpg', Buffer.from('<!doctype html><script>alert(1)</script>'), 'fail', ['not-an-image']);
  add('random-named.png', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)), 'fail', ['not-an-image']);
  for (const ext of ['png', 'jpg', 'dcm', 'tif']) add(`empty.${ext}`, Buffer.alloc(0), 'fail', ['not-an-image']);

  // Truncations: cut inside the data must fail; cut that only loses the end marker keeps complete pixels.
  cases.push(...truncations('png', 'png', r.png, 12, ['truncated', 'not-an-image']));
  cases.push(...truncations('jpeg', 'jpg', r.jpeg, 2, ['truncated', 'not-an-image']));
  cases.push(...truncations('dicom-explicit', 'dcm', explicit, 0, ['truncated']).slice(1));
  cases.push(...truncations('dicom-implicit', 'dcm', implicit, 0, ['truncated']).slice(1));

  // Decompression bombs: tiny files declaring huge images, refused by the pixel cap before decoding.
  add('bomb-100000x100000.png', makePng(100_000, 100_000, 8, 0, null, deflateRawSync(Buffer.alloc(1024))), 'fail', ['too-many-pixels']);
  const sof = Buffer.from(r.jpeg);
  const at = sof.indexOf(Buffer.from([0xff, 0xc0]));
  sof.writeUInt16BE(65_000, at + 5);
  sof.writeUInt16BE(65_000, at + 7);
  add('bomb-65000x65000.jpg', sof, 'fail', ['too-many-pixels']);
  add('bomb-65535x65535.dcm', writeDicom(imageElements({ rows: 65535, cols: 65535, bitsAllocated: 8, pixelData: new Uint8Array(64) }), { transferSyntax: TSU.explicitLE }), 'fail', ['too-many-pixels']);
  add('bomb-1e9-frames.dcm', writeDicom(imageElements({ rows: 16, cols: 16, bitsAllocated: 8, frames: 1_000_000_000, pixelData: new Uint8Array(256) }), { transferSyntax: TSU.explicitLE }), 'fail', ['too-many-pixels']);
  const bombPrefix = elementHeader(0x00091010, 'OB', 0xfffffff0);
  const deflated = await zeroBomb(bombPrefix, 2 ** 31);
  add('bomb-deflate-2GiB.dcm', withDataSet(TSU.deflate, deflated), 'fail', ['too-many-pixels']);

  // Bogus element lengths in the data set: odd, past the end, huge, 0xFFFF on short VRs.
  for (const [i, el] of explicitElementOffsets(explicit).entries()) {
    const lengths = el.long ? [0xfffffff0, explicit.length, 3] : [0xffff, 0xfff1, 1];
    for (const len of lengths) add(`dicom-len-${i}-${el.vr}-${len.toString(16)}.dcm`, withLength(explicit, el, len), 'fail');
  }
  const implicitPixel = implicit.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  for (const len of [0xfffffff0, 0x7fffffff, implicit.length + 2]) {
    const copy = Buffer.from(implicit);
    copy.writeUInt32LE(len, implicitPixel + 4);
    add(`dicom-implicit-pixel-len-${len.toString(16)}.dcm`, copy, 'fail', ['truncated']);
  }
  add('dicom-private-ob-fffffff0.dcm', withDataSet(TSU.explicitLE, Buffer.concat([elementHeader(0x00091010, 'OB', 0xfffffff0), Buffer.alloc(64)])), 'fail');
  add('dicom-sq-fffffff0.dcm', withDataSet(TSU.explicitLE, Buffer.concat([elementHeader(0x00081115, 'SQ', 0xfffffff0), Buffer.alloc(64)])), 'fail');

  // Deep nesting: sequences of undefined length inside each other.
  for (const depth of [10_000, 100_000]) {
    add(`dicom-nested-${depth}-explicit.dcm`, withDataSet(TSU.explicitLE, nestedSequences(depth, true)), 'fail');
    add(`dicom-nested-${depth}-implicit.dcm`, withDataSet(TSU.implicitLE, nestedSequences(depth, false)), 'fail');
  }
  add('dicom-nested-unclosed.dcm', withDataSet(TSU.explicitLE, nestedSequences(5_000, true).subarray(0, 5_000 * 20)), 'fail');

  // No preamble (meta group or data set first) but broken.
  add('dicom-no-preamble-cut.dcm', smallDicom(TSU.explicitLE, { noPreamble: true }).subarray(0, 300), 'fail', ['truncated']);
  add('dicom-bare-garbage.dcm', Buffer.concat([Buffer.from([0x08, 0x00, 0x05, 0x00]), Buffer.from('CS'), Buffer.alloc(400, 0xee)]), 'fail');

  // Executable headers in the preamble (PE/ELF polyglots): refused, never copied on to an export.
  const polyglot = (magic: Buffer) => {
    const copy = Buffer.from(explicit);
    copy.fill(0, 0, 128);
    magic.copy(copy, 0);
    return copy;
  };
  add('polyglot-pe.dcm', polyglot(Buffer.concat([Buffer.from('MZ'), Buffer.alloc(58), Buffer.from([0x80, 0, 0, 0])])), 'fail', ['unsupported-image']);
  add('polyglot-elf.dcm', polyglot(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])), 'fail', ['unsupported-image']);
  add('polyglot-macho.dcm', polyglot(Buffer.from([0xcf, 0xfa, 0xed, 0xfe])), 'fail', ['unsupported-image']);
  add('polyglot-script.dcm', polyglot(Buffer.from('#!/bin/sh\nrm -rf ~\n')), 'fail', ['unsupported-image']);
  add('preamble-tiff.dcm', polyglot(Buffer.from([0x49, 0x49, 0x2a, 0x00])), 'ok');
  return cases;
}

/**
 * Seeded byte flips of the real samples: half near the start (where the headers are), half anywhere.
 * Also a few cuts of each. `flips` names what was changed, so a crashing mutant can be kept as a recipe.
 */
export function mutateSamples(dir: string, count: number, seed: number): (CorpusCase & { recipe: Recipe })[] {
  const names = fs.readdirSync(dir).filter((n) => n.endsWith('.dcm')).sort();
  const random = seededRandom(seed);
  const out: (CorpusCase & { recipe: Recipe })[] = [];
  for (let i = 0; i < count; i++) {
    const sample = names[i % names.length];
    const original = fs.readFileSync(path.join(dir, sample));
    const flips: [number, number][] = [];
    const n = 1 + Math.floor(random() * 8);
    for (let k = 0; k < n; k++) {
      const span = random() < 0.5 ? Math.min(original.length, 1024) : original.length;
      flips.push([Math.floor(random() * span), 1 + Math.floor(random() * 255)]);
    }
    const recipe: Recipe = { sample, flips };
    out.push({ name: `mutant-${String(i).padStart(4, '0')}-${sample}`, bytes: applyRecipe(dir, recipe), expect: 'either', recipe });
  }
  for (const sample of names) {
    const size = fs.statSync(path.join(dir, sample)).size;
    for (let k = 0; k < 4; k++) {
      const recipe: Recipe = { sample, flips: [], cut: Math.floor(random() * size * 0.98) };
      out.push({ name: `cut-${recipe.cut}-${sample}`, bytes: applyRecipe(dir, recipe), expect: 'fail', recipe });
    }
  }
  return out;
}

/** A mutation of a shared sample, stored instead of the bytes (the samples may not be copied into the repository). */
export interface Recipe {
  sample: string;
  flips: [number, number][];
  cut?: number;
}

export function applyRecipe(dir: string, recipe: Recipe): Buffer {
  const bytes = Buffer.from(fs.readFileSync(path.join(dir, recipe.sample)));
  for (const [offset, xor] of recipe.flips) if (offset < bytes.length) bytes[offset] ^= xor;
  return recipe.cut === undefined ? bytes : bytes.subarray(0, recipe.cut);
}
