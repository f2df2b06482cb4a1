/**
 * De-identification of a DICOM Part 10 file by the Basic Application Level Confidentiality Profile
 * (PS3.15 E.1-1, see deidentifyProfile.ts). The data set is walked and rewritten element by element;
 * the pixel data and every attribute the profile keeps are copied byte for byte. Implicit and explicit
 * VR little endian, explicit big endian and deflated files are supported.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { bareDicomKind } from './dicomParse.ts';
import { CLASS_UIDS, profileEntry, type ProfileEntry } from './deidentifyProfile.ts';

export const DEIDENTIFICATION_METHOD = 'Episteme basic profile (PS3.15 E.1-1)';
/** Episteme's implementation class UID, under the UUID root 2.25 (no registration needed). */
const IMPLEMENTATION_UID = '2.25.300012382198821566331411442649615321978';
const IMPLEMENTATION_NAME = 'EPISTEME_0_1';
const STANDARD_ROOT = '1.2.840.10008.';

const TS = { implicitLE: '1.2.840.10008.1.2', explicitBE: '1.2.840.10008.1.2.2', deflate: '1.2.840.10008.1.2.1.99' };
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;
const PIXEL_DATA = 0x7fe00010;
const MAX_DEPTH = 64;
/** Top-level attributes this module writes itself, so any original values are dropped. */
const WRITTEN = new Set([0x00120062, 0x00120063, 0x00120064, 0x00280303]);

export class DeidentifyError extends Error {}

export interface DeidentifyOptions {
  /** HMAC key for new UIDs: one key per export maps each UID to the same new UID in all its files. Random when absent. */
  key?: Buffer;
}

interface Syntax {
  explicit: boolean;
  little: boolean;
}
const EXPLICIT_LE: Syntax = { explicit: true, little: true };
const IMPLICIT_LE: Syntax = { explicit: false, little: true };

interface Piece {
  tag: number;
  bytes: Buffer;
}

interface Context {
  b: Buffer;
  key: Buffer;
  /** Original top-level values the meta group and the checks need. */
  top: Map<number, string>;
}

interface Header {
  tag: number;
  vr?: string;
  length: number;
  size: number;
}

function readHeader(b: Buffer, pos: number, end: number, s: Syntax): Header {
  if (pos + 8 > end) throw new DeidentifyError(`the data set ends inside an element header at byte ${pos}`);
  const u16 = (o: number) => (s.little ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (s.little ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const tag = ((u16(pos) << 16) | u16(pos + 2)) >>> 0;
  if (tag >>> 16 === 0xfffe || !s.explicit) return { tag, length: u32(pos + 4), size: 8 };
  const vr = b.toString('latin1', pos + 4, pos + 6);
  if (!/^[A-Z]{2}$/.test(vr)) throw new DeidentifyError(`no valid VR at byte ${pos + 4}`);
  if (!LONG_VRS.has(vr)) return { tag, vr, length: u16(pos + 6), size: 8 };
  if (pos + 12 > end) throw new DeidentifyError(`the data set ends inside an element header at byte ${pos}`);
  return { tag, vr, length: u32(pos + 8), size: 12 };
}

function header(tag: number, vr: string | undefined, length: number, s: Syntax): Buffer {
  const marker = tag >>> 16 === 0xfffe; // items and delimiters: tag and length only
  const long = s.explicit && !marker && LONG_VRS.has(vr ?? 'UN');
  const h = Buffer.alloc(long ? 12 : 8);
  const w16 = (v: number, o: number) => (s.little ? h.writeUInt16LE(v, o) : h.writeUInt16BE(v, o));
  const w32 = (v: number, o: number) => (s.little ? h.writeUInt32LE(v, o) : h.writeUInt32BE(v, o));
  w16(tag >>> 16, 0);
  w16(tag & 0xffff, 2);
  if (marker || !s.explicit) w32(length, 4);
  else {
    h.write(vr ?? 'UN', 4, 'latin1');
    if (long) w32(length, 8);
    else if (length > 0xffff) throw new DeidentifyError(`value of (${hex(tag)}) too long for its VR`);
    else w16(length, 6);
  }
  return h;
}

const element = (tag: number, vr: string | undefined, value: Buffer, s: Syntax): Piece => ({ tag, bytes: Buffer.concat([header(tag, vr, value.length, s), value]) });
const hex = (tag: number) => `${(tag >>> 16).toString(16).padStart(4, '0')},${(tag & 0xffff).toString(16).padStart(4, '0')}`.toUpperCase();
const padded = (text: string, pad: string) => Buffer.from(text.length % 2 ? text + pad : text, 'latin1');
const trimmed = (b: Buffer, start: number, end: number) => b.toString('latin1', start, end).replace(/[\0 ]+$/, '');

function sequence(tag: number, vr: string | undefined, items: Piece[][], outer: Syntax, inner: Syntax): Piece {
  const parts = [header(tag, vr ?? 'SQ', UNDEFINED, outer)];
  for (const item of items) parts.push(header(ITEM, undefined, UNDEFINED, inner), ...sorted(item).map((p) => p.bytes), header(ITEM_END, undefined, 0, inner));
  parts.push(header(SEQUENCE_END, undefined, 0, inner));
  return { tag, bytes: Buffer.concat(parts) };
}

const sorted = (pieces: Piece[]) => [...pieces].sort((a, b) => a.tag - b.tag);

export function newUid(key: Buffer, uid: string): string {
  return `2.25.${BigInt(`0x${createHmac('sha256', key).update(uid).digest('hex').slice(0, 32)}`)}`;
}

function dummy(vr: string | undefined, length: number): Buffer {
  if (vr === 'DA') return Buffer.from('19000101');
  if (vr === 'TM') return Buffer.from('000000');
  if (vr === 'DT') return Buffer.from('19000101000000');
  if (vr === 'IS' || vr === 'DS') return Buffer.from('0 ');
  if (!vr || vr.startsWith('O') || ['UN', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'AT', 'SV', 'UV'].includes(vr)) return Buffer.alloc(Math.max(2, length + (length % 2)));
  return Buffer.from('ANONYMIZED');
}

/** A compound action (X/Z/D...) resolved so the result stays valid for any attribute type: D, else Z, else X; sequences emptied rather than faked. */
function resolve(action: string, isSequence: boolean): string {
  const options = action.split('/');
  if (options.includes('U*')) return 'K';
  if (options.length === 1) return options[0];
  const order = isSequence ? ['Z', 'X', 'D'] : ['D', 'Z', 'X'];
  return order.find((o) => options.includes(o))!;
}

function looksLikeItems(b: Buffer, start: number, length: number, s: Syntax): boolean {
  if (length < 8 || start + 8 > b.length) return false;
  const h = readHeader(b, start, b.length, s);
  return h.tag === ITEM && (h.length === UNDEFINED || h.length <= length - 8);
}

function encapsulatedEnd(b: Buffer, pos: number, end: number, s: Syntax): number {
  for (;;) {
    const h = readHeader(b, pos, end, s);
    if (h.tag === SEQUENCE_END) return pos + 8;
    if (h.tag !== ITEM || h.length === UNDEFINED || pos + 8 + h.length > end) throw new DeidentifyError(`broken Pixel Data fragment at byte ${pos}`);
    pos += 8 + h.length;
  }
}

function readItems(ctx: Context, pos: number, end: number, length: number, s: Syntax, depth: number): { items: Piece[][]; next: number } {
  const stop = length === UNDEFINED ? end : pos + length;
  if (stop > end) throw new DeidentifyError(`a sequence at byte ${pos} runs past the end of the file`);
  const items: Piece[][] = [];
  while (pos < stop) {
    const h = readHeader(ctx.b, pos, stop, s);
    if (h.tag === SEQUENCE_END) return { items, next: pos + 8 };
    if (h.tag !== ITEM) throw new DeidentifyError(`expected a sequence item at byte ${pos}`);
    const itemEnd = h.length === UNDEFINED ? stop : pos + 8 + h.length;
    if (itemEnd > stop) throw new DeidentifyError(`a sequence item at byte ${pos} runs past its sequence`);
    const [pieces, next] = rewriteDataSet(ctx, pos + 8, itemEnd, s, depth + 1, h.length === UNDEFINED);
    items.push(pieces);
    pos = next;
  }
  if (length === UNDEFINED) throw new DeidentifyError('a sequence is not closed');
  return { items, next: stop };
}

function decide(tag: number, vr: string | undefined, entry: ProfileEntry | undefined, isSequence: boolean, value: () => string, depth: number): string {
  const group = tag >>> 16;
  // Command and meta elements do not belong in a data set; group lengths would be stale.
  if (group === 0x0000 || group === 0x0002 || (tag & 0xffff) === 0) return 'X';
  if (depth === 0 && WRITTEN.has(tag)) return 'X';
  if (entry) return resolve(entry.action, isSequence);
  // UIDs outside the table (and outside the standard's own root) may still point back to the source.
  if (vr === 'UI' && !CLASS_UIDS.has(tag) && value().split('\\').some((u) => u && !u.startsWith(STANDARD_ROOT))) return 'U';
  return 'K';
}

function rewriteDataSet(ctx: Context, pos: number, end: number, s: Syntax, depth: number, untilItemEnd: boolean): [Piece[], number] {
  if (depth > MAX_DEPTH) throw new DeidentifyError(`sequences nested deeper than ${MAX_DEPTH} levels`);
  const { b } = ctx;
  const pieces: Piece[] = [];
  while (pos < end) {
    if (depth === 0 && end - pos < 8) break; // trailing padding shorter than a header: dropped, like everything not an element
    const h = readHeader(b, pos, end, s);
    if (h.tag === ITEM_END && untilItemEnd) return [pieces, pos + 8];
    if (h.tag >>> 16 === 0xfffe) throw new DeidentifyError(`unexpected item tag (${hex(h.tag)}) at byte ${pos}`);
    const start = pos + h.size;
    const entry = profileEntry(h.tag);
    const vr = h.vr && h.vr !== 'UN' ? h.vr : (entry?.vr ?? h.vr);
    // An undefined-length UN is a sequence encoded in implicit VR little endian (PS3.5 6.2.2).
    const inner = h.vr === 'UN' ? IMPLICIT_LE : s;
    const isSequence = vr === 'SQ' || ((!h.vr || h.vr === 'UN') && (h.length === UNDEFINED ? h.tag !== PIXEL_DATA : looksLikeItems(b, start, h.length, inner)));
    let items: Piece[][] = [];
    let next: number;
    if (isSequence) ({ items, next } = readItems(ctx, start, end, h.length, inner, depth));
    else if (h.length === UNDEFINED) {
      if (h.tag !== PIXEL_DATA) throw new DeidentifyError(`(${hex(h.tag)}) has an undefined length but is not a sequence`);
      next = encapsulatedEnd(b, start, end, s);
    } else {
      next = start + h.length;
      if (next > end) throw new DeidentifyError(`(${hex(h.tag)}) runs past the end of the file: the file is cut short`);
    }
    const value = () => trimmed(b, start, next);
    if (depth === 0 && !isSequence && [0x00080016, 0x00080018, 0x00280301].includes(h.tag)) ctx.top.set(h.tag, value());
    const action = decide(h.tag, vr, entry, isSequence, value, depth);
    if (action === 'K') pieces.push(isSequence ? sequence(h.tag, h.vr, items, s, inner) : { tag: h.tag, bytes: b.subarray(pos, next) });
    else if (action === 'Z') pieces.push({ tag: h.tag, bytes: header(h.tag, h.vr, 0, s) });
    else if (action === 'D') pieces.push(isSequence ? sequence(h.tag, h.vr, [[]], s, inner) : element(h.tag, vr, dummy(vr, next - start), s));
    else if (action === 'U') pieces.push(element(h.tag, 'UI', padded(value().split('\\').map((u) => (u ? newUid(ctx.key, u) : u)).join('\\'), '\0'), s));
    else if (action !== 'X') throw new DeidentifyError(`unknown profile action ${action} for (${hex(h.tag)})`);
    pos = next;
  }
  if (untilItemEnd) throw new DeidentifyError('a sequence item is not closed');
  return [pieces, pos];
}

function readMeta(b: Buffer): { transferSyntax?: string; sopClass?: string; sopInstance?: string; dataStart: number } {
  let pos: number;
  if (b.length >= 132 && b.toString('latin1', 128, 132) === 'DICM') pos = 132;
  else if (bareDicomKind(b) === 'meta') pos = 0;
  else return { dataStart: 0 };
  const out: ReturnType<typeof readMeta> = { dataStart: pos };
  while (pos + 8 <= b.length && b.readUInt16LE(pos) === 0x0002) {
    const h = readHeader(b, pos, b.length, EXPLICIT_LE);
    const start = pos + h.size;
    if (h.length === UNDEFINED || start + h.length > b.length) throw new DeidentifyError('the DICOM meta header is cut short');
    const value = trimmed(b, start, start + h.length);
    if (h.tag === 0x00020010) out.transferSyntax = value;
    else if (h.tag === 0x00020002) out.sopClass = value;
    else if (h.tag === 0x00020003) out.sopInstance = value;
    pos = start + h.length;
  }
  out.dataStart = pos;
  return out;
}

function deidentificationElements(s: Syntax): Piece[] {
  const code = [
    element(0x00080100, 'SH', padded('113100', ' '), s),
    element(0x00080102, 'SH', padded('DCM', ' '), s),
    element(0x00080104, 'LO', padded('Basic Application Confidentiality Profile', ' '), s),
  ];
  return [
    element(0x00120062, 'CS', padded('YES', ' '), s),
    element(0x00120063, 'LO', padded(DEIDENTIFICATION_METHOD, ' '), s),
    sequence(0x00120064, 'SQ', [code], s, s),
    element(0x00280303, 'CS', padded('REMOVED', ' '), s),
  ];
}

function metaGroup(transferSyntax: string, sopClass: string, sopInstance: string): Buffer {
  const uid = (u: string) => padded(u, '\0');
  const body = Buffer.concat([
    element(0x00020001, 'OB', Buffer.from([0, 1]), EXPLICIT_LE),
    element(0x00020002, 'UI', uid(sopClass), EXPLICIT_LE),
    element(0x00020003, 'UI', uid(sopInstance), EXPLICIT_LE),
    element(0x00020010, 'UI', uid(transferSyntax), EXPLICIT_LE),
    element(0x00020012, 'UI', uid(IMPLEMENTATION_UID), EXPLICIT_LE),
    element(0x00020013, 'SH', padded(IMPLEMENTATION_NAME, ' '), EXPLICIT_LE),
  ].map((p) => p.bytes));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  // A fresh, empty preamble: whatever the original carried (e.g. a program header) is not passed on.
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), element(0x00020000, 'UL', length, EXPLICIT_LE).bytes, body]);
}

/** The file de-identified by the basic profile, as a new Part 10 file. Throws DeidentifyError when it cannot be done safely. */
export function deidentifyDicom(bytes: Buffer, options: DeidentifyOptions = {}): Buffer {
  try {
    return rewriteFile(bytes, options);
  } catch (error) {
    if (error instanceof DeidentifyError) throw error;
    throw new DeidentifyError(`malformed DICOM: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function rewriteFile(bytes: Buffer, options: DeidentifyOptions): Buffer {
  const key = options.key ?? randomBytes(32);
  const meta = readMeta(bytes);
  let transferSyntax = meta.transferSyntax;
  if (!transferSyntax) {
    const bare = meta.dataStart === 0 ? bareDicomKind(bytes) : undefined;
    if (bare !== 'explicit' && bare !== 'implicit') throw new DeidentifyError('not a DICOM file, or its meta header has no Transfer Syntax UID');
    transferSyntax = bare === 'explicit' ? '1.2.840.10008.1.2.1' : TS.implicitLE;
  }
  const syntax: Syntax = transferSyntax === TS.implicitLE ? IMPLICIT_LE : { explicit: true, little: transferSyntax !== TS.explicitBE };
  let data = bytes.subarray(meta.dataStart);
  if (transferSyntax === TS.deflate) data = inflateRawSync(data, { maxOutputLength: 2 ** 30 });

  const ctx: Context = { b: data, key, top: new Map() };
  const [pieces] = rewriteDataSet(ctx, 0, data.length, syntax, 0, false);
  if (ctx.top.get(0x00280301)?.toUpperCase() === 'YES') {
    throw new DeidentifyError('Burned In Annotation (0028,0301) is YES: identifying text is drawn into the pixels, which this profile cannot remove');
  }
  const sopClass = ctx.top.get(0x00080016) || meta.sopClass;
  if (!sopClass) throw new DeidentifyError('no SOP Class UID (0008,0016) to write into the meta header');
  const originalInstance = ctx.top.get(0x00080018) || meta.sopInstance || createHmac('sha256', key).update(bytes).digest('hex');
  let dataset = Buffer.concat(sorted([...pieces, ...deidentificationElements(syntax)]).map((p) => p.bytes));
  if (transferSyntax === TS.deflate) dataset = deflateRawSync(dataset);
  return Buffer.concat([metaGroup(transferSyntax, sopClass, newUid(key, originalInstance)), dataset]);
}
