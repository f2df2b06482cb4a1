// Test-only JPEG-LS encoder using the full CharLS build shipped in @cornerstonejs/codec-charls.
import { createRequire } from 'node:module';

interface Encoder {
  getDecodedBuffer(info: { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean }): Uint8Array;
  getEncodedBuffer(): Uint8Array;
  setInterleaveMode(mode: number): void;
  setNearLossless(n: number): void;
  encode(): void;
  delete(): void;
}

let mod: Promise<{ JpegLSEncoder: new () => Encoder }> | undefined;

/** `samples` are native little-endian bytes: planar for interleave 0, pixel-interleaved otherwise. */
export async function encodeJpegLs(samples: Uint8Array, width: number, height: number, bitsPerSample: number, components: number, interleave: 0 | 1 | 2, nearLossless = 0): Promise<Uint8Array> {
  mod ??= createRequire(import.meta.url)('@cornerstonejs/codec-charls/wasmjs')();
  const m = await mod!;
  const e = new m.JpegLSEncoder();
  try {
    e.getDecodedBuffer({ width, height, bitsPerSample, componentCount: components, isSigned: false }).set(samples);
    e.setInterleaveMode(interleave);
    e.setNearLossless(nearLossless);
    e.encode();
    return e.getEncodedBuffer().slice();
  } finally {
    e.delete();
  }
}
