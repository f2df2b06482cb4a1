import type { DataSet } from 'dicom-parser';
import { ImageDecodeError } from './errors.ts';
import type { DecodedImage } from './types.ts';
import { missingPixelData, safeString } from './dicomKind.ts';
import { TS, parseDicomBytes } from './dicomParse.ts';
import { firstFrame, readPixelModule, unpackColor, unpackGray, type PixelModule } from './dicomPixels.ts';
import { applyWindow, isUsableWindow, rangeWindow, type VoiFunction, type Window } from './window.ts';

const SUPPORTED_TS = new Set<string>(Object.values(TS));

const TS_NAMES: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000, lossy',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.4.100': 'MPEG2',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.1.98': 'Encapsulated Uncompressed Explicit VR Little Endian',
};

export async function decodeDicom(bytes: Buffer, maxPixels: number): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError('not-an-image', 'file is empty');
  const parsed = parseDicomBytes(bytes, maxPixels);
  const { ds, transferSyntax: ts } = parsed;
  const modality = safeString(ds, 'x00080060');
  const pixelEl = ds.elements.x7fe00010;
  if (!pixelEl) throw missingPixelData(ds, parsed, modality);

  if (!SUPPORTED_TS.has(ts)) {
    const name = TS_NAMES[ts] ?? 'unknown';
    throw new ImageDecodeError('unsupported-transfer-syntax',
      `unsupported transfer syntax ${ts} (${name}): only uncompressed, deflated, RLE and JPEG-LS DICOM can be decoded; convert the file to an uncompressed transfer syntax first`);
  }
  const p = readPixelModule(ds);
  const total = p.rows * p.cols * p.frames;
  if (total > maxPixels) {
    throw new ImageDecodeError('too-many-pixels', `DICOM declares ${p.cols}×${p.rows}${p.frames > 1 ? `×${p.frames} frames` : ''} = ${total} pixels, over the limit of ${maxPixels}`);
  }

  const frame = await firstFrame(ds, pixelEl, p, ts);
  const notes: string[] = [];
  if (p.frames > 1) notes.push(`multi-frame image (${p.frames} frames): using the first frame only`);
  const isSeg = modality === 'SEG' || safeString(ds, 'x00080016') === '1.2.840.10008.5.1.4.1.1.66.4';
  if (p.bitsAllocated === 1) notes.push(isSeg ? 'segmentation mask imported as a binary image' : '1-bit image imported as a binary image');
  else if (isSeg) notes.push('segmentation mask imported as a grayscale image');

  const facts = { transferSyntax: ts, photometric: p.photometric, modality, bitsAllocated: p.bitsAllocated, frames: p.frames };
  const base = { kind: 'dicom' as const, width: p.cols, height: p.rows };

  if (p.spp === 3) {
    // Colour needs no VOI transform; report the identity window of 8-bit data.
    return { ...base, channels: 3, pixels: unpackColor(frame, p), dicom: { ...facts, windowCenter: 128, windowWidth: 256, windowSource: 'pixel-range', ...noteOf(notes) } };
  }

  const { slope, intercept } = rescale(ds, notes);
  const padding = pixelPadding(ds, p);
  const { values, min, max } = unpackGray(frame, p, slope, intercept, padding);
  const fn = voiFunction(ds, notes);
  const fileWin: Window | undefined = ds.elements.x00281050 && ds.elements.x00281051
    ? { center: ds.floatString('x00281050', 0) ?? NaN, width: ds.floatString('x00281051', 0) ?? NaN }
    : undefined;
  let win: Window;
  let source: 'file' | 'pixel-range';
  if (p.bitsAllocated === 1) {
    win = rangeWindow(Math.min(intercept, slope + intercept), Math.max(intercept, slope + intercept));
    source = 'pixel-range';
  } else if (isUsableWindow(fileWin, fn)) {
    win = fileWin;
    source = 'file';
  } else {
    if (fileWin) notes.push('window in the file is invalid; using the pixel range');
    else if (ds.elements.x00283010) notes.push('VOI LUT Sequence not applied; using the pixel range');
    win = rangeWindow(min, max);
    source = 'pixel-range';
  }
  const windowFn = source === 'file' ? fn : 'LINEAR';
  const pixels = applyWindow(values, win, windowFn, p.photometric === 'MONOCHROME1');
  return {
    ...base, channels: 1, pixels, modalityValues: values,
    dicom: { ...facts, windowCenter: win.center, windowWidth: win.width, windowSource: source, ...noteOf(notes) },
  };
}

function noteOf(notes: string[]): { note?: string } {
  return notes.length ? { note: notes.join('; ') } : {};
}

function rescale(ds: DataSet, notes: string[]): { slope: number; intercept: number } {
  let slope = ds.floatString('x00281053') ?? 1;
  let intercept = ds.floatString('x00281052') ?? 0;
  if (!Number.isFinite(slope) || slope === 0) {
    if (ds.elements.x00281053) notes.push('invalid Rescale Slope ignored');
    slope = 1;
  }
  if (!Number.isFinite(intercept)) intercept = 0;
  if (ds.elements.x00283000) notes.push('Modality LUT Sequence not applied');
  return { slope, intercept };
}

function voiFunction(ds: DataSet, notes: string[]): VoiFunction {
  const f = ds.string('x00281056')?.trim().toUpperCase();
  if (f === 'LINEAR_EXACT' || f === 'SIGMOID') return f;
  if (f && f !== 'LINEAR') notes.push(`unknown VOI LUT Function ${f}; using LINEAR`);
  return 'LINEAR';
}

function pixelPadding(ds: DataSet, p: PixelModule): number | undefined {
  if (!ds.elements.x00280120) return undefined;
  return p.signed ? ds.int16('x00280120') : ds.uint16('x00280120');
}
