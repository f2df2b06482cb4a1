import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { upsertImage } from '../../src-main/db/images.ts';
import { addLabel, currentLabel, currentLabels, labelHistory, undoLast } from '../../src-main/db/labels.ts';
import { migrate, readMigrations, schemaVersion } from '../../src-main/db/migrations.ts';
import { DB_FILE, initProject, openProject } from '../../src-main/db/project.ts';
import { tempDir } from '../helpers/tmp.ts';

test('a version-2 project upgrades to regression support: rows, ids, undo links and the append-only guard intact, after a backup', () => {
  const dir = path.join(tempDir(), 'v2');
  fs.mkdirSync(dir);
  const db = new BetterSqlite3(path.join(dir, DB_FILE));
  db.pragma('foreign_keys = ON');
  migrate(db, readMigrations().slice(0, 2));
  db.prepare("INSERT INTO project (id, name, image_size, channels, created_at) VALUES (1, 'old', 28, 1, '2025-01-01')").run();
  db.prepare("INSERT INTO classes (idx, name) VALUES (0, 'normal'), (1, 'pneumonia')").run();
  const image = db.prepare("INSERT INTO images (sha256, path, kind, width, height, imported_at) VALUES (?, ?, 'raster', 28, 28, '2025-01-01')");
  image.run('a', '/a.png');
  image.run('b', '/b.png');
  const event = db.prepare('INSERT INTO label_events (image_id, kind, class_idx, undoes_event_id, annotator, created_at, ms_spent, acquisition, acquisition_score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  event.run(1, 'class', 0, null, 'dr a', '2025-01-01T00:00:00Z', 1200, 'bald', 0.4);
  event.run(1, 'class', 1, null, 'dr a', '2025-01-01T00:00:01Z', 900, 'bald', 0.3);
  event.run(1, 'undo', null, 2, 'dr a', '2025-01-01T00:00:02Z', null, null, null);
  event.run(2, 'skip', null, null, 'dr b', '2025-01-01T00:00:03Z', null, null, null);
  const before = db.prepare('SELECT * FROM label_events ORDER BY id').all();
  db.close();

  const project = openProject(dir);
  assert.equal(schemaVersion(project.db), readMigrations().at(-1)!.version);
  assert.equal(project.meta.task, 'classification', 'existing projects are classification');
  assert.equal(project.meta.target, null);
  const after = project.db.prepare('SELECT * FROM label_events ORDER BY id').all() as Record<string, unknown>[];
  assert.deepEqual(after.map(({ value, ...rest }) => (assert.equal(value, null), rest)), before);
  assert.deepEqual(currentLabels(project.db).map((l) => [l.imageId, l.kind, l.classIdx]), [[1, 'class', 0], [2, 'skip', null]]);
  assert.deepEqual(project.db.pragma('foreign_key_check'), []);
  assert.throws(() => project.db.prepare('DELETE FROM label_events').run(), /append-only/);
  assert.throws(() => project.db.prepare('UPDATE label_events SET annotator = ?').run('x'), /append-only/);
  // Undo still walks back through the migrated events.
  assert.equal(undoLast(project.db, 'dr a')?.id, 1);
  assert.equal(currentLabel(project.db, 1), undefined);
  assert.match(fs.readdirSync(path.join(dir, 'backups'))[0], /^before-migration-v2-/);
  project.close();
});

function regressionProject(range: { min?: number; max?: number } = { min: 0, max: 10 }) {
  const project = initProject(path.join(tempDir(), 'r'), { task: 'regression', target: { name: 'severity', ...range } });
  const ids = [0, 1].map((i) => upsertImage(project.db, { sha256: `s${i}`, path: `/img/${i}.png`, kind: 'raster', width: 8, height: 8 }).id);
  return { project, ids };
}

test('value events: stored, current, undone by appending, and refused when not a finite number in range', () => {
  const { project, ids } = regressionProject();
  addLabel(project.db, ids[0], { kind: 'value', value: 3.5 }, { annotator: 'a' });
  addLabel(project.db, ids[0], { kind: 'value', value: 7.25 }, { annotator: 'a' });
  addLabel(project.db, ids[1], { kind: 'value', value: 0 }, { annotator: 'a' });
  assert.deepEqual(currentLabels(project.db).map((l) => [l.kind, l.value]), [['value', 7.25], ['value', 0]]);
  assert.equal(undoLast(project.db, 'a')?.imageId, ids[1]);
  assert.equal(undoLast(project.db, 'a')?.value, 7.25);
  assert.equal(currentLabel(project.db, ids[0])?.value, 3.5, 'the earlier value is current again');
  assert.deepEqual(labelHistory(project.db, ids[0]).map((e) => [e.kind, e.value]), [['value', 3.5], ['value', 7.25], ['undo', null]]);

  const events = labelHistory(project.db, ids[0]).length;
  for (const [value, message] of [[10.01, /outside the range of severity \(0 to 10\)/], [-1, /outside/], [Number.NaN, /finite number/], [Infinity, /finite number/]] as const) {
    assert.throws(() => addLabel(project.db, ids[0], { kind: 'value', value }, { annotator: 'a' }), message);
  }
  assert.throws(() => addLabel(project.db, ids[0], { kind: 'class', classIdx: 0 }, { annotator: 'a' }), /regression project/);
  assert.equal(labelHistory(project.db, ids[0]).length, events, 'nothing was written');
  // The database refuses what slips past the code.
  assert.throws(() => project.db.prepare("INSERT INTO label_events (image_id, kind, annotator, created_at) VALUES (?, 'value', 'a', 'x')").run(ids[0]), /CHECK/);
  assert.throws(() => project.db.prepare("INSERT INTO label_events (image_id, kind, value, annotator, created_at) VALUES (?, 'value', ?, 'a', 'x')").run(ids[0], Infinity), /CHECK/);
  project.close();

  const open = regressionProject({});
  addLabel(open.project.db, open.ids[0], { kind: 'value', value: -1e6 }, { annotator: 'a' });
  assert.equal(currentLabel(open.project.db, open.ids[0])?.value, -1e6, 'no range, any finite number up to ±1e300');
  addLabel(open.project.db, open.ids[0], { kind: 'value', value: -1e300 }, { annotator: 'a' });
  // Beyond ±1e300 a clear message, not the database's CHECK failure.
  for (const value of [1.5e308, -2e300]) assert.throws(() => addLabel(open.project.db, open.ids[0], { kind: 'value', value }, { annotator: 'a' }), /too large: a value must lie between -1e300 and 1e300/);
  open.project.close();
});

test('regression projects: target validated at creation, reopened with task and target; classification refuses values', () => {
  const root = tempDir();
  assert.throws(() => initProject(path.join(root, 'a'), { task: 'regression' }), /target name/);
  assert.throws(() => initProject(path.join(root, 'b'), { task: 'regression', target: { name: 's', min: 3, max: 3 } }), /below its maximum/);
  assert.throws(() => initProject(path.join(root, 'c'), { task: 'regression', target: { name: 's' }, classes: ['x', 'y'] }), /no classes/);
  assert.throws(() => initProject(path.join(root, 'd'), { task: 'regression', target: { name: 's', max: Infinity } }), /finite/);
  initProject(path.join(root, 'e'), { task: 'regression', target: { name: ' severity ', unit: 'pts', max: 4 } }).close();
  const reopened = openProject(path.join(root, 'e'));
  assert.deepEqual(reopened.meta.target, { name: 'severity', unit: 'pts', min: null, max: 4 });
  reopened.close();

  const cls = initProject(path.join(root, 'f'), { classes: ['x', 'y'] });
  const id = upsertImage(cls.db, { sha256: 'z', path: '/z.png', kind: 'raster', width: 8, height: 8 }).id;
  assert.throws(() => addLabel(cls.db, id, { kind: 'value', value: 1 }, { annotator: 'a' }), /classification project/);
  cls.close();
});
