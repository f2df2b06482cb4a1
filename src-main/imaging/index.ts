import { DEFAULT_MAX_PIXELS, ImageDecodeError, describeThrown } from './errors.ts';
import type { DecodeOptions, DecodedImage } from './types.ts';
import { bareDicomKind, classifyParseError, hasDicmMagic } from './dicomParse.ts';
import { decodeDicom } from './dicom.ts';
import { decodeRaster, rasterMagic } from './raster.ts';

export { ImageDecodeError, type ImageErrorCode } from './errors.ts';
export type { DecodedImage, DecodeOptions, DicomFacts } from './types.ts';
export { toModelInput, previewPng } from './resize.ts';

/** DICOM when the name ends in .dcm, the DICM marker sits at byte 128, or the bytes walk like a preamble-less data set. */
export function isProbablyDicom(bytes: Buffer, nameHint: string): boolean {
  return /\.dcm$/i.test(nameHint.trim()) || hasDicmMagic(bytes) || bareDicomKind(bytes) !== undefined;
}

export async function decodeImage(bytes: Buffer, nameHint: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) throw new RangeError(`maxPixels must be positive, got ${maxPixels}`);
  try {
    if (!Buffer.isBuffer(bytes)) bytes = Buffer.from(bytes as Uint8Array);
    if (bytes.length === 0) throw new ImageDecodeError('not-an-image', 'file is empty');
    // A PNG/JPEG saved with a .dcm name is still a PNG/JPEG.
    const dicom = hasDicmMagic(bytes) || (isProbablyDicom(bytes, nameHint) && !rasterMagic(bytes));
    return dicom ? await decodeDicom(bytes, maxPixels) : await decodeRaster(bytes, maxPixels);
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    const msg = describeThrown(e);
    throw new ImageDecodeError(classifyParseError(msg), `image could not be decoded: ${msg}`);
  }
}
