/**
 * Data sets for the simulator, as uint8 images [N, H, W, C] + int32 labels, split into a pool side
 * (labelled + unlabelled, the oracle reveals labels) and a held-out side (evaluation only).
 *
 * - MNIST idx folder (`<prefix>-images-idx3-ubyte[.gz]` + `<prefix>-labels-idx1-ubyte[.gz]`): the
 *   project's standard split, pool = images 0–7999, held-out = 8000–9999 (other sizes: the first
 *   80% / the rest).
 * - Image folder with `labels.csv` (header path,label; paths relative to the CSV), or the CSV itself:
 *   decoded with the app's imaging (`decodeImage` → `toModelInput`, letterboxed to imageSize), then a
 *   fixed seeded, per-class 80/20 split — unless a separate held-out CSV is given.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseIdxImages, parseIdxLabels } from '../bdl/data/mnist.ts';
import { deriveSeed, permutation } from '../bdl/util/random.ts';
import { gatherRows } from '../bdl/util/rows.ts';
import { decodeImage, toModelInput } from '../imaging/index.ts';
import { parseCsvRecords } from '../util/csv.ts';

export interface SimDataset {
  kind: 'mnist' | 'folder';
  path: string;
  classes: string[];
  imageSize: number;
  channels: 1 | 3;
  poolX: Uint8Array;
  poolY: Int32Array;
  testX: Uint8Array;
  testY: Int32Array;
  /** Rows of the CSV(s) that could not be decoded or named an unknown class. */
  failed: { path: string; message: string }[];
}

/** The split of the project's MNIST benchmarks (see ../shared/README.md). */
export const MNIST_POOL_END = 8000;
/** Seed of the fixed 80/20 split of image folders (the same split for every run). */
const SPLIT_SEED = 0x5b117;

const MODEL_SIZES = [28, 64, 128, 224];

function findIdx(dir: string): { images: string; labels: string } | null {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return null;
  }
  for (const name of names.sort()) {
    const m = /^(.*)-images[-.]idx3-ubyte(\.gz)?$/.exec(name);
    if (!m) continue;
    const labels = names.find((n) => new RegExp(`^${m[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-labels[-.]idx1-ubyte(\\.gz)?$`).test(n));
    if (labels) return { images: path.join(dir, name), labels: path.join(dir, labels) };
  }
  return null;
}

function loadMnist(dir: string, files: { images: string; labels: string }): SimDataset {
  const img = parseIdxImages(fs.readFileSync(files.images));
  const labels = parseIdxLabels(fs.readFileSync(files.labels));
  if (labels.length !== img.n) throw new Error(`${files.images}: ${img.n} images but ${labels.length} labels`);
  if (img.rows !== 28 || img.cols !== 28) throw new Error(`${files.images}: images are ${img.rows}×${img.cols}, expected 28×28`);
  const poolEnd = img.n === 10_000 ? MNIST_POOL_END : Math.floor(img.n * 0.8);
  const per = 28 * 28;
  let numClasses = 0;
  for (const y of labels) numClasses = Math.max(numClasses, y + 1);
  return {
    kind: 'mnist',
    path: dir,
    classes: Array.from({ length: numClasses }, (_, i) => String(i)),
    imageSize: 28,
    channels: 1,
    poolX: img.pixels.slice(0, poolEnd * per),
    poolY: labels.slice(0, poolEnd),
    testX: img.pixels.slice(poolEnd * per),
    testY: labels.slice(poolEnd),
    failed: [],
  };
}

async function readCsvImages(
  csvPath: string,
  imageSize: number,
  channels: 1 | 3,
  classIndex: ((label: string) => number | undefined) | null,
  onProgress?: (done: number, total: number) => void,
): Promise<{ x: Uint8Array[]; labels: string[]; failed: SimDataset['failed'] }> {
  const records = parseCsvRecords(fs.readFileSync(csvPath, 'utf8'), ['path', 'label']);
  const x: Uint8Array[] = [];
  const labels: string[] = [];
  const failed: SimDataset['failed'] = [];
  let done = 0;
  for (const record of records) {
    const file = path.resolve(path.dirname(csvPath), record.path);
    done++;
    if (record.label === '') {
      failed.push({ path: file, message: 'no label' });
      continue;
    }
    if (classIndex && classIndex(record.label) === undefined) {
      failed.push({ path: file, message: `label "${record.label}" is not a class of the pool` });
      continue;
    }
    try {
      const bytes = fs.readFileSync(file);
      x.push(await toModelInput(await decodeImage(bytes, file), imageSize, channels));
      labels.push(record.label);
    } catch (error) {
      failed.push({ path: file, message: error instanceof Error ? error.message : String(error) });
    }
    if (done % 50 === 0) onProgress?.(done, records.length);
  }
  return { x, labels, failed };
}

function stack(parts: Uint8Array[], per: number): Uint8Array {
  const out = new Uint8Array(parts.length * per);
  parts.forEach((p, i) => out.set(p, i * per));
  return out;
}

async function loadFolder(
  csvPath: string,
  opts: { imageSize: number; channels: 1 | 3; testCsv?: string; onProgress?: (done: number, total: number) => void },
): Promise<SimDataset> {
  const { imageSize, channels } = opts;
  if (!MODEL_SIZES.includes(imageSize)) throw new Error(`imageSize must be one of ${MODEL_SIZES.join(', ')}; got ${imageSize}`);
  const per = imageSize * imageSize * channels;
  const main = await readCsvImages(csvPath, imageSize, channels, null, opts.onProgress);
  const classes = [...new Set(main.labels)].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  if (classes.length < 2) throw new Error(`${csvPath}: need images of at least two classes (found ${classes.length})`);
  const index = new Map(classes.map((c, i) => [c, i]));
  const y = Int32Array.from(main.labels, (l) => index.get(l)!);
  const x = stack(main.x, per);
  const failed = [...main.failed];
  let poolRows: number[];
  let testX: Uint8Array;
  let testY: Int32Array;
  if (opts.testCsv) {
    const test = await readCsvImages(opts.testCsv, imageSize, channels, (l) => index.get(l));
    failed.push(...test.failed);
    poolRows = Array.from({ length: y.length }, (_, i) => i);
    testX = stack(test.x, per);
    testY = Int32Array.from(test.labels, (l) => index.get(l)!);
  } else {
    // Per class: a seeded shuffle, the first 20% (at least one image) held out.
    const testRows: number[] = [];
    poolRows = [];
    classes.forEach((_, c) => {
      const rows = Array.from(y.keys()).filter((i) => y[i] === c);
      const order = permutation(rows.length, deriveSeed(SPLIT_SEED, c));
      const held = Math.max(1, Math.round(rows.length * 0.2));
      order.forEach((o, k) => (k < held ? testRows : poolRows).push(rows[o]));
    });
    testRows.sort((a, b) => a - b);
    poolRows.sort((a, b) => a - b);
    testX = gatherRows(x, per, testRows);
    testY = Int32Array.from(testRows, (r) => y[r]);
  }
  if (testY.length === 0) throw new Error('the held-out set is empty');
  return {
    kind: 'folder',
    path: csvPath,
    classes,
    imageSize,
    channels,
    poolX: gatherRows(x, per, poolRows),
    poolY: Int32Array.from(poolRows, (r) => y[r]),
    testX,
    testY,
    failed,
  };
}

/** Loads an MNIST idx folder, an image folder with labels.csv, or a labels CSV. */
export async function loadDataset(
  dataset: string,
  opts: { imageSize?: number; channels?: 1 | 3; testCsv?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<SimDataset> {
  const resolved = path.resolve(dataset);
  if (!fs.existsSync(resolved)) throw new Error(`data set not found: ${resolved}`);
  if (fs.statSync(resolved).isDirectory()) {
    const idx = findIdx(resolved);
    if (idx) {
      if (opts.testCsv) throw new Error('--test-csv applies to image folders; an MNIST folder has its fixed split (8000–9999 held out)');
      return loadMnist(resolved, idx);
    }
    const csv = path.join(resolved, 'labels.csv');
    if (!fs.existsSync(csv)) throw new Error(`${resolved} has neither MNIST idx files (*-images-idx3-ubyte[.gz]) nor a labels.csv (path,label)`);
    return loadFolder(csv, { imageSize: opts.imageSize ?? 28, channels: opts.channels ?? 1, testCsv: opts.testCsv, onProgress: opts.onProgress });
  }
  if (resolved.toLowerCase().endsWith('.csv')) {
    return loadFolder(resolved, { imageSize: opts.imageSize ?? 28, channels: opts.channels ?? 1, testCsv: opts.testCsv, onProgress: opts.onProgress });
  }
  throw new Error(`${resolved}: expected an MNIST idx folder, an image folder with labels.csv, or a labels CSV`);
}

/** A fixed seeded subsample of `n` rows of (x, y) (all of them when n ≥ the count). */
export function subsample(x: Uint8Array, y: Int32Array, per: number, n: number | undefined, seed: number): { x: Uint8Array; y: Int32Array } {
  if (n === undefined || n >= y.length) return { x, y };
  const rows = Array.from(permutation(y.length, seed).subarray(0, n)).sort((a, b) => a - b);
  return { x: gatherRows(x, per, rows), y: gatherRows(y, 1, rows) };
}
