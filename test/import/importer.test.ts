import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { listImages } from '../../src-main/db/images.ts';
import { currentLabels } from '../../src-main/db/labels.ts';
import { initProject } from '../../src-main/db/project.ts';
import { readCachedInput } from '../../src-main/import/cache.ts';
import { importPaths } from '../../src-main/import/importer.ts';
import { writeTwoClassPngs } from '../helpers/images.ts';
import { sharedDicom, skipWithoutShared, tempDir } from '../helpers/tmp.ts';

test('import walks folders, caches model inputs once, and is idempotent by content', async () => {
  const root = tempDir();
  const files = await writeTwoClassPngs(path.join(root, 'images', 'nested'), 5);
  fs.writeFileSync(path.join(root, 'images', 'notes.txt'), 'not an image, and skipped when walking a folder');
  const project = initProject(path.join(root, 'p'), { classes: ['bars', 'rings'], imageSize: 28 });
  const progress: number[] = [];
  const first = await importPaths(project, [path.join(root, 'images')], { onProgress: (p) => progress.push(p.done) });
  assert.deepEqual({ added: first.added, failed: first.failed.length }, { added: 10, failed: 0 });
  assert.equal(progress.at(-1), 10);
  const images = listImages(project.db);
  assert.equal(readCachedInput(project, images[0].sha256).length, 28 * 28);

  const again = await importPaths(project, [path.join(root, 'images')]);
  assert.deepEqual({ added: again.added, unchanged: again.unchanged }, { added: 0, unchanged: 10 });

  const moved = path.join(root, 'moved.png');
  fs.renameSync(files[0].file, moved);
  const afterMove = await importPaths(project, [moved]);
  assert.equal(afterMove.moved, 1);
  assert.equal(listImages(project.db).length, 10, 'a moved file is recognised, not duplicated');
  project.close();
});

test('an import larger than one write batch records every file', async () => {
  const root = tempDir();
  await writeTwoClassPngs(path.join(root, 'many'), 130, 7, 12);
  const project = initProject(path.join(root, 'p'), { classes: ['bars', 'rings'], imageSize: 28 });
  const summary = await importPaths(project, [path.join(root, 'many')], { concurrency: 4 });
  assert.equal(summary.added, 260);
  assert.equal(listImages(project.db).length, 260);
  project.close();
});

test('per-file failures are listed and the import goes on', async () => {
  const root = tempDir();
  await writeTwoClassPngs(path.join(root, 'in'), 2);
  const good = await sharp({ create: { width: 20, height: 20, channels: 3, background: 'red' } }).png().toBuffer();
  fs.writeFileSync(path.join(root, 'in', 'truncated.png'), good.subarray(0, 40));
  fs.writeFileSync(path.join(root, 'in', 'empty.png'), Buffer.alloc(0));
  fs.writeFileSync(path.join(root, 'in', 'text.jpg'), 'hello, not a jpeg');
  const project = initProject(path.join(root, 'p'), { classes: ['bars', 'rings'] });
  const summary = await importPaths(project, [path.join(root, 'in'), path.join(root, 'missing-folder')]);
  assert.equal(summary.added, 4);
  assert.deepEqual(summary.failed.map((f) => path.basename(f.path)).sort(), ['empty.png', 'missing-folder', 'text.jpg', 'truncated.png']);
  for (const failure of summary.failed) assert.ok(failure.message.length > 5, `a reason for ${failure.path}`);
  project.close();
});

test('--labels CSV records labels as events, and reports unknown classes and unknown files', async () => {
  const root = tempDir();
  const files = await writeTwoClassPngs(path.join(root, 'in'), 3);
  const csv = ['path,label', ...files.map((f) => `${path.basename(f.file)},${f.label}`), 'nowhere.png,bars', `${path.basename(files[0].file)},tumour`].join('\n');
  fs.writeFileSync(path.join(root, 'in', 'labels.csv'), csv);
  const project = initProject(path.join(root, 'p'), { classes: ['bars', 'rings'] });
  const summary = await importPaths(project, [path.join(root, 'in')], { labelsCsv: path.join(root, 'in', 'labels.csv'), annotator: 'radiologist' });
  assert.equal(summary.labelled, 6);
  assert.deepEqual(summary.failed.map((f) => f.code).sort(), ['not-imported', 'unknown-class']);
  const labels = currentLabels(project.db);
  assert.equal(labels.length, 6);
  assert.ok(labels.every((l) => l.annotator === 'radiologist'));
  project.close();
});

test('the shared DICOM samples import, the truncated RT plan is reported', { skip: skipWithoutShared(sharedDicom) }, async () => {
  const project = initProject(path.join(tempDir(), 'p'), { classes: ['a', 'b'], imageSize: 64 });
  const summary = await importPaths(project, [sharedDicom]);
  const failedNames = summary.failed.map((f) => path.basename(f.path));
  assert.ok(failedNames.includes('rtplan_truncated.dcm'));
  assert.ok(summary.added >= 9, `imported ${summary.added}`);
  for (const image of listImages(project.db)) assert.equal(image.kind, 'dicom');
  project.close();
});
