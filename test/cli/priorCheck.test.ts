import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { episteme, epistemeJson } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

test('prior-check writes an SVG with two panels of S functions, and a PNG', async () => {
  const root = tempDir();
  const svgFile = path.join(root, 'prior.svg');
  const run = await epistemeJson(['prior-check', '--out', svgFile, '--samples', '6', '--width', '20', '--prior', 'laplace']);
  assert.equal(run.prior, 'laplace');
  assert.equal(run.samples, 6);
  const svg = fs.readFileSync(svgFile, 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.deepEqual([...svg.matchAll(/data-activation="([^"]+)"/g)].map((m) => m[1]), ['tanh', 'ReLU']);
  assert.equal([...svg.matchAll(/<polyline class="sample"/g)].length, 12);
  assert.doesNotMatch(svg, /NaN|Infinity/);

  const pngFile = path.join(root, 'prior.png');
  await epistemeJson(['prior-check', '--out', pngFile]);
  assert.deepEqual([...fs.readFileSync(pngFile).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});

test('prior-check and train refuse bad priors with a clear message', async () => {
  const root = tempDir();
  const bad = await episteme(['prior-check', '--out', path.join(root, 'x.svg'), '--prior', 'spike-slab']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--prior must be gaussian or laplace/);
  const ext = await episteme(['prior-check', '--out', path.join(root, 'x.txt')]);
  assert.match(ext.stderr, /--out must end in .svg or .png/);
  const project = path.join(root, 'project');
  await epistemeJson(['init', project, '--classes', 'a,b', '--image-size', '28']);
  const combo = await episteme(['train', project, '--method', 'vi', '--prior', 'spike-slab']);
  assert.notEqual(combo.code, 0);
  assert.match(combo.stderr, /prior 'spike-slab' is not supported for method 'vi' \(supported: gaussian\)/);
  const unknown = await episteme(['train', project, '--prior', 'cauchy']);
  assert.match(unknown.stderr, /expected one of gaussian, laplace, spike-slab/);
});
