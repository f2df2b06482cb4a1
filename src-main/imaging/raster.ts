import sharp, { type Metadata } from 'sharp';
import { ImageDecodeError, describeThrown } from './errors.ts';
import type { DecodedImage } from './types.ts';

// One libvips thread per image: medical images are small enough that a per-image thread pool costs
// more than it gains, and the importer keeps several files in flight on libuv's pool instead
// (measured on 64×64 PNGs: 478 → 525 files/s).
sharp.concurrency(1);

const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif', 'jp2', 'jxl']);

type Magic = 'png' | 'jpeg' | 'gif' | 'tiff' | 'webp';

/** Container signature, matched against however many bytes there are, so a file cut inside its header still counts. */
export function rasterMagic(b: Buffer): Magic | undefined {
  const sigs: [Magic, number[]][] = [
    ['png', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
    ['jpeg', [0xff, 0xd8, 0xff]],
    ['gif', [0x47, 0x49, 0x46, 0x38]],
    ['tiff', [0x49, 0x49, 0x2a, 0x00]],
    ['tiff', [0x4d, 0x4d, 0x00, 0x2a]],
  ];
  for (const [name, sig] of sigs) {
    const n = Math.min(sig.length, b.length);
    if (n >= 2 && sig.slice(0, n).every((v, i) => b[i] === v)) return name;
  }
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** Whether the file ends with its format's end marker; unknown formats give undefined. */
function endsCleanly(b: Buffer, magic: Magic | undefined): boolean | undefined {
  const n = b.length;
  if (magic === 'png') return n >= 12 && b.toString('latin1', n - 8, n - 4) === 'IEND';
  if (magic === 'jpeg') return n >= 2 && b[n - 2] === 0xff && b[n - 1] === 0xd9;
  if (magic === 'gif') return b[n - 1] === 0x3b;
  if (magic === 'webp') return n >= 8 && b.readUInt32LE(4) + 8 <= n;
  return undefined;
}

export function mapSharpError(e: unknown, bytes: Buffer): ImageDecodeError {
  const msg = describeThrown(e).replace(/\s*\n\s*/g, ' | ').slice(0, 300);
  const magic = rasterMagic(bytes);
  if (/empty/i.test(msg) || bytes.length === 0) return new ImageDecodeError('not-an-image', 'file is empty');
  if (/pixel limit/i.test(msg)) return new ImageDecodeError('too-many-pixels', `image exceeds the pixel limit: ${msg}`);
  const complete = endsCleanly(bytes, magic);
  if (magic && complete === false) return new ImageDecodeError('truncated', `${magic.toUpperCase()} file is cut short (${bytes.length} bytes): ${msg}`);
  if (/premature end|unexpected end|truncated|end of file|not enough data|short read/i.test(msg)) {
    return new ImageDecodeError('truncated', `image data is cut short: ${msg}`);
  }
  if (/unsupported image format/i.test(msg)) {
    return magic
      ? new ImageDecodeError('truncated', `${magic.toUpperCase()} file is cut short or corrupt (${bytes.length} bytes): ${msg}`)
      : new ImageDecodeError('not-an-image', 'not a recognised image format (PNG, JPEG, TIFF, WebP, GIF, DICOM...)');
  }
  if (/corrupt header/i.test(msg)) return new ImageDecodeError('truncated', `image header is cut short or corrupt: ${msg}`);
  return new ImageDecodeError('unreadable', `image could not be decoded: ${msg}`);
}

export async function decodeRaster(bytes: Buffer, maxPixels: number): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError('not-an-image', 'file is empty');
  let meta: Metadata;
  try {
    // Header only: the pixel cap must be checked before any pixel data is decoded.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw mapSharpError(e, bytes);
  }
  if (!RASTER_FORMATS.has(meta.format)) {
    throw new ImageDecodeError('unsupported-image', `${String(meta.format).toUpperCase()} files are not supported as images to label`);
  }
  if (!meta.width || !meta.height) throw new ImageDecodeError('not-an-image', 'image has no dimensions');
  const pixels = meta.width * meta.height;
  if (pixels > maxPixels) {
    throw new ImageDecodeError('too-many-pixels', `image declares ${meta.width}×${meta.height} = ${pixels} pixels, over the limit of ${maxPixels}`);
  }
  const gray = meta.channels <= 2 && meta.space !== 'cmyk';
  try {
    let pipe = sharp(bytes, { limitInputPixels: Math.max(1, Math.floor(maxPixels)), failOn: 'error', autoOrient: true });
    if (meta.hasAlpha) pipe = pipe.flatten({ background: '#000000' });
    pipe = pipe.toColourspace(gray ? 'b-w' : 'srgb');
    const { data, info } = await pipe.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const channels = gray ? 1 : 3;
    if (info.channels !== channels || data.length !== info.width * info.height * channels) {
      throw new ImageDecodeError('unreadable', `decoder returned ${info.channels} channels, expected ${channels}`);
    }
    return { kind: 'raster', width: info.width, height: info.height, channels, pixels: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    throw mapSharpError(e, bytes);
  }
}
