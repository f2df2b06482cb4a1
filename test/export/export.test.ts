import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { upsertImage } from '../../src-main/db/images.ts';
import { addLabel, undoLast } from '../../src-main/db/labels.ts';
import { initProject } from '../../src-main/db/project.ts';
import { exportProject } from '../../src-main/export/exporter.ts';
import { safeName } from '../../src-main/export/safeName.ts';
import { parseCsvRecords } from '../../src-main/util/csv.ts';
import { tempDir } from '../helpers/tmp.ts';

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name))).sort();
}

function labelledProject(classes: string[], fileNames: string[]) {
  const root = tempDir();
  const project = initProject(path.join(root, 'p'), { classes });
  const sources = path.join(root, 'sources');
  fs.mkdirSync(sources);
  fileNames.forEach((name, i) => {
    const dir = path.join(sources, String(i));
    fs.mkdirSync(dir);
    const file = path.join(dir, name);
    fs.writeFileSync(file, `image ${i}`);
    const { id } = upsertImage(project.db, { sha256: `${i}`.padStart(64, '0'), path: file, kind: 'raster', width: 1, height: 1 });
    addLabel(project.db, id, { kind: 'class', classIdx: i % classes.length }, { annotator: 'dr' });
  });
  return { root, project };
}

test('csv, json and folders exports hold one row per labelled image', () => {
  const { root, project } = labelledProject(['normal', 'pneumonia'], ['a.png', 'b.png', 'a.png', 'c.png']);
  addLabel(project.db, 1, { kind: 'class', classIdx: 1 }, { annotator: 'dr' });
  undoLast(project.db, 'dr');

  const csv = exportProject(project, path.join(root, 'csv'), { format: 'csv' });
  const rows = parseCsvRecords(fs.readFileSync(path.join(csv.out, 'labels.csv'), 'utf8'), ['path', 'sha256', 'label', 'annotator', 'labelled_at', 'label_events']);
  assert.equal(rows.length, 4);
  assert.deepEqual(rows.map((r) => r.label), ['normal', 'pneumonia', 'normal', 'pneumonia']);
  assert.equal(rows[0].label_events, '3', 'label, relabel and undo');

  const json = exportProject(project, path.join(root, 'json'), { format: 'json' });
  const document = JSON.parse(fs.readFileSync(path.join(json.out, 'labels.json'), 'utf8'));
  assert.deepEqual(document.classes, ['normal', 'pneumonia']);
  assert.equal(document.rows.length, 4);
  assert.equal(document.project.imageSize, 64);

  const folders = exportProject(project, path.join(root, 'folders'), { format: 'folders' });
  assert.equal(folders.files, 4);
  const files = listFiles(folders.out);
  assert.equal(files.length, 4);
  assert.deepEqual(files.map((f) => f.split(path.sep)[0]).sort(), ['normal', 'normal', 'pneumonia', 'pneumonia']);
  assert.ok(files.some((f) => /^normal.[0-9a-f]{12}-a\.png$/.test(f)), 'a second a.png in one class keeps both, told apart by hash');
  project.close();
});

test('a non-empty folder is refused without force', () => {
  const { root, project } = labelledProject(['x', 'y'], ['a.png']);
  const out = path.join(root, 'out');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
  assert.throws(() => exportProject(project, out, { format: 'csv' }), /not empty/);
  exportProject(project, out, { format: 'csv', force: true });
  assert.equal(fs.readFileSync(path.join(out, 'keep.txt'), 'utf8'), 'mine');
  project.close();
});

test('hostile class and file names never write outside the export folder', () => {
  const classes = ['../escape', 'a/b\\c', 'NUL', 'con.txt', '..'];
  const { root, project } = labelledProject(classes, ['a\\..\\..\\b.png', 'AUX', 'con.txt', '.hidden', '..png']);
  const out = path.join(root, 'nested', 'out');
  const result = exportProject(project, out, { format: 'folders' });
  assert.equal(result.files, 5);
  const outside = listFiles(root).filter((f) => !f.startsWith(path.join('nested', 'out')) && !f.startsWith('sources') && !f.startsWith('p'));
  assert.deepEqual(outside, []);
  for (const file of listFiles(out)) {
    for (const part of file.split(path.sep)) {
      assert.notEqual(part, '..');
      assert.ok(!/^(con|nul|aux)(\.|$)/i.test(part), `reserved device name ${part}`);
    }
  }
  project.close();
});

test('a class folder that is a symlink pointing outside is refused', () => {
  const { root, project } = labelledProject(['x', 'y'], ['a.png']);
  const out = path.join(root, 'out');
  const elsewhere = path.join(root, 'elsewhere');
  fs.mkdirSync(out);
  fs.mkdirSync(elsewhere);
  fs.symlinkSync(elsewhere, path.join(out, 'x'));
  assert.throws(() => exportProject(project, out, { format: 'folders', force: true }), /outside the export folder|symbolic link/);
  assert.deepEqual(fs.readdirSync(elsewhere), []);
  project.close();
});

test('safeName keeps names portable', () => {
  assert.equal(safeName('../x'), '_x');
  assert.equal(safeName('a/b\\c'), 'a_b_c');
  assert.equal(safeName('nul'), '_nul');
  assert.equal(safeName('a\u0000b'), 'a_b');
  assert.equal(safeName('COM1.png'), '_COM1.png');
  assert.equal(safeName('...'), '_');
  assert.equal(safeName('x'.repeat(300) + '.png').length, 120);
  assert.ok(safeName('x'.repeat(300) + '.png').endsWith('.png'));
});
