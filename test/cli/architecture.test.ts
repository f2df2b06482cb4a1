import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { formatCsv } from '../../src-main/util/csv.ts';
import { episteme, epistemeJson } from '../helpers/cli.ts';
import { writeTwoClassPngs } from '../helpers/images.ts';
import { tempDir } from '../helpers/tmp.ts';

test('--architecture: chosen at init by image size, changeable, recorded by every version, refused where it does not fit', async () => {
  const root = tempDir();
  const project = path.join(root, 'p64');
  const created = await epistemeJson(['init', project, '--classes', 'bars,rings', '--image-size', '64']);
  assert.equal(created.architecture, 'resnet', 'resnet from 64 px up');
  const small = await epistemeJson(['init', path.join(root, 'p28'), '--classes', 'a,b', '--image-size', '28']);
  assert.equal(small.architecture, 'gal-cnn', 'the Gal CNN at 28 px');

  const refused = await episteme(['init', path.join(root, 'p224'), '--classes', 'a,b', '--image-size', '224', '--architecture', 'gal-cnn']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /'gal-cnn' does not fit 224 px/);
  assert.equal(fs.existsSync(path.join(root, 'p224', 'episteme.sqlite')), false, 'nothing stored');
  const unknown = await episteme(['init', path.join(root, 'px'), '--classes', 'a,b', '--architecture', 'vgg']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /expected one of gal-cnn, resnet/);

  const images = await writeTwoClassPngs(path.join(root, 'images'), 12);
  await epistemeJson(['import', project, path.join(root, 'images')]);
  const csv = path.join(root, 'labels.csv');
  fs.writeFileSync(csv, formatCsv([['path', 'label'], ...images.map((i) => [i.file, i.label])]));
  await epistemeJson(['label', project, '--csv', csv]);

  const resnet = await epistemeJson(['train', project, '--epochs', '1', '--method', 'map']);
  assert.equal(resnet.hyper.architecture, 'resnet');
  const once = await epistemeJson(['train', project, '--epochs', '1', '--method', 'map', '--architecture', 'gal-cnn']);
  assert.equal(once.hyper.architecture, 'gal-cnn', 'this version only');
  assert.equal((await epistemeJson(['architecture', project])).architecture, 'resnet');

  assert.equal((await epistemeJson(['architecture', project, 'gal-cnn'])).architecture, 'gal-cnn');
  const later = await epistemeJson(['train', project, '--epochs', '1', '--method', 'map']);
  assert.equal(later.hyper.architecture, 'gal-cnn');
  const status = await epistemeJson(['status', project]);
  assert.deepEqual(status.models.map((m: { hyper: { architecture: string } }) => m.hyper.architecture), ['resnet', 'gal-cnn', 'gal-cnn']);

  const lora = await episteme(['train', project, '--method', 'lora-ensemble', '--backbone', path.join(root, 'none'), '--architecture', 'resnet']);
  assert.equal(lora.code, 1);
  assert.match(lora.stderr, /no architecture of its own/);
});
