import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as dicomParserNs from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import sharp from 'sharp';
import { addLabel } from '../../src-main/db/labels.ts';
import { findImageByPath } from '../../src-main/db/images.ts';
import { initProject } from '../../src-main/db/project.ts';
import { exportProject } from '../../src-main/export/exporter.ts';
import { importPaths } from '../../src-main/import/importer.ts';
import { DEIDENTIFICATION_METHOD, DeidentifyError, deidentifyDicom } from '../../src-main/imaging/deidentify.ts';
import { decodeImage } from '../../src-main/imaging/index.ts';
import { createApp } from '../../src-main/service/app.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { imageElements, TSU, writeDicom, type El } from '../imaging/dicomWriter.ts';
import { sharedDicom, skipWithoutShared, tempDir } from '../helpers/tmp.ts';

const dicomParser = ((dicomParserNs as unknown as { default?: typeof dicomParserNs }).default ?? dicomParserNs) as typeof dicomParserNs;

/** A sequence for the test writer: items encoded in the file's own syntax, with defined lengths. */
function sq(tag: number, items: El[][], ts: string): El {
  const bigEndian = ts === TSU.explicitBE;
  const inner = ts === TSU.deflate ? TSU.explicitLE : ts;
  const encoded = items.map((els) => {
    const body = writeDicom(els, { transferSyntax: inner, noMeta: true });
    const head = Buffer.alloc(8);
    if (bigEndian) [head.writeUInt16BE(0xfffe, 0), head.writeUInt16BE(0xe000, 2), head.writeUInt32BE(body.length, 4)];
    else [head.writeUInt16LE(0xfffe, 0), head.writeUInt16LE(0xe000, 2), head.writeUInt32LE(body.length, 4)];
    return Buffer.concat([head, body]);
  });
  return { tag, vr: 'SQ', value: Buffer.concat(encoded) };
}

const UID = '1.2.826.0.1.3680043.2.1125.77.';
/** Identifying values planted in the test files; none may survive, anywhere in the bytes. */
const SECRETS: [number, string, string][] = [
  [0x00080020, 'DA', '20240131'], [0x00080021, 'DA', '20240130'], [0x00080022, 'DA', '20240129'], [0x00080023, 'DA', '20240128'],
  [0x0008002a, 'DT', '20240127101112'], [0x00080030, 'TM', '101112'], [0x00080050, 'SH', 'ACC20240131'],
  [0x00080080, 'LO', 'St Elsewhere Hospital'], [0x00080081, 'ST', '1 Hospital Way, Springfield'], [0x00080090, 'PN', 'House^Gregory'],
  [0x00081010, 'SH', 'CTSCAN7'], [0x00081030, 'LO', 'Chest pain follow-up Jane'], [0x00081050, 'PN', 'Quinn^Michaela'],
  [0x00081070, 'PN', 'Tech^Tina'], [0x00100010, 'PN', 'Doe^Jane^Q'], [0x00100020, 'LO', 'MRN-99887766'],
  [0x00100030, 'DA', '19710203'], [0x00101000, 'LO', 'ALT-55443322'], [0x00101010, 'AS', '052Y'],
  [0x00101040, 'LO', '12 Elm Street Springfield'], [0x00181000, 'LO', 'SN-1234567'], [0x00181030, 'LO', 'Protocol Doe special'],
  [0x00200010, 'SH', 'STUDY777'], [0x00204000, 'LT', 'patient anxious, call her husband'], [0x00091001, 'LO', 'PRIVATE-SECRET-Doe'],
];

function identifiedDicom(ts: string, n: number, referenced?: string): { bytes: Buffer; uids: Record<string, string>; pixels: Buffer } {
  const uids = { study: `${UID}1`, series: `${UID}2.${n}`, sop: `${UID}3.${n}`, frame: `${UID}4` };
  const pixels = Buffer.alloc(6 * 5 * 2);
  for (let i = 0; i < 30; i++) pixels.writeUInt16LE((i * 331 + n) % 4000, i * 2);
  const extra: El[] = [
    ...SECRETS.map(([tag, vr, value]) => ({ tag, vr, value })),
    { tag: 0x00090010, vr: 'LO', value: 'ACME CREATOR' },
    { tag: 0x0020000d, vr: 'UI', value: uids.study },
    { tag: 0x0020000e, vr: 'UI', value: uids.series },
    { tag: 0x00200052, vr: 'UI', value: uids.frame },
    { tag: 0x00280301, vr: 'CS', value: 'NO' },
    { tag: 0x50003000, vr: 'OB', value: Buffer.from('CURVE-Doe') },
    { tag: 0x60000010, vr: 'US', value: 5 },
    { tag: 0x60003000, vr: 'OB', value: Buffer.from('OVERLAY-Doe-burned') },
    // A sequence the profile keeps, with identifying attributes inside: cleaned recursively.
    sq(0x00081115, [[{ tag: 0x0020000e, vr: 'UI', value: uids.series }, { tag: 0x00100010, vr: 'PN', value: 'Nested^Doe^Name' }]], ts),
    sq(0x00880200, [[{ tag: 0x00280010, vr: 'US', value: 1 }, { tag: 0x00100020, vr: 'LO', value: 'ICON-MRN-1' }]], ts),
  ];
  if (referenced) extra.push(sq(0x00081140, [[{ tag: 0x00081150, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' }, { tag: 0x00081155, vr: 'UI', value: referenced }]], ts));
  const elements = imageElements({ rows: 5, cols: 6, bitsAllocated: 16, bitsStored: 12, modality: 'CT', pixelData: pixels, extra }).filter(
    (e) => !(e.tag === 0x00080018 || (e.tag === 0x00100010 && e.value === 'Test^Patient')),
  );
  elements.push({ tag: 0x00080018, vr: 'UI', value: uids.sop });
  return { bytes: writeDicom(elements, { transferSyntax: ts }), uids, pixels };
}

const parse = (bytes: Buffer): DataSet => dicomParser.parseDicom(bytes);

function assertNoneLeft(out: Buffer, values: string[], what: string): void {
  for (const value of values) assert.equal(out.indexOf(Buffer.from(value, 'latin1')), -1, `${what}: "${value}" is still in the file`);
}

describe('deidentifyDicom on generated files', () => {
  for (const [name, ts] of Object.entries({ 'explicit LE': TSU.explicitLE, 'implicit LE': TSU.implicitLE, 'explicit BE': TSU.explicitBE, deflate: TSU.deflate })) {
    test(`${name}: identifying values gone, pixels unchanged, UIDs replaced consistently`, async () => {
      const key = randomBytes(32);
      const a = identifiedDicom(ts, 1);
      const b = identifiedDicom(ts, 2, a.uids.sop);
      const outA = deidentifyDicom(a.bytes, { key });
      const outB = deidentifyDicom(b.bytes, { key });
      for (const [input, output] of [[a.bytes, outA], [b.bytes, outB]]) {
        const before = await decodeImage(input, 'x.dcm');
        const after = await decodeImage(output, 'x.dcm');
        assert.deepEqual(Buffer.from(after.pixels), Buffer.from(before.pixels));
        assert.deepEqual(Array.from(after.modalityValues!), Array.from(before.modalityValues!));
        assertNoneLeft(output, [...SECRETS.map(([, , v]) => v), ...Object.values(a.uids), ...Object.values(b.uids), 'Nested^Doe', 'ICON-MRN', 'CURVE-Doe', 'OVERLAY-Doe', 'ACME CREATOR'], name);
      }
      const [dsA, dsB] = [parse(outA), parse(outB)];
      assert.equal(dsA.string('x00120062'), 'YES');
      assert.equal(dsA.string('x00120063'), DEIDENTIFICATION_METHOD);
      const method = dsA.elements.x00120064.items![0].dataSet!;
      assert.deepEqual([method.string('x00080100'), method.string('x00080102'), method.string('x00080104')], ['113100', 'DCM', 'Basic Application Confidentiality Profile']);
      assert.equal(dsA.string('x00020010'), ts, 'transfer syntax kept');
      // Z: present but empty; X: gone; D: a dummy.
      assert.ok(dsA.elements.x00100010 && dsA.elements.x00100010.length === 0);
      assert.ok(dsA.elements.x00100020 && dsA.elements.x00100020.length === 0);
      for (const gone of ['x00101000', 'x00101040', 'x00081050', 'x00204000', 'x00091001', 'x00090010', 'x60003000', 'x60000010', 'x50003000', 'x00880200', 'x00081030']) assert.equal(dsA.elements[gone], undefined, gone);
      assert.equal(dsA.string('x00080080'), 'ANONYMIZED');
      assert.equal(dsA.string('x00080021'), '19000101');
      const nested = dsA.elements.x00081115.items![0].dataSet!;
      assert.equal(nested.elements.x00100010.length, 0, 'a nested Patient Name is emptied');
      // UIDs: new, under 2.25, the meta header agreeing, and the same old UID mapping to the same new one across files.
      const sopA = dsA.string('x00080018')!;
      assert.match(sopA, /^2\.25\.\d+$/);
      assert.equal(dsA.string('x00020003'), sopA);
      assert.equal(dsA.string('x0020000d'), dsB.string('x0020000d'), 'study UID consistent across the export');
      assert.equal(nested.string('x0020000e'), dsA.string('x0020000e'), 'a nested reference follows the replaced UID');
      assert.equal(dsB.elements.x00081140.items![0].dataSet!.string('x00081155'), sopA, 'a reference to file A points at its new UID');
      assert.notEqual(parse(deidentifyDicom(a.bytes, { key: randomBytes(32) })).string('x0020000d'), dsA.string('x0020000d'), 'another export, other UIDs');
      assert.equal(dsA.string('x00080016'), '1.2.840.10008.5.1.4.1.1.7', 'SOP Class UID kept');
    });
  }

  test('an executable preamble is not passed on; burned-in annotation is refused', () => {
    const { bytes } = identifiedDicom(TSU.explicitLE, 3);
    const polyglot = Buffer.from(bytes);
    polyglot.write('MZ', 0, 'latin1');
    assert.ok(deidentifyDicom(polyglot).subarray(0, 128).every((v) => v === 0));
    const burned = writeDicom(imageElements({ rows: 1, cols: 1, bitsAllocated: 8, pixelData: new Uint8Array(2), extra: [{ tag: 0x00280301, vr: 'CS', value: 'YES' }] }), { transferSyntax: TSU.explicitLE });
    assert.throws(() => deidentifyDicom(burned), DeidentifyError);
    assert.throws(() => deidentifyDicom(bytes.subarray(0, bytes.length - 20)), DeidentifyError, 'a cut file is refused, not half-cleaned');
  });
});

/** Non-standard UIDs anywhere in a parsed data set (they identify the study, series, instance...). */
function instanceUids(ds: DataSet, out: Set<string> = new Set()): Set<string> {
  for (const [tag, el] of Object.entries(ds.elements)) {
    if (el.items) el.items.forEach((item) => item.dataSet && instanceUids(item.dataSet, out));
    else if ((el.vr === 'UI' || ['x0020000d', 'x0020000e', 'x00080018', 'x00200052'].includes(tag)) && el.length > 0 && el.length < 80) {
      for (const uid of (ds.string(tag) ?? '').split('\\')) if (uid.length > 10 && !uid.startsWith('1.2.840.10008.')) out.add(uid);
    }
  }
  return out;
}

test('the shared DICOM samples: same pixels, no patient name or instance UID left', { skip: skipWithoutShared(sharedDicom) }, async () => {
  const names = fs.readdirSync(sharedDicom).filter((n) => n.endsWith('.dcm') && n !== 'rtplan_truncated.dcm');
  assert.ok(names.length >= 5);
  for (const name of names) {
    const bytes = fs.readFileSync(path.join(sharedDicom, name));
    const out = deidentifyDicom(bytes);
    const [before, after] = [await decodeImage(bytes, name), await decodeImage(out, name)];
    assert.deepEqual(Buffer.from(after.pixels), Buffer.from(before.pixels), name);
    const original = dicomParser.parseDicom(bytes);
    const patient = original.string('x00100010');
    assertNoneLeft(out, [...(patient && patient.length > 2 ? [patient] : []), ...instanceUids(original)], name);
    assert.equal(parse(out).string('x00120062'), 'YES', name);
  }
  assert.throws(() => deidentifyDicom(fs.readFileSync(path.join(sharedDicom, 'rtplan_truncated.dcm'))), DeidentifyError);
});

/** The chunk types of a PNG. */
function pngChunks(png: Buffer): string[] {
  const types: string[] = [];
  for (let pos = 8; pos + 8 <= png.length; pos += 12 + png.readUInt32BE(pos)) types.push(png.toString('latin1', pos + 4, pos + 8));
  return types;
}

/** A PNG with a tEXt and an eXIf chunk inserted before IEND. */
async function pngWithMetadata(): Promise<Buffer> {
  const png = await sharp(Buffer.from(Array.from({ length: 8 * 8 }, (_, i) => i * 4)), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer();
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]); // CRC unchecked by the readers used here
  };
  const iend = png.length - 12;
  return Buffer.concat([png.subarray(0, iend), chunk('tEXt', Buffer.from('Comment\0Patient Jane Doe, MRN-99887766')), chunk('eXIf', Buffer.from('MM\0*Jane Doe exif')), png.subarray(iend)]);
}

test('a de-identified folders export: DICOM cleaned, PNG and JPEG without metadata, names replaced; the service passes the option on', async () => {
  const root = tempDir();
  const sources = path.join(root, 'Doe_Jane_MRN-99887766');
  fs.mkdirSync(sources);
  const png = await pngWithMetadata();
  assert.ok(pngChunks(png).includes('tEXt') && pngChunks(png).includes('eXIf'));
  fs.writeFileSync(path.join(sources, 'Doe_Jane_chest.png'), png);
  const jpeg = await sharp(Buffer.alloc(16 * 16 * 3, 90), { raw: { width: 16, height: 16, channels: 3 } }).jpeg().withMetadata({ exif: { IFD0: { Artist: 'Jane Doe' } } }).toBuffer();
  assert.ok(jpeg.includes('Jane Doe'));
  fs.writeFileSync(path.join(sources, 'Doe_Jane_photo.jpg'), jpeg);
  fs.writeFileSync(path.join(sources, 'Doe_Jane_ct.dcm'), identifiedDicom(TSU.explicitLE, 5).bytes);

  const project = initProject(path.join(root, 'project'), { classes: ['normal', 'abnormal'] });
  const summary = await importPaths(project, [sources]);
  assert.equal(summary.added, 3, JSON.stringify(summary.failed));
  for (const name of fs.readdirSync(sources)) addLabel(project.db, findImageByPath(project.db, path.join(sources, name))!.id, { kind: 'class', classIdx: 1 }, { annotator: 'dr' });

  await assert.rejects(async () => exportProject(project, path.join(root, 'csv'), { format: 'csv', deidentify: true }), /folders/);
  const result = await exportProject(project, path.join(root, 'out'), { format: 'folders', deidentify: true });
  assert.equal(result.files, 3);
  const files = fs.readdirSync(path.join(result.out, 'abnormal')).sort();
  assert.deepEqual(files.map((f) => path.extname(f)).sort(), ['.dcm', '.jpg', '.png']);
  for (const file of files) {
    assert.doesNotMatch(file, /Doe|Jane|MRN/);
    const bytes = fs.readFileSync(path.join(result.out, 'abnormal', file));
    assertNoneLeft(bytes, ['Jane', 'Doe^', 'MRN-99887766', 'Exif'], file);
    if (file.endsWith('.png')) {
      assert.deepEqual(pngChunks(bytes).filter((t) => ['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME', 'iCCP'].includes(t)), []);
      assert.deepEqual(Buffer.from((await decodeImage(bytes, file)).pixels), Buffer.from((await decodeImage(png, 'x.png')).pixels), 'PNG pixels unchanged');
    }
    if (file.endsWith('.dcm')) assert.equal(parse(bytes).string('x00120062'), 'YES');
  }
  project.close();

  const app = createApp({ mode: 'browser', homeDir: path.join(root, 'home'), backupIntervalMs: 0 });
  const opened = await dispatch(app.service, 'project.open', { dir: path.join(root, 'project') });
  assert.ok(opened.ok);
  const started = await dispatch(app.service, 'job.start', { projectId: (opened.value as { projectId: string }).projectId, job: { kind: 'export', out: path.join(root, 'via-service'), format: 'folders', deidentify: true } });
  assert.ok(started.ok, JSON.stringify(started));
  let state = started.value as { jobId: string; status: string; error?: string };
  while (state.status === 'running') {
    await new Promise((resolve) => setTimeout(resolve, 20));
    state = ((await dispatch(app.service, 'job.get', { jobId: state.jobId })) as { value: typeof state }).value;
  }
  assert.equal(state.status, 'succeeded', state.error);
  for (const file of fs.readdirSync(path.join(root, 'via-service', 'abnormal'))) assert.doesNotMatch(file, /Doe|Jane/);
  await app.close();
});
