/** Images the browser tests import: two visually distinct synthetic classes, and MNIST digits as PNG. */
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';

/** A tiny deterministic PRNG so every run writes the same pictures. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * `perClass` bright discs and `perClass` striped textures, 64×64 grey, named `disc_NNN.png` and
 * `stripes_NNN.png` so a test can tell the true class from the file name.
 */
export async function writeShapes(dir: string, perClass: number): Promise<{ name: string; classIdx: number }[]> {
  fs.mkdirSync(dir, { recursive: true });
  const size = 64;
  const random = rng(42);
  const written: { name: string; classIdx: number }[] = [];
  for (let i = 0; i < perClass; i++) {
    for (const [classIdx, kind] of (['disc', 'stripes'] as const).entries()) {
      const px = Buffer.alloc(size * size);
      const cx = 20 + random() * 24;
      const cy = 20 + random() * 24;
      const r = 9 + random() * 9;
      const period = 5 + random() * 6;
      const phase = random() * period;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const noise = (random() - 0.5) * 40;
          const v = kind === 'disc' ? (Math.hypot(x - cx, y - cy) < r ? 215 : 35) : Math.sin(((y + phase) / period) * 2 * Math.PI) > 0 ? 200 : 50;
          px[y * size + x] = Math.max(0, Math.min(255, Math.round(v + noise)));
        }
      }
      const name = `${kind}_${String(i).padStart(3, '0')}.png`;
      await sharp(px, { raw: { width: size, height: size, channels: 1 } }).png().toFile(path.join(dir, name));
      written.push({ name, classIdx });
    }
  }
  return written;
}

/** The first `count` MNIST test digits as `digitD_NNNNN.png` (28×28 grey). */
export async function writeMnist(mnistDir: string, dir: string, count: number): Promise<{ name: string; classIdx: number }[]> {
  const images = gunzipSync(fs.readFileSync(path.join(mnistDir, 't10k-images-idx3-ubyte.gz')));
  const labels = gunzipSync(fs.readFileSync(path.join(mnistDir, 't10k-labels-idx1-ubyte.gz')));
  if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049) throw new Error('not MNIST idx files');
  const rows = images.readUInt32BE(8);
  const cols = images.readUInt32BE(12);
  fs.mkdirSync(dir, { recursive: true });
  const written: { name: string; classIdx: number }[] = [];
  for (let i = 0; i < count; i++) {
    const px = images.subarray(16 + i * rows * cols, 16 + (i + 1) * rows * cols);
    const digit = labels[8 + i];
    const name = `digit${digit}_${String(i).padStart(5, '0')}.png`;
    await sharp(Buffer.from(px), { raw: { width: cols, height: rows, channels: 1 } }).png().toFile(path.join(dir, name));
    written.push({ name, classIdx: digit });
  }
  return written;
}
