import sharp from 'sharp';
import { deidentifyDicom } from '../imaging/deidentify.ts';

/**
 * One labelled image as a de-identified export writes it: DICOM through the basic confidentiality
 * profile; raster images re-encoded from their pixels, which leaves every metadata block behind (EXIF,
 * XMP, ICC, PNG text chunks, anything appended), JPEG as JPEG, everything else as lossless PNG.
 */
export async function deidentifiedFile(bytes: Buffer, kind: 'raster' | 'dicom', key: Buffer): Promise<{ bytes: Buffer; ext: string }> {
  if (kind === 'dicom') return { bytes: deidentifyDicom(bytes, { key }), ext: '.dcm' };
  // Orientation is applied first: the EXIF tag that carried it is dropped, the image must still look as labelled.
  const image = sharp(bytes, { autoOrient: true, failOn: 'error' });
  const meta = await image.metadata();
  if (meta.format === 'jpeg') return { bytes: await image.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer(), ext: '.jpg' };
  // 16-bit samples stay 16-bit (the default pipeline would reduce them to 8).
  if (meta.depth === 'ushort') image.toColourspace(meta.channels <= 2 ? 'grey16' : 'rgb16');
  return { bytes: await image.png().toBuffer(), ext: '.png' };
}
