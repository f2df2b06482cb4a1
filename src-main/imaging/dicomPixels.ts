import type { DataSet, Element } from 'dicom-parser';
import { ImageDecodeError } from './errors.ts';
import { decodeJpegLs, decodeRle, type NativeFrame } from './dicomCodecs.ts';
import { TS } from './dicomParse.ts';
import { ybrFullToRgbInPlace, clamp255 } from './window.ts';

export interface PixelModule {
  rows: number;
  cols: number;
  spp: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  planar: boolean;
  photometric: string;
  frames: number;
}

const GRAY = new Set(['MONOCHROME1', 'MONOCHROME2']);
const COLOR = new Set(['RGB', 'YBR_FULL', 'YBR_FULL_422']);

export function readPixelModule(ds: DataSet): PixelModule {
  const rows = ds.uint16('x00280010') ?? 0;
  const cols = ds.uint16('x00280011') ?? 0;
  if (!rows || !cols) throw new ImageDecodeError('unreadable', `DICOM Rows/Columns missing or zero (${rows}×${cols})`);
  const spp = ds.uint16('x00280002') ?? 1;
  const bitsAllocated = ds.uint16('x00280100') ?? 0;
  if (![1, 8, 16, 32].includes(bitsAllocated)) {
    throw new ImageDecodeError('unsupported-image', `Bits Allocated ${bitsAllocated} is not supported (1, 8, 16 or 32)`);
  }
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const highBit = ds.uint16('x00280102') ?? bitsStored - 1;
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw new ImageDecodeError('unreadable', `inconsistent Bits Stored ${bitsStored} / High Bit ${highBit} for Bits Allocated ${bitsAllocated}`);
  }
  const photometric = (ds.string('x00280004') ?? (spp === 3 ? 'RGB' : 'MONOCHROME2')).trim().toUpperCase();
  if (photometric === 'PALETTE COLOR') {
    throw new ImageDecodeError('unsupported-image', 'PALETTE COLOR DICOM images are not supported; convert the file to RGB first');
  }
  const gray = GRAY.has(photometric);
  if (!(gray && spp === 1) && !(COLOR.has(photometric) && spp === 3)) {
    throw new ImageDecodeError('unsupported-image', `photometric interpretation ${photometric} with ${spp} samples per pixel is not supported`);
  }
  if (!gray && bitsAllocated === 1) throw new ImageDecodeError('unsupported-image', '1-bit colour images are not supported');
  const framesRaw = ds.intString('x00280008');
  const frames = framesRaw !== undefined && Number.isFinite(framesRaw) && framesRaw > 1 ? framesRaw : 1;
  return {
    rows, cols, spp, bitsAllocated, bitsStored, highBit,
    signed: ds.uint16('x00280103') === 1,
    planar: spp > 1 && ds.uint16('x00280006') === 1,
    photometric, frames,
  };
}

/** Bytes one native (uncompressed) frame occupies, and the whole Pixel Data for `frames` frames. */
function nativeSizes(p: PixelModule): { frame: number; total: number } {
  const samples = p.photometric === 'YBR_FULL_422' ? p.rows * p.cols * 2 : p.rows * p.cols * p.spp;
  const bits = samples * p.bitsAllocated;
  return { frame: Math.ceil(bits / 8), total: Math.ceil((bits * p.frames) / 8) };
}

/** First frame as native little-endian bytes (bit-packed for Bits Allocated 1). */
export async function firstFrame(ds: DataSet, el: Element, p: PixelModule, ts: string): Promise<NativeFrame> {
  const data = ds.byteArray;
  if (el.encapsulatedPixelData || el.hadUndefinedLength) {
    if (!el.encapsulatedPixelData || ts === TS.implicitLE || ts === TS.explicitLE || ts === TS.explicitBE || ts === TS.deflate) {
      throw new ImageDecodeError('unreadable', 'Pixel Data has an undefined length but the transfer syntax is uncompressed');
    }
    const frame = encapsulatedFirstFrame(data, el, p, ts);
    if (p.bitsAllocated === 1) throw new ImageDecodeError('unsupported-image', '1-bit pixel data in a compressed transfer syntax is not supported');
    const g = { rows: p.rows, cols: p.cols, spp: p.spp, bytesPerSample: p.bitsAllocated / 8 };
    return ts === TS.rle ? decodeRle(frame, g) : decodeJpegLs(frame, g);
  }
  const available = data.length - el.dataOffset;
  if (el.length > available) {
    throw new ImageDecodeError('truncated', `Pixel Data element declares ${el.length} bytes but the file ends ${Math.max(0, available)} bytes into it`);
  }
  const need = nativeSizes(p);
  if (el.length < need.total) {
    throw new ImageDecodeError('truncated',
      `Pixel Data holds ${el.length} bytes but ${p.rows} rows × ${p.cols} columns × ${p.spp} samples × ${p.bitsAllocated} bits × ${p.frames} frame(s) needs ${need.total}`);
  }
  const raw = data.subarray(el.dataOffset, el.dataOffset + need.frame);
  if (ts !== TS.explicitBE) return { bytes: raw, planar: p.planar };
  return { bytes: swapToLittleEndian(raw, p.bitsAllocated, el.vr), planar: p.planar };
}

function swapToLittleEndian(raw: Uint8Array, bitsAllocated: number, vr: string | undefined): Uint8Array {
  const out = Uint8Array.from(raw);
  // 8- and 1-bit data is only byte-swapped when it was written as 16-bit words (OW).
  const word = bitsAllocated === 32 ? 4 : bitsAllocated === 16 || vr === 'OW' ? 2 : 1;
  if (word === 1) return out;
  for (let i = 0; i + word <= out.length; i += word) {
    for (let k = 0; k < word; k++) out[i + k] = raw[i + word - 1 - k];
  }
  return out;
}

function encapsulatedFirstFrame(data: Uint8Array, el: Element, p: PixelModule, ts: string): Uint8Array {
  const frags = el.fragments ?? [];
  if (frags.length === 0) throw new ImageDecodeError('truncated', 'encapsulated Pixel Data contains no fragments');
  for (const [i, f] of frags.entries()) {
    if (f.position + f.length > data.length) {
      throw new ImageDecodeError('truncated', `Pixel Data fragment ${i + 1} declares ${f.length} bytes but the file ends ${Math.max(0, data.length - f.position)} bytes into it`);
    }
  }
  let chosen = frags;
  if (p.frames > 1) {
    const bot = el.basicOffsetTable ?? [];
    if (bot.length >= 2) {
      chosen = frags.filter((f) => f.offset >= bot[0] && f.offset < bot[1]);
    } else if (ts === TS.rle || frags.length === p.frames) {
      chosen = frags.slice(0, 1); // RLE: exactly one fragment per frame (PS3.5 A.4.2)
    } else {
      // JPEG-LS without an offset table: the first frame runs until the next fragment opening with SOI.
      let n = 1;
      while (n < frags.length && !(data[frags[n].position] === 0xff && data[frags[n].position + 1] === 0xd8)) n++;
      chosen = frags.slice(0, n);
    }
    if (chosen.length === 0) throw new ImageDecodeError('unreadable', 'Basic Offset Table does not match the Pixel Data fragments');
  }
  if (chosen.length === 1) return data.subarray(chosen[0].position, chosen[0].position + chosen[0].length);
  const out = new Uint8Array(chosen.reduce((s, f) => s + f.length, 0));
  let o = 0;
  for (const f of chosen) {
    out.set(data.subarray(f.position, f.position + f.length), o);
    o += f.length;
  }
  return out;
}

/** Stored values → modality values (slope/intercept), with their range; `exclude` is the Pixel Padding Value. */
export function unpackGray(frame: NativeFrame, p: PixelModule, slope: number, intercept: number, exclude?: number):
  { values: Float32Array; min: number; max: number } {
  const n = p.rows * p.cols;
  const b = frame.bytes;
  const values = new Float32Array(n);
  const stored = storedValueReader(b, p);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = stored(i);
    const m = v * slope + intercept;
    values[i] = m;
    if (v !== exclude) {
      if (m < min) min = m;
      if (m > max) max = m;
    }
  }
  if (min > max) min = max = 0;
  return { values, min, max };
}

/** Reads sample i as its stored value: shifted by High Bit, masked to Bits Stored, sign-extended if signed. */
function storedValueReader(b: Uint8Array, p: PixelModule): (i: number) => number {
  if (p.bitsAllocated === 1) return (i) => (b[i >> 3] >> (i & 7)) & 1;
  const shift = p.highBit + 1 - p.bitsStored;
  if (p.bitsAllocated === 32) {
    const full = 2 ** p.bitsStored;
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    return (i) => {
      const v = Math.floor(dv.getUint32(4 * i, true) / 2 ** shift) % full;
      return p.signed && v >= full / 2 ? v - full : v;
    };
  }
  const mask = (1 << p.bitsStored) - 1;
  const up = 32 - p.bitsStored;
  const raw = p.bitsAllocated === 8 ? (i: number) => b[i] : (i: number) => b[2 * i] | (b[2 * i + 1] << 8);
  return p.signed ? (i) => (((raw(i) >> shift) & mask) << up) >> up : (i) => (raw(i) >> shift) & mask;
}

/** Colour frame → interleaved 8-bit RGB. */
export function unpackColor(frame: NativeFrame, p: PixelModule): Uint8Array {
  const n = p.rows * p.cols;
  const b = frame.bytes;
  const out = new Uint8Array(n * 3);
  if (p.photometric === 'YBR_FULL_422' && !frame.planar && b.length < n * 3) return ybr422ToRgb(b, p);
  const bytes = p.bitsAllocated / 8;
  const maxStored = 2 ** p.bitsStored - 1;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const s = frame.planar ? c * n + i : 3 * i + c;
      if (bytes === 1) {
        out[3 * i + c] = b[s];
      } else {
        let raw = 0;
        for (let k = bytes - 1; k >= 0; k--) raw = raw * 256 + b[s * bytes + k];
        out[3 * i + c] = clamp255(((raw % (maxStored + 1)) * 255) / maxStored);
      }
    }
  }
  if (p.photometric !== 'RGB') ybrFullToRgbInPlace(out);
  return out;
}

/** Native YBR_FULL_422: each pair of pixels is stored as Y1 Y2 Cb Cr (PS3.3 C.7.6.3.1.2). */
function ybr422ToRgb(b: Uint8Array, p: PixelModule): Uint8Array {
  if (p.bitsAllocated !== 8) throw new ImageDecodeError('unsupported-image', 'YBR_FULL_422 is only supported with 8 bits allocated');
  const out = new Uint8Array(p.rows * p.cols * 3);
  let o = 0;
  for (let r = 0; r < p.rows; r++) {
    const rowStart = r * p.cols * 2;
    for (let x = 0; x < p.cols; x++) {
      const pair = rowStart + (x >> 1) * 4;
      out[o++] = b[pair + (x & 1)];
      out[o++] = b[pair + 2];
      out[o++] = b[pair + 3];
    }
  }
  ybrFullToRgbInPlace(out);
  return out;
}
