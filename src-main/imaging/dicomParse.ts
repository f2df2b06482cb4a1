import { inflateRawSync } from 'node:zlib';
import { constants as bufferConstants } from 'node:buffer';
import * as dicomParserNs from 'dicom-parser';
import type { DataSet, ParseDicomOptions } from 'dicom-parser';
import { ImageDecodeError, describeThrown } from './errors.ts';

// dicom-parser is a webpack UMD bundle: under Node's ESM loader its API sits on `default`.
const dicomParser = ((dicomParserNs as unknown as { default?: typeof dicomParserNs }).default ?? dicomParserNs) as typeof dicomParserNs;

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflate: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  rle: '1.2.840.10008.1.2.5',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpegLsNearLossless: '1.2.840.10008.1.2.4.81',
} as const;

export interface ParsedDicom {
  ds: DataSet;
  transferSyntax: string;
  /** Set when parsing stopped early; `ds` then holds what was read before the failure. */
  error?: { code: 'truncated' | 'unreadable'; message: string };
}

const VRS = new Set('AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '));

export function hasDicmMagic(b: Uint8Array): boolean {
  return b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
}

/**
 * Recognises a DICOM stream without the 128-byte preamble: either a bare meta group (0002) or a bare
 * dataset starting in group 0008, checked by walking its first elements (ascending tags, sane lengths).
 */
export function bareDicomKind(b: Uint8Array): 'meta' | 'explicit' | 'implicit' | undefined {
  if (b.length < 12) return undefined;
  const group = b[0] | (b[1] << 8);
  if (group !== 0x0002 && group !== 0x0008) return undefined;
  const explicit = VRS.has(String.fromCharCode(b[4], b[5]));
  if (group === 0x0002 && !explicit) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  let pos = 0;
  let prev = -1;
  for (let n = 0; n < 4 && pos + 8 <= b.length; n++) {
    const tag = dv.getUint16(pos, true) * 0x10000 + dv.getUint16(pos + 2, true);
    if (tag <= prev || tag > 0x7fe00010) return undefined;
    prev = tag;
    let len: number;
    let header: number;
    if (explicit) {
      const vr = String.fromCharCode(b[pos + 4], b[pos + 5]);
      if (!VRS.has(vr)) return undefined;
      const long = ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].includes(vr);
      if (long && pos + 12 > b.length) break;
      len = long ? dv.getUint32(pos + 8, true) : dv.getUint16(pos + 6, true);
      header = long ? 12 : 8;
    } else {
      len = dv.getUint32(pos + 4, true);
      header = 8;
    }
    if (len === 0xffffffff) break;
    pos += header + len;
    if (pos > b.length) return n > 0 ? kindOf(group, explicit) : undefined;
  }
  return kindOf(group, explicit);
}

function kindOf(group: number, explicit: boolean): 'meta' | 'explicit' | 'implicit' {
  return group === 0x0002 ? 'meta' : explicit ? 'explicit' : 'implicit';
}

export function classifyParseError(message: string): 'truncated' | 'unreadable' {
  return /past end|overread|overrun|maxP ?osition|eof|greater than or equal|end of buffer|unexpected end|delimiter/i.test(message)
    ? 'truncated'
    : 'unreadable';
}

const MAX_INFLATE_RATIO = 32;

/** Program headers (PE, ELF, Mach-O, script) in the free-form preamble: a file that is also an executable. */
export function executablePreamble(b: Uint8Array): string | undefined {
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 4));
  if (head.toString('latin1', 0, 2) === 'MZ') return 'a Windows executable (MZ)';
  if (head.toString('latin1') === '\x7fELF') return 'a Linux executable (ELF)';
  if (['feedface', 'feedfacf', 'cefaedfe', 'cffaedfe', 'cafebabe'].includes(head.toString('hex'))) return 'a macOS executable (Mach-O)';
  if (head.toString('latin1', 0, 2) === '#!') return 'a script (#!)';
  return undefined;
}

/** Parse with dicom-parser, turning every kind of throw into ImageDecodeError or a partial result. */
export function parseDicomBytes(bytes: Buffer, maxPixels: number): ParsedDicom {
  let buf: Uint8Array = bytes;
  const options: ParseDicomOptions = {};
  const program = hasDicmMagic(bytes) ? executablePreamble(bytes) : undefined;
  if (program) {
    throw new ImageDecodeError('unsupported-image', `the DICOM preamble holds the header of ${program}: the file is also a program, so it is refused; have it checked`);
  }
  if (!hasDicmMagic(bytes)) {
    const kind = bareDicomKind(bytes);
    if (!kind) {
      throw bytes.length < 132
        ? new ImageDecodeError('truncated', `file is only ${bytes.length} bytes, too short for a DICOM header (DICM marker at byte 128)`)
        : new ImageDecodeError('not-an-image', 'no DICM marker at byte 128 and the data does not look like a DICOM data set');
    }
    if (kind === 'meta') {
      // dicom-parser needs the preamble to find the meta group, so give it one.
      const withPreamble = Buffer.alloc(132 + bytes.length);
      withPreamble.write('DICM', 128, 'latin1');
      bytes.copy(withPreamble, 132);
      buf = withPreamble;
    } else {
      options.TransferSyntaxUID = kind === 'explicit' ? TS.explicitLE : TS.implicitLE;
    }
  }

  let transferSyntax: string;
  let metaEnd = 0;
  try {
    const meta = dicomParser.readPart10Header(buf, options as { untilTag: string });
    transferSyntax = (options.TransferSyntaxUID ?? meta.string('x00020010') ?? '').trim();
    metaEnd = (meta as { position?: number }).position ?? 0;
  } catch (e) {
    const msg = describeThrown(e);
    throw new ImageDecodeError(classifyParseError(msg), `DICOM meta header could not be read: ${msg}`);
  }
  if (metaEnd >= buf.length) {
    throw new ImageDecodeError('truncated', `file ends at byte ${bytes.length}, inside or right after the DICOM meta header`);
  }
  if (!transferSyntax) throw new ImageDecodeError('unreadable', 'DICOM meta header has no Transfer Syntax UID (0002,0010)');

  let inflateTooBig = false;
  let inflateFailed = false;
  let maxInflated = Math.min(bufferConstants.MAX_LENGTH, maxPixels * 12 + 64 * 1024 * 1024);
  (options as { inflater?: unknown }).inflater = (arr: Uint8Array, position: number): Uint8Array => {
    // Deflate reaches ~1000:1 on zeros: without a ratio cap a 2 MB file makes us allocate over a gigabyte;
    // real images deflate a few times over, so 32× plus 64 MiB refuses only bombs.
    maxInflated = Math.min(maxInflated, 64 * 1024 * 1024 + MAX_INFLATE_RATIO * (arr.length - position));
    let inflated: Buffer;
    try {
      inflated = inflateRawSync(arr.subarray(position), { maxOutputLength: maxInflated });
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') inflateTooBig = true;
      inflateFailed = true;
      throw e;
    }
    const full = Buffer.alloc(position + inflated.length);
    full.set(arr.subarray(0, position), 0);
    full.set(inflated, position);
    return full;
  };

  try {
    return { ds: dicomParser.parseDicom(buf, options), transferSyntax };
  } catch (e) {
    if (inflateTooBig) {
      throw new ImageDecodeError('too-many-pixels', `deflated DICOM data set inflates to more than ${maxInflated} bytes`);
    }
    const msg = describeThrown(e);
    if (inflateFailed) {
      const code = /unexpected end/i.test(msg) ? 'truncated' : 'unreadable';
      throw new ImageDecodeError(code, `deflated DICOM data set could not be inflated: ${msg}`);
    }
    const partial = (e as { dataSet?: DataSet } | null)?.dataSet;
    const code = classifyParseError(msg);
    if (partial && typeof partial === 'object' && partial.elements) {
      return { ds: partial, transferSyntax, error: { code, message: msg } };
    }
    throw new ImageDecodeError(code, `DICOM data set could not be parsed: ${msg}`);
  }
}
