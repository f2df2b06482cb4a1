import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { initProject } from '../db/project.ts';
import { importPaths } from '../import/importer.ts';

/** Import throughput on generated 64×64 grayscale PNGs into a 28×28 project: files per second. */
export async function importThroughput(count = 5000): Promise<{ files: number; seconds: number; filesPerSecond: number }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-bench-import-'));
  try {
    const imagesDir = path.join(root, 'images');
    fs.mkdirSync(imagesDir);
    const size = 64;
    for (let i = 0; i < count; i++) {
      const pixels = Buffer.alloc(size * size);
      let state = i + 1;
      for (let p = 0; p < pixels.length; p++) pixels[p] = (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
      await sharp(pixels, { raw: { width: size, height: size, channels: 1 } }).png().toFile(path.join(imagesDir, `img-${i}.png`));
    }
    const project = initProject(path.join(root, 'project'), { classes: ['a', 'b'], imageSize: 28 });
    const started = performance.now();
    const summary = await importPaths(project, [imagesDir]);
    const seconds = (performance.now() - started) / 1000;
    project.close();
    if (summary.failed.length) throw new Error(`import benchmark: ${summary.failed.length} files failed`);
    return { files: summary.added, seconds, filesPerSecond: summary.added / seconds };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
