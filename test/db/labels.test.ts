import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { upsertImage } from '../../src-main/db/images.ts';
import { addLabel, currentLabel, currentLabels, labelHistory, undoLast } from '../../src-main/db/labels.ts';
import { initProject } from '../../src-main/db/project.ts';
import { tempDir } from '../helpers/tmp.ts';

function projectWithImages(n: number) {
  const project = initProject(path.join(tempDir(), 'p'), { classes: ['normal', 'pneumonia'] });
  const ids = Array.from({ length: n }, (_, i) => upsertImage(project.db, { sha256: `sha${i}`, path: `/img/${i}.png`, kind: 'raster', width: 8, height: 8 }).id);
  return { project, ids };
}

test('a label event records who, when, how long, and which model and score proposed the image', () => {
  const { project, ids } = projectWithImages(1);
  const event = addLabel(project.db, ids[0], { kind: 'class', classIdx: 1 }, { annotator: 'Dr Ada', msSpent: 1234.4, modelVersionId: null, acquisition: 'bald', acquisitionScore: 0.42 });
  assert.equal(event.annotator, 'Dr Ada');
  assert.equal(event.msSpent, 1234);
  assert.equal(event.acquisition, 'bald');
  assert.equal(event.acquisitionScore, 0.42);
  assert.ok(!Number.isNaN(Date.parse(event.createdAt)));
  assert.deepEqual(currentLabel(project.db, ids[0])?.classIdx, 1);
  project.close();
});

test('the current label is the latest event; undo appends an event and walks back further when repeated', () => {
  const { project, ids } = projectWithImages(2);
  const who = { annotator: 'a' };
  addLabel(project.db, ids[0], { kind: 'class', classIdx: 0 }, who);
  addLabel(project.db, ids[0], { kind: 'class', classIdx: 1 }, who);
  addLabel(project.db, ids[1], { kind: 'unsure' }, who);
  assert.deepEqual(currentLabels(project.db).map((l) => [l.imageId, l.kind, l.classIdx]), [[ids[0], 'class', 1], [ids[1], 'unsure', null]]);

  assert.equal(undoLast(project.db, 'a')?.imageId, ids[1]);
  assert.equal(currentLabel(project.db, ids[1]), undefined);
  assert.equal(undoLast(project.db, 'a')?.imageId, ids[0]);
  assert.equal(currentLabel(project.db, ids[0])?.classIdx, 0, 'the earlier label is current again');
  assert.equal(undoLast(project.db, 'someone else'), null, 'undo only touches the annotator\'s own labels');
  assert.deepEqual(labelHistory(project.db, ids[0]).map((e) => e.kind), ['class', 'class', 'undo']);
  project.close();
});

test('label events cannot be updated or deleted: the audit trail is append-only', () => {
  const { project, ids } = projectWithImages(1);
  addLabel(project.db, ids[0], { kind: 'class', classIdx: 0 }, { annotator: 'a' });
  assert.throws(() => project.db.prepare('UPDATE label_events SET class_idx = 1').run(), /append-only/);
  assert.throws(() => project.db.prepare('DELETE FROM label_events').run(), /append-only/);
  assert.equal(labelHistory(project.db, ids[0]).length, 1);
  project.close();
});

test('bad labels are refused and nothing is written', () => {
  const { project, ids } = projectWithImages(1);
  assert.throws(() => addLabel(project.db, 999, { kind: 'class', classIdx: 0 }, { annotator: 'a' }), /no image/);
  assert.throws(() => addLabel(project.db, ids[0], { kind: 'class', classIdx: 7 }, { annotator: 'a' }), /no class/);
  assert.throws(() => addLabel(project.db, ids[0], { kind: 'skip' }, { annotator: '  ' }), /annotator/);
  assert.equal(labelHistory(project.db, ids[0]).length, 0);
  project.close();
});
