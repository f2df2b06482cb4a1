import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/**
 * Small grayscale PNGs whose content is a known function of a severity t in [0, 10]: a centred disc
 * whose brightness (40 + 20·t) and radius (4 + 0.8·t px) grow with t, plus seeded pixel noise.
 * The severities are spread evenly over [0, 10] (shuffled by the seed). Returns files and true values.
 */
export async function writeSeverityPngs(dir: string, count: number, seed = 1, size = 28): Promise<{ file: string; value: number }[]> {
  fs.mkdirSync(dir, { recursive: true });
  let state = seed >>> 0;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
  const written: { file: string; value: number }[] = [];
  for (let i = 0; i < count; i++) {
    const value = Math.round((10 * i) / Math.max(1, count - 1) * 100) / 100;
    const radius = 4 + 0.8 * value;
    const pixels = Buffer.alloc(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = Math.hypot(x - size / 2 + 0.5, y - size / 2 + 0.5) < radius;
        pixels[y * size + x] = Math.max(0, Math.min(255, Math.round((inside ? 40 + 20 * value : 20) + (random() - 0.5) * 20)));
      }
    }
    const file = path.join(dir, `case-${String(Math.floor(random() * 1e6)).padStart(6, '0')}-${String(i).padStart(4, '0')}.png`);
    await sharp(pixels, { raw: { width: size, height: size, channels: 1 } }).png().toFile(file);
    written.push({ file, value });
  }
  return written;
}
