export interface DicomFacts {
  transferSyntax: string;
  photometric: string;
  modality?: string;
  windowCenter: number;
  windowWidth: number;
  windowSource: 'file' | 'pixel-range';
  bitsAllocated: number;
  frames: number;
  note?: string;
}

export interface DecodedImage {
  kind: 'raster' | 'dicom';
  width: number;
  height: number;
  channels: 1 | 3;
  /** Display-ready pixels, HWC uint8, after rescale + window (DICOM) or as decoded (raster, alpha dropped, palette expanded). */
  pixels: Uint8Array;
  /** DICOM grayscale only: rescaled modality values (slope/intercept applied), HW float32, for client-side window/level. */
  modalityValues?: Float32Array;
  /** DICOM only: the default window used for `pixels` and a few facts for the UI. */
  dicom?: DicomFacts;
}

export interface DecodeOptions {
  /** Cap on width*height*frames, checked before any pixel data is decoded. Default 100_000_000. */
  maxPixels?: number;
}
