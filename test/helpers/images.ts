import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/**
 * Two easily told-apart classes of small grayscale PNGs: "bars" (vertical stripes) and "rings", each
 * with seeded jitter and noise, written to `dir`. Returns the files with their true labels.
 */
export async function writeTwoClassPngs(dir: string, perClass: number, seed = 1, size = 32): Promise<{ file: string; label: 'bars' | 'rings' }[]> {
  fs.mkdirSync(dir, { recursive: true });
  let state = seed >>> 0;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
  const written: { file: string; label: 'bars' | 'rings' }[] = [];
  for (let i = 0; i < perClass * 2; i++) {
    const label = i % 2 === 0 ? 'bars' : 'rings';
    const pixels = Buffer.alloc(size * size);
    const phase = random() * 6;
    const radius = size * (0.25 + 0.15 * random());
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const on = label === 'bars' ? Math.sin((x + phase) * 1.2) > 0 : Math.abs(Math.hypot(x - size / 2, y - size / 2) - radius) < 2.5;
        pixels[y * size + x] = Math.max(0, Math.min(255, (on ? 200 : 40) + (random() - 0.5) * 60));
      }
    }
    const file = path.join(dir, `${label}-${String(i).padStart(4, '0')}.png`);
    await sharp(pixels, { raw: { width: size, height: size, channels: 1 } }).png().toFile(file);
    written.push({ file, label });
  }
  return written;
}
