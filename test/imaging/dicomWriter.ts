// Minimal DICOM Part 10 writer for tests: enough to build the files the decoder must handle.
import { deflateRawSync } from 'node:zlib';

export const TSU = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflate: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  rle: '1.2.840.10008.1.2.5',
  jpeg2000: '1.2.840.10008.1.2.4.90',
} as const;

export interface El {
  tag: number; // 0xGGGGEEEE
  vr: string;
  value: string | number | number[] | Uint8Array;
  /** Encapsulated pixel data: written with undefined length as an empty offset table plus these fragments. */
  fragments?: Uint8Array[];
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

function valueBytes(el: El, bigEndian: boolean): Buffer {
  const { vr, value } = el;
  if (value instanceof Uint8Array) {
    let b = Buffer.from(value);
    if (bigEndian && vr === 'OW') {
      b = Buffer.from(b);
      b.swap16();
    }
    return b.length % 2 ? Buffer.concat([b, Buffer.alloc(1)]) : b;
  }
  const nums = Array.isArray(value) ? value : typeof value === 'number' ? [value] : undefined;
  if (nums && ['US', 'SS', 'UL', 'SL', 'FL', 'FD'].includes(vr)) {
    const size = vr === 'US' || vr === 'SS' ? 2 : vr === 'FD' ? 8 : 4;
    const b = Buffer.alloc(size * nums.length);
    nums.forEach((n, i) => {
      const o = i * size;
      if (vr === 'US') bigEndian ? b.writeUInt16BE(n, o) : b.writeUInt16LE(n, o);
      else if (vr === 'SS') bigEndian ? b.writeInt16BE(n, o) : b.writeInt16LE(n, o);
      else if (vr === 'UL') bigEndian ? b.writeUInt32BE(n, o) : b.writeUInt32LE(n, o);
      else if (vr === 'SL') bigEndian ? b.writeInt32BE(n, o) : b.writeInt32LE(n, o);
      else if (vr === 'FL') bigEndian ? b.writeFloatBE(n, o) : b.writeFloatLE(n, o);
      else bigEndian ? b.writeDoubleBE(n, o) : b.writeDoubleLE(n, o);
    });
    return b;
  }
  const s = Array.isArray(value) ? value.join('\\') : String(value);
  const pad = s.length % 2 ? (vr === 'UI' ? '\0' : ' ') : '';
  return Buffer.from(s + pad, 'latin1');
}

function encodeElement(el: El, explicit: boolean, bigEndian: boolean): Buffer {
  const head = Buffer.alloc(explicit && LONG_VRS.has(el.vr) ? 12 : 8);
  const group = el.tag >>> 16;
  const elem = el.tag & 0xffff;
  const w16 = (v: number, o: number) => (bigEndian ? head.writeUInt16BE(v, o) : head.writeUInt16LE(v, o));
  const w32 = (v: number, o: number) => (bigEndian ? head.writeUInt32BE(v, o) : head.writeUInt32LE(v, o));
  w16(group, 0);
  w16(elem, 2);
  const body = el.fragments ? encapsulate(el.fragments) : valueBytes(el, bigEndian);
  const length = el.fragments ? 0xffffffff : body.length;
  if (!explicit) w32(length, 4);
  else {
    head.write(el.vr, 4, 'latin1');
    if (LONG_VRS.has(el.vr)) w32(length, 8);
    else w16(length, 6);
  }
  return Buffer.concat([head, body]);
}

/** Items are always little endian in the encapsulated transfer syntaxes used here. */
function encapsulate(fragments: Uint8Array[]): Buffer {
  const item = (tagElem: number, len: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(0xfffe, 0);
    b.writeUInt16LE(tagElem, 2);
    b.writeUInt32LE(len, 4);
    return b;
  };
  const parts: Buffer[] = [item(0xe000, 0)];
  for (const f of fragments) {
    const body = f.length % 2 ? Buffer.concat([Buffer.from(f), Buffer.alloc(1)]) : Buffer.from(f);
    parts.push(item(0xe000, body.length), body);
  }
  parts.push(item(0xe0dd, 0));
  return Buffer.concat(parts);
}

export interface WriteOptions {
  transferSyntax: string;
  /** Omit the 128-byte preamble and DICM marker (meta group still written). */
  noPreamble?: boolean;
  /** Omit the meta group too (bare data set; only for implicit/explicit LE). */
  noMeta?: boolean;
}

export function writeDicom(elements: El[], opts: WriteOptions): Buffer {
  const ts = opts.transferSyntax;
  const explicit = ts !== TSU.implicitLE;
  const bigEndian = ts === TSU.explicitBE;
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  let dataset = Buffer.concat(sorted.map((e) => encodeElement(e, explicit, bigEndian)));
  if (ts === TSU.deflate) dataset = deflateRawSync(dataset);
  if (opts.noMeta) return dataset;
  const metaBody = Buffer.concat([
    encodeElement({ tag: 0x00020001, vr: 'OB', value: new Uint8Array([0, 1]) }, true, false),
    encodeElement({ tag: 0x00020002, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' }, true, false),
    encodeElement({ tag: 0x00020003, vr: 'UI', value: '1.2.3.4.5.6.7' }, true, false),
    encodeElement({ tag: 0x00020010, vr: 'UI', value: ts }, true, false),
    encodeElement({ tag: 0x00020012, vr: 'UI', value: '1.2.3.4' }, true, false),
  ]);
  const groupLength = encodeElement({ tag: 0x00020000, vr: 'UL', value: metaBody.length }, true, false);
  const preamble = opts.noPreamble ? Buffer.alloc(0) : Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1')]);
  return Buffer.concat([preamble, groupLength, metaBody, dataset]);
}

/** PackBits encoder (PS3.5 G.3.1): runs of 2+ equal bytes as replicate runs, the rest as literals. */
export function packBits(src: Uint8Array): Buffer {
  const out: number[] = [];
  let i = 0;
  while (i < src.length) {
    let run = 1;
    while (i + run < src.length && run < 128 && src[i + run] === src[i]) run++;
    if (run >= 2) {
      out.push(257 - run, src[i]);
      i += run;
      continue;
    }
    let lit = 1;
    while (i + lit < src.length && lit < 128 && !(i + lit + 1 < src.length && src[i + lit] === src[i + lit + 1])) lit++;
    out.push(lit - 1, ...src.subarray(i, i + lit));
    i += lit;
  }
  if (out.length % 2) out.push(0x80); // -128 is a no-op: pads the segment to even length
  return Buffer.from(out);
}

/**
 * RLE frame from native little-endian samples laid out pixel-interleaved: one segment per byte plane
 * of each sample, most significant byte first.
 */
export function rleEncodeFrame(native: Uint8Array, pixels: number, spp: number, bytesPerSample: number): Buffer {
  const segments: Buffer[] = [];
  for (let s = 0; s < spp; s++) {
    for (let k = bytesPerSample - 1; k >= 0; k--) {
      const plane = new Uint8Array(pixels);
      for (let p = 0; p < pixels; p++) plane[p] = native[(p * spp + s) * bytesPerSample + k];
      segments.push(packBits(plane));
    }
  }
  const header = Buffer.alloc(64);
  header.writeUInt32LE(segments.length, 0);
  let offset = 64;
  segments.forEach((seg, i) => {
    header.writeUInt32LE(offset, 4 + 4 * i);
    offset += seg.length;
  });
  return Buffer.concat([header, ...segments]);
}

export interface ImageSpec {
  rows: number;
  cols: number;
  bitsAllocated: number;
  bitsStored?: number;
  highBit?: number;
  signed?: boolean;
  spp?: 1 | 3;
  photometric?: string;
  planar?: 0 | 1;
  frames?: number;
  modality?: string;
  /** Native little-endian pixel bytes (all frames). */
  pixelData?: Uint8Array;
  /** Encapsulated fragments instead of native pixel data. */
  fragments?: Uint8Array[];
  extra?: El[];
}

export function imageElements(spec: ImageSpec): El[] {
  const spp = spec.spp ?? 1;
  const els: El[] = [
    { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
    { tag: 0x00080018, vr: 'UI', value: '1.2.3.4.5.6.7' },
    { tag: 0x00080060, vr: 'CS', value: spec.modality ?? 'OT' },
    { tag: 0x00100010, vr: 'PN', value: 'Test^Patient' },
    { tag: 0x00280002, vr: 'US', value: spp },
    { tag: 0x00280004, vr: 'CS', value: spec.photometric ?? (spp === 3 ? 'RGB' : 'MONOCHROME2') },
    { tag: 0x00280010, vr: 'US', value: spec.rows },
    { tag: 0x00280011, vr: 'US', value: spec.cols },
    { tag: 0x00280100, vr: 'US', value: spec.bitsAllocated },
    { tag: 0x00280101, vr: 'US', value: spec.bitsStored ?? spec.bitsAllocated },
    { tag: 0x00280102, vr: 'US', value: spec.highBit ?? (spec.bitsStored ?? spec.bitsAllocated) - 1 },
    { tag: 0x00280103, vr: 'US', value: spec.signed ? 1 : 0 },
  ];
  if (spp === 3) els.push({ tag: 0x00280006, vr: 'US', value: spec.planar ?? 0 });
  if (spec.frames !== undefined) els.push({ tag: 0x00280008, vr: 'IS', value: String(spec.frames) });
  if (spec.fragments) els.push({ tag: 0x7fe00010, vr: 'OB', value: new Uint8Array(0), fragments: spec.fragments });
  else if (spec.pixelData) els.push({ tag: 0x7fe00010, vr: spec.bitsAllocated > 8 ? 'OW' : 'OB', value: spec.pixelData });
  return [...els, ...(spec.extra ?? [])];
}

export function u16le(values: number[]): Uint8Array {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16LE(v & 0xffff, i * 2));
  return b;
}
