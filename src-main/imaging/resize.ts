import sharp, { type Sharp } from 'sharp';
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
  let resized: Uint8Array;
  if (img.width === size && img.height === size) {
    resized = Uint8Array.from(src);
  } else {
    const { data, info } = await rawInput(src, img.width, img.height, srcChannels)
      .resize(size, size, { fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 1 } })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    resized = info.channels === srcChannels ? new Uint8Array(data.buffer, data.byteOffset, data.length) : firstChannels(data, info.channels, srcChannels);
  }
  return srcChannels === channels ? resized : grayToRgb(resized);
}

/** Keep the first `want` channels of interleaved data (sharp may widen 1-channel input to sRGB when padding). */
function firstChannels(data: Uint8Array, have: number, want: 1 | 3): Uint8Array {
  const n = data.length / have;
  const out = new Uint8Array(n * want);
  for (let i = 0; i < n; i++) for (let c = 0; c < want; c++) out[i * want + c] = data[i * have + c];
  return out;
}

/** PNG for display; only ever downscaled, to fit maxSide × maxSide. */
export async function previewPng(img: DecodedImage, maxSide = 512): Promise<Buffer> {
  let pipe = rawInput(img.pixels, img.width, img.height, img.channels);
  if (img.width > maxSide || img.height > maxSide) pipe = pipe.resize(maxSide, maxSide, { fit: 'inside' });
  return pipe.png().toBuffer();
}
