import type { DataSet } from 'dicom-parser';
import { ImageDecodeError } from './errors.ts';
import type { ParsedDicom } from './dicomParse.ts';

/** ds.string throws when a cut-short element runs past the end; a missing attribute is the right answer then. */
export function safeString(ds: DataSet, tag: string): string | undefined {
  try {
    return ds.string(tag)?.trim() || undefined;
  } catch {
    return undefined;
  }
}

const STORAGE = '1.2.840.10008.5.1.4.1.1.';

/** Storage SOP classes that never carry pixel data (PS3.4 Annex B): UIDs, or families when ending in '.'. */
const NON_IMAGE_SOP: [string, string][] = [
  [`${STORAGE}481.5`, 'RT Plan'], [`${STORAGE}481.8`, 'RT Ion Plan'], [`${STORAGE}481.3`, 'RT Structure Set'],
  [`${STORAGE}481.4`, 'RT Treatment Record'], [`${STORAGE}481.6`, 'RT Treatment Record'], [`${STORAGE}481.7`, 'RT Treatment Record'],
  [`${STORAGE}481.9`, 'RT Treatment Record'], [`${STORAGE}481.10`, 'RT Physician Intent'], [`${STORAGE}481.11`, 'RT Segment Annotation'],
  [`${STORAGE}88.`, 'Structured Report'], [`${STORAGE}11.`, 'Presentation State'], [`${STORAGE}9.`, 'Waveform'],
  [`${STORAGE}104.`, 'Encapsulated Document'], [`${STORAGE}66.1`, 'Registration'], [`${STORAGE}66.2`, 'Fiducials'],
  [`${STORAGE}66.3`, 'Registration'], [`${STORAGE}66.5`, 'Surface Segmentation'], [`${STORAGE}66.6`, 'Tractography'],
  [`${STORAGE}68.`, 'Surface'], [`${STORAGE}67`, 'Real World Value Mapping'], [`${STORAGE}200.`, 'Protocol'],
  [`${STORAGE}66`, 'Raw Data'], ['1.2.840.10008.5.1.4.34.', 'RT object'], ['1.2.840.10008.5.1.4.38.', 'Hanging Protocol'],
];

const NON_IMAGE_MODALITIES: Record<string, string> = {
  RTPLAN: 'RT Plan', RTSTRUCT: 'RT Structure Set', RTRECORD: 'RT Treatment Record', SR: 'Structured Report',
  KO: 'Key Object Selection', PR: 'Presentation State', REG: 'Registration', DOC: 'Encapsulated Document',
  ECG: 'Waveform', AU: 'Audio', FID: 'Fiducials', PLAN: 'Plan',
};

/** Name of a non-image object, or undefined when it is (or may be) an image. */
function nonImageName(sopClass: string | undefined, modality: string | undefined): string | undefined {
  if (sopClass) {
    const hit = NON_IMAGE_SOP.find(([p]) => (p.endsWith('.') ? sopClass.startsWith(p) : sopClass === p));
    if (hit) return hit[1];
    if (sopClass.startsWith(STORAGE)) return undefined;
  }
  return modality ? NON_IMAGE_MODALITIES[modality] : undefined;
}

/** Why a data set without (7FE0,0010) cannot be decoded: not an image at all, or an image cut short. */
export function missingPixelData(ds: DataSet, parsed: ParsedDicom, modality: string | undefined): ImageDecodeError {
  if (ds.elements.x7fe00008 || ds.elements.x7fe00009) {
    return new ImageDecodeError('unsupported-image', 'float / double float Pixel Data (e.g. parametric maps) is not supported');
  }
  const sopClass = safeString(ds, 'x00080016') ?? safeString(ds, 'x00020002');
  const nonImage = nonImageName(sopClass, modality);
  const cut = parsed.error?.message ?? findOverrun(ds, ds.byteArray.length, 0);
  const label = `${nonImage ?? 'DICOM object'}${modality ? ` (Modality ${modality})` : ''}`;
  if (nonImage) {
    return new ImageDecodeError('no-pixel-data', `${label} has no pixel data to display or label${cut ? `; the file is also cut short (${cut})` : ''}`);
  }
  if (cut) return new ImageDecodeError(parsed.error?.code ?? 'truncated', `DICOM file ends or breaks before its Pixel Data: ${cut}`);
  if ((sopClass && sopClass.startsWith(STORAGE)) || (ds.elements.x00280010 && ds.elements.x00280011)) {
    return new ImageDecodeError('truncated', 'DICOM image has no Pixel Data element (7FE0,0010): the file appears to be cut short');
  }
  return new ImageDecodeError('no-pixel-data', `${label} has no Pixel Data element (7FE0,0010): nothing to display or label`);
}

/** dicom-parser seeks past the end of an element silently (always in implicit VR), so check the lengths it recorded. */
function findOverrun(ds: DataSet, size: number, depth: number): string | undefined {
  for (const el of Object.values(ds.elements)) {
    if (el.dataOffset + el.length > size) {
      return `element (${el.tag.slice(1, 5)},${el.tag.slice(5)}) declares ${el.length} bytes but the file ends ${Math.max(0, size - el.dataOffset)} bytes into it`;
    }
    if (depth < 8) {
      for (const item of el.items ?? []) {
        const inner = item.dataSet && findOverrun(item.dataSet, size, depth + 1);
        if (inner) return inner;
      }
    }
  }
  return undefined;
}
