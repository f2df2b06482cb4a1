import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { migrate, readMigrations, schemaVersion } from '../../src-main/db/migrations.ts';
import { DB_FILE, initProject, openProject } from '../../src-main/db/project.ts';
import { tempDir } from '../helpers/tmp.ts';

test('migrations are numbered without gaps and the latest is applied to a new project', () => {
  const migrations = readMigrations();
  assert.ok(migrations.length >= 2);
  assert.deepEqual(migrations.map((m) => m.version), migrations.map((_, i) => i + 1));
  const project = initProject(path.join(tempDir(), 'p'), { classes: ['a', 'b'] });
  assert.equal(schemaVersion(project.db), migrations.at(-1)!.version);
  const applied = project.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
  assert.deepEqual(applied.map((r) => r.version), migrations.map((m) => m.version));
  assert.equal(project.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(project.db.pragma('synchronous', { simple: true }), 2, 'synchronous=FULL');
  project.close();
});

test('a project written by version 1 of the schema is migrated on open, keeping its data, after a backup', () => {
  const dir = path.join(tempDir(), 'old');
  fs.mkdirSync(dir);
  const db = new BetterSqlite3(path.join(dir, DB_FILE));
  migrate(db, readMigrations().slice(0, 1));
  db.prepare("INSERT INTO project (id, name, image_size, channels, created_at) VALUES (1, 'old', 28, 1, '2025-01-01')").run();
  db.prepare("INSERT INTO classes (idx, name) VALUES (0, 'normal'), (1, 'pneumonia')").run();
  db.prepare("INSERT INTO images (sha256, path, kind, width, height, imported_at) VALUES ('ab', '/x.png', 'raster', 28, 28, '2025-01-01')").run();
  db.prepare("INSERT INTO label_events (image_id, kind, class_idx, annotator, created_at) VALUES (1, 'class', 1, 'dr a', '2025-01-01')").run();
  assert.equal(schemaVersion(db), 1);
  db.close();

  const project = openProject(dir);
  assert.equal(schemaVersion(project.db), readMigrations().at(-1)!.version);
  assert.deepEqual(project.classes, ['normal', 'pneumonia']);
  const current = project.db.prepare('SELECT image_id, class_idx FROM current_labels').all();
  assert.deepEqual(current, [{ image_id: 1, class_idx: 1 }]);
  const backups = fs.readdirSync(path.join(dir, 'backups'));
  assert.equal(backups.length, 1);
  assert.match(backups[0], /^before-migration-v1-/);
  const backup = new BetterSqlite3(path.join(dir, 'backups', backups[0]), { readonly: true });
  assert.equal(schemaVersion(backup), 1);
  backup.close();
  project.close();
});

test('a project from a newer schema is refused rather than damaged', () => {
  const dir = path.join(tempDir(), 'new');
  initProject(dir, { classes: ['a', 'b'] }).close();
  const db = new BetterSqlite3(path.join(dir, DB_FILE));
  db.pragma('user_version = 999');
  db.close();
  assert.throws(() => openProject(dir), /newer Episteme/);
});

test('init refuses bad class lists and an existing project', () => {
  const root = tempDir();
  assert.throws(() => initProject(path.join(root, 'a'), { classes: ['only'] }), /at least two/);
  assert.throws(() => initProject(path.join(root, 'b'), { classes: ['x', 'X'] }), /unique/);
  assert.throws(() => initProject(path.join(root, 'c'), { classes: ['x', 'y\u0000'] }), /control character/);
  initProject(path.join(root, 'd'), { classes: ['x', 'y'] }).close();
  assert.throws(() => initProject(path.join(root, 'd'), { classes: ['x', 'y'] }), /already holds a project/);
  assert.throws(() => openProject(path.join(root, 'nothing')), /not an Episteme project/);
});
