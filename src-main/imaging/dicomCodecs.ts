import { createRequire } from 'node:module';
import { ImageDecodeError, describeThrown } from './errors.ts';

/** Frame geometry the codecs must reproduce; `bytesPerSample` is Bits Allocated / 8. */
export interface FrameGeometry {
  rows: number;
  cols: number;
  spp: number;
  bytesPerSample: number;
}

/** A decoded frame in native little-endian byte order; `planar` says whether samples are stored plane by plane. */
export interface NativeFrame {
  bytes: Uint8Array;
  planar: boolean;
}

/**
 * RLE Lossless per PS3.5 Annex G. Each segment is one byte plane of one sample, most significant
 * byte first, so the output is built plane by plane (planar) in little-endian order.
 */
export function decodeRle(frame: Uint8Array, g: FrameGeometry): NativeFrame {
  const pixels = g.rows * g.cols;
  const expectedSegments = g.spp * g.bytesPerSample;
  if (frame.length < 64) {
    throw new ImageDecodeError('truncated', `RLE frame is ${frame.length} bytes, shorter than its 64-byte header`);
  }
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const count = dv.getUint32(0, true);
  if (count !== expectedSegments) {
    throw new ImageDecodeError('unreadable', `RLE header lists ${count} segments, expected ${expectedSegments} (${g.spp} samples × ${g.bytesPerSample} bytes)`);
  }
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) offsets.push(dv.getUint32(4 + 4 * i, true));
  const out = new Uint8Array(pixels * expectedSegments);
  for (let s = 0; s < count; s++) {
    const start = offsets[s];
    const end = s + 1 < count ? offsets[s + 1] : frame.length;
    if (start < 64 || start > frame.length) {
      throw new ImageDecodeError('truncated', `RLE segment ${s + 1} starts at byte ${start} but the frame has ${frame.length} bytes`);
    }
    if (end < start || end > frame.length) {
      throw new ImageDecodeError('unreadable', `RLE segment ${s + 1} has inconsistent bounds ${start}..${end}`);
    }
    const sample = Math.floor(s / g.bytesPerSample);
    const byteInSample = g.bytesPerSample - 1 - (s % g.bytesPerSample);
    const base = sample * pixels * g.bytesPerSample + byteInSample;
    const got = unpackBitsInto(frame, start, end, out, base, g.bytesPerSample, pixels);
    if (got < pixels) {
      throw new ImageDecodeError('truncated', `RLE segment ${s + 1} decoded to ${got} of ${pixels} bytes`);
    }
  }
  return { bytes: out, planar: true };
}

/** PackBits: n in 0..127 copies n+1 literal bytes, -127..-1 repeats the next byte 1-n times, -128 is a no-op. */
function unpackBitsInto(src: Uint8Array, start: number, end: number, out: Uint8Array, base: number, stride: number, wanted: number): number {
  let i = start;
  let n = 0;
  while (i < end && n < wanted) {
    const h = src[i++];
    if (h < 128) {
      const len = Math.min(h + 1, end - i, wanted - n);
      for (let k = 0; k < len; k++) out[base + (n++) * stride] = src[i + k];
      i += h + 1;
    } else if (h > 128) {
      if (i >= end) break;
      const v = src[i++];
      const len = Math.min(257 - h, wanted - n);
      for (let k = 0; k < len; k++) out[base + (n++) * stride] = v;
    }
  }
  return n;
}

interface CharlsDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
  getInterleaveMode(): number;
  delete(): void;
}
interface CharlsModule {
  JpegLSDecoder: new () => CharlsDecoder;
}

let charls: Promise<CharlsModule> | undefined;

/** CharLS ships as a CommonJS Emscripten factory; point it at its .wasm explicitly so bundling the main process does not break it. */
function loadCharls(): Promise<CharlsModule> {
  charls ??= (async () => {
    const require = createRequire(import.meta.url);
    const factory = require('@cornerstonejs/codec-charls/decodewasmjs') as (m: object) => Promise<CharlsModule>;
    const wasmPath = require.resolve('@cornerstonejs/codec-charls/decodewasm');
    return factory({ locateFile: () => wasmPath });
  })();
  return charls;
}

/** Frame header (SOF55) of a JPEG-LS stream, read before decoding so a forged size cannot make CharLS allocate. */
export function readJpegLsHeader(b: Uint8Array): { width: number; height: number; precision: number; components: number } {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) throw new ImageDecodeError('unreadable', 'JPEG-LS frame does not start with an SOI marker');
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) throw new ImageDecodeError('unreadable', `JPEG-LS stream: expected a marker at byte ${i}`);
    const marker = b[i + 1];
    if (marker === 0xff) { i++; continue; }
    const len = (b[i + 2] << 8) | b[i + 3];
    if (marker === 0xf7) {
      if (i + 10 > b.length) break;
      return { precision: b[i + 4], height: (b[i + 5] << 8) | b[i + 6], width: (b[i + 7] << 8) | b[i + 8], components: b[i + 9] };
    }
    if (marker === 0xda || len < 2) break;
    i += 2 + len;
  }
  throw new ImageDecodeError('truncated', 'JPEG-LS stream ends before its frame header (SOF55)');
}

export async function decodeJpegLs(frame: Uint8Array, g: FrameGeometry): Promise<NativeFrame> {
  const h = readJpegLsHeader(frame);
  if (h.width !== g.cols || h.height !== g.rows || h.components !== g.spp) {
    throw new ImageDecodeError('unreadable', `JPEG-LS frame is ${h.width}×${h.height}×${h.components} but the DICOM header says ${g.cols}×${g.rows}×${g.spp}`);
  }
  let mod: CharlsModule;
  try {
    mod = await loadCharls();
  } catch (e) {
    charls = undefined;
    throw new ImageDecodeError('unsupported-transfer-syntax', `JPEG-LS decoder (CharLS WASM) could not be loaded: ${describeThrown(e)}`);
  }
  const dec = new mod.JpegLSDecoder();
  let decoded: Uint8Array;
  let interleave: number;
  let bitsPerSample: number;
  try {
    dec.getEncodedBuffer(frame.length).set(frame);
    dec.decode();
    const info = dec.getFrameInfo();
    if (info.width !== g.cols || info.height !== g.rows || info.componentCount !== g.spp) {
      throw new ImageDecodeError('unreadable', `JPEG-LS decoded to ${info.width}×${info.height}×${info.componentCount}, expected ${g.cols}×${g.rows}×${g.spp}`);
    }
    bitsPerSample = info.bitsPerSample;
    interleave = dec.getInterleaveMode();
    decoded = dec.getDecodedBuffer().slice();
  } catch (e) {
    // A C++ exception or trap can leave the WASM heap inconsistent: use a fresh instance next time.
    charls = undefined;
    if (e instanceof ImageDecodeError) throw e;
    const why = typeof e === 'number' ? 'CharLS rejected the stream' : describeThrown(e);
    throw new ImageDecodeError('unreadable', `JPEG-LS decoding failed (${why}); the stream is corrupt or cut short`);
  } finally {
    try {
      dec.delete();
    } catch {
      charls = undefined;
    }
  }
  const planar = g.spp > 1 && interleave === 0;
  const outBytes = bitsPerSample > 8 ? 2 : 1;
  const n = g.rows * g.cols * g.spp;
  if (decoded.length < n * outBytes) {
    throw new ImageDecodeError('truncated', `JPEG-LS decoded ${decoded.length} bytes, expected ${n * outBytes}`);
  }
  if (outBytes === g.bytesPerSample) return { bytes: decoded.subarray(0, n * outBytes), planar };
  if (outBytes === 1 && g.bytesPerSample === 2) {
    // ≤8-bit stream stored with Bits Allocated 16: widen to little-endian words.
    const wide = new Uint8Array(n * 2);
    for (let i = 0; i < n; i++) wide[2 * i] = decoded[i];
    return { bytes: wide, planar };
  }
  throw new ImageDecodeError('unsupported-image', `JPEG-LS stream has ${bitsPerSample}-bit samples but Bits Allocated is ${g.bytesPerSample * 8}`);
}
