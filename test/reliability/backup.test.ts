import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { episteme, epistemeJson } from '../helpers/cli.ts';
import { writeTwoClassPngs } from '../helpers/images.ts';
import { tempDir } from '../helpers/tmp.ts';

test('backup, restore and check through the CLI', async () => {
  const root = tempDir();
  const images = await writeTwoClassPngs(path.join(root, 'images'), 3);
  const project = path.join(root, 'p');
  await epistemeJson(['init', project, '--classes', 'bars,rings']);
  await epistemeJson(['import', project, path.join(root, 'images')]);
  await epistemeJson(['label', project, images[0].file, images[0].label]);
  const { backup } = await epistemeJson(['backup', project]);
  assert.ok(fs.existsSync(backup));

  await epistemeJson(['label', project, images[1].file, images[1].label]);
  assert.equal((await epistemeJson(['status', project])).unlabelled, 4);
  const restored = await epistemeJson(['restore', project, backup]);
  assert.ok(fs.existsSync(restored.safetyCopy), 'the replaced database is kept');
  assert.equal((await epistemeJson(['status', project])).unlabelled, 5, 'back to the state of the backup');

  assert.equal((await epistemeJson(['check', project])).ok, true);
  const cached = fs.readdirSync(path.join(project, 'cache'), { recursive: true }).map(String).find((f) => f.endsWith('.input.u8'))!;
  const file = path.join(project, 'cache', cached);
  const bytes = fs.readFileSync(file);
  bytes[5] ^= 0xff;
  fs.writeFileSync(file, bytes);
  const damaged = await episteme(['check', project, '--json']);
  assert.equal(damaged.code, 1);
  assert.equal(JSON.parse(damaged.stdout).damagedCache.length, 1);
  assert.equal((await epistemeJson(['check', project, '--repair'])).ok, true, '--repair rebuilds it from the source');

  fs.writeFileSync(path.join(root, 'garbage.sqlite'), 'not a database');
  const refused = await episteme(['restore', project, path.join(root, 'garbage.sqlite')]);
  assert.equal(refused.code, 1);
  assert.equal((await epistemeJson(['status', project])).unlabelled, 5, 'a bad backup changes nothing');
});
