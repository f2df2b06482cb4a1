import sharp, { type Sharp } from 'sharp';
import { resampleLanczos } from './resample.ts';
import type { DecodedImage } from './types.ts';

/** BT.601 luma, the same weights most model pipelines (PIL 'L', torchvision) use. */
export function rgbToGray(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) {
    out[i] = Math.round(0.299 * rgb[j] + 0.587 * rgb[j + 1] + 0.114 * rgb[j + 2]);
  }
  return out;
}

export function grayToRgb(gray: Uint8Array): Uint8Array {
  const out = new Uint8Array(gray.length * 3);
  for (let i = 0, j = 0; i < gray.length; i++, j += 3) out[j] = out[j + 1] = out[j + 2] = gray[i];
  return out;
}

function rawInput(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Sharp {
  const s = sharp(pixels, { raw: { width, height, channels } });
  // sharp takes raw input as sRGB; without this a 1-band image comes out as 3 bands.
  return channels === 1 ? s.toColourspace('b-w') : s;
}

/**
 * Model input of size×size×channels HWC uint8. Letterboxed in black ('contain'), never stretched:
 * distorting the aspect ratio changes anatomy.
 */
export async function toModelInput(img: DecodedImage, size: number, channels: 1 | 3): Promise<Uint8Array> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`model input size must be a positive integer, got ${size}`);
  // Convert to gray before resampling (less work); expand gray to RGB after (same result, 3× less work).
  const src = img.channels === 3 && channels === 1 ? rgbToGray(img.pixels) : img.pixels;
  const srcChannels: 1 | 3 = img.channels === 3 && channels === 3 ? 3 : 1;
  const letterboxed = letterbox(src, img.width, img.height, srcChannels, size);
  return srcChannels === channels ? letterboxed : grayToRgb(letterboxed);
}

/** The image scaled to fit size × size and centred on black (left/top padding rounded down). */
function letterbox(src: Uint8Array, width: number, height: number, channels: number, size: number): Uint8Array {
  const scale = Math.min(size / width, size / height);
  const w = Math.max(1, Math.min(size, Math.round(width * scale)));
  const h = Math.max(1, Math.min(size, Math.round(height * scale)));
  const content = w === width && h === height ? src : resampleLanczos(src, width, height, channels, w, h);
  if (w === size && h === size) return Uint8Array.from(content);
  const out = new Uint8Array(size * size * channels);
  const left = Math.floor((size - w) / 2);
  const top = Math.floor((size - h) / 2);
  for (let y = 0; y < h; y++) out.set(content.subarray(y * w * channels, (y + 1) * w * channels), ((top + y) * size + left) * channels);
  return out;
}

/** PNG for display; only ever downscaled, to fit maxSide × maxSide. */
export async function previewPng(img: DecodedImage, maxSide = 512): Promise<Buffer> {
  let pipe = rawInput(img.pixels, img.width, img.height, img.channels);
  if (img.width > maxSide || img.height > maxSide) pipe = pipe.resize(maxSide, maxSide, { fit: 'inside' });
  return pipe.png().toBuffer();
}
