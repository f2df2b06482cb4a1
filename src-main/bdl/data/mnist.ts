/**
 * Minimal reader for the MNIST idx format (LeCun et al.; http://yann.lecun.com/exdb/mnist/):
 * big-endian header, magic 2051 for images ([n, rows, cols] uint8) and 2049 for labels ([n] uint8),
 * optionally gzip-compressed.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

export interface IdxImages {
  /** [n, rows, cols] uint8, row-major (= [N, H, W, 1]). */
  pixels: Uint8Array;
  n: number;
  rows: number;
  cols: number;
}

function maybeGunzip(buf: Uint8Array): Uint8Array {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b ? zlib.gunzipSync(buf) : buf;
}

/** Parses an idx3 image file (raw or gzip). */
export function parseIdxImages(data: Uint8Array): IdxImages {
  const b = maybeGunzip(data);
  if (b.length < 4) throw new Error('idx images: file too short');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = v.getUint32(0, false);
  if (magic !== IDX_IMAGES_MAGIC) throw new Error(`idx images: magic ${magic}, expected ${IDX_IMAGES_MAGIC}`);
  if (b.length < 16) throw new Error('idx images: header too short');
  const n = v.getUint32(4, false);
  const rows = v.getUint32(8, false);
  const cols = v.getUint32(12, false);
  const size = n * rows * cols;
  if (b.length < 16 + size) throw new Error(`idx images: expected ${size} pixel bytes, found ${b.length - 16}`);
  // A plain Uint8Array on its own ArrayBuffer (gunzip returns a Buffer; callers may transfer it).
  const pixels = new Uint8Array(size);
  pixels.set(b.subarray(16, 16 + size));
  return { pixels, n, rows, cols };
}

/** Parses an idx1 label file (raw or gzip) → Int32Array [n]. */
export function parseIdxLabels(data: Uint8Array): Int32Array {
  const b = maybeGunzip(data);
  if (b.length < 4) throw new Error('idx labels: file too short');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = v.getUint32(0, false);
  if (magic !== IDX_LABELS_MAGIC) throw new Error(`idx labels: magic ${magic}, expected ${IDX_LABELS_MAGIC}`);
  if (b.length < 8) throw new Error('idx labels: header too short');
  const n = v.getUint32(4, false);
  if (b.length < 8 + n) throw new Error(`idx labels: expected ${n} labels, found ${b.length - 8}`);
  return Int32Array.from(b.subarray(8, 8 + n));
}

export interface MnistSet {
  /** [n, 28, 28, 1] uint8. */
  images: Uint8Array;
  labels: Int32Array;
  n: number;
  imageSize: number;
}

/** Reads `t10k-images-idx3-ubyte.gz` + `t10k-labels-idx1-ubyte.gz` (or the given prefix) from `dir`. */
export function readMnist(dir: string, prefix = 't10k'): MnistSet {
  const img = parseIdxImages(fs.readFileSync(path.join(dir, `${prefix}-images-idx3-ubyte.gz`)));
  const labels = parseIdxLabels(fs.readFileSync(path.join(dir, `${prefix}-labels-idx1-ubyte.gz`)));
  if (labels.length !== img.n) throw new Error(`mnist: ${img.n} images but ${labels.length} labels`);
  if (img.rows !== img.cols) throw new Error(`mnist: non-square images ${img.rows}×${img.cols}`);
  return { images: img.pixels, labels, n: img.n, imageSize: img.rows };
}

/** Rows [start, end) of a set. */
export function sliceMnist(set: MnistSet, start: number, end: number): MnistSet {
  const per = set.imageSize * set.imageSize;
  return {
    images: set.images.slice(start * per, end * per),
    labels: set.labels.slice(start, end),
    n: end - start,
    imageSize: set.imageSize,
  };
}
