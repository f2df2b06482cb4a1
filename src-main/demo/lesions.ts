import sharp from 'sharp';
import { seededShuffle } from '../jobs/training.ts';

export const DEMO_CLASSES = ['benign', 'suspicious'] as const;

type Rgb = [number, number, number];

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SKIN: Rgb[] = [[233, 196, 170], [210, 170, 140], [188, 143, 110], [242, 210, 190]];
const BROWNS: Rgb[] = [[120, 72, 40], [100, 60, 35], [140, 90, 55]];
const EXTRA: Rgb[] = [[35, 25, 25], [90, 100, 130], [170, 60, 60], [60, 40, 30]];

/**
 * A dermoscopy-like lesion after the ABCD rule: a benign one is round, symmetric, evenly coloured
 * with a sharp border; a suspicious one has an irregular, asymmetric outline, several colours and a
 * blurred border. `difficulty` in [0, 1] blends the two, so some images are genuinely ambiguous.
 */
export function drawLesion(size: number, suspicious: boolean, seed: number, difficulty: number): Buffer {
  const random = mulberry32(seed);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const skin = pick(SKIN);
  const base = pick(BROWNS);
  const strength = suspicious ? 1 - 0.6 * difficulty : 0.6 * difficulty;
  const harmonics = Array.from({ length: 5 }, (_, k) => ({ k: k + 2, a: (0.02 + 0.12 * strength) * random(), phase: random() * 2 * Math.PI }));
  const skew = { x: (random() - 0.5) * 0.5 * strength, y: (random() - 0.5) * 0.5 * strength };
  const blobs = suspicious || strength > 0.3
    ? Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ colour: pick(EXTRA), cx: (random() - 0.5) * 0.5, cy: (random() - 0.5) * 0.5, r: 0.15 + 0.25 * random(), weight: strength }))
    : [];
  const radius = size * (0.22 + 0.1 * random());
  const cx = size / 2 + (random() - 0.5) * size * 0.1;
  const cy = size / 2 + (random() - 0.5) * size * 0.1;
  const border = 0.6 + 2.5 * strength;
  const pixels = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = (x - cx) / radius;
      const dy = (y - cy) / radius;
      const theta = Math.atan2(dy, dx);
      let edge = 1 + skew.x * Math.cos(theta) + skew.y * Math.sin(theta);
      for (const h of harmonics) edge += h.a * Math.cos(h.k * theta + h.phase);
      const distance = Math.hypot(dx, dy);
      const inside = 1 / (1 + Math.exp(((distance - edge) * radius) / border));
      let colour: Rgb = [...base];
      for (const blob of blobs) {
        const w = blob.weight * Math.exp(-((dx - blob.cx) ** 2 + (dy - blob.cy) ** 2) / (blob.r * blob.r));
        colour = colour.map((c, i) => c * (1 - w) + blob.colour[i] * w) as Rgb;
      }
      const noise = (random() - 0.5) * 14;
      const offset = (y * size + x) * 3;
      for (let i = 0; i < 3; i++) pixels[offset + i] = Math.max(0, Math.min(255, skin[i] * (1 - inside) + colour[i] * inside + noise));
    }
  }
  return pixels;
}

export interface DemoImage {
  fileName: string;
  label: (typeof DEMO_CLASSES)[number];
  png: Buffer;
}

/** A balanced, shuffled set of lesion images; about a fifth of them are deliberately ambiguous. */
export async function generateLesionImages(count: number, seed = 1, size = 96): Promise<DemoImage[]> {
  const random = mulberry32(seed ^ 0x5eed);
  const order = seededShuffle(Array.from({ length: count }, (_, i) => i), seed);
  return Promise.all(
    order.map(async (i, position) => {
      const suspicious = i % 2 === 1;
      const difficulty = random() < 0.2 ? 0.5 + 0.4 * random() : 0.3 * random();
      const raw = drawLesion(size, suspicious, seed * 100_003 + i, difficulty);
      const png = await sharp(raw, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
      return { fileName: `lesion-${String(position).padStart(4, '0')}.png`, label: DEMO_CLASSES[suspicious ? 1 : 0], png };
    }),
  );
}
