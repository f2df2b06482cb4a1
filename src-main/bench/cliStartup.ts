import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/** bin/episteme: two levels up from src-main/bench, as from the bundle in dist/cli. */
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/episteme');

export interface CliStartup {
  runs: number;
  /** 'bundle' (dist/cli) or 'source' (tsx: EPISTEME_SOURCE=1, or the bundle missing or stale). */
  mode: 'bundle' | 'source';
  /** Median wall-clock seconds of `episteme --help` and of `episteme label <dir> <image> <class>`, the process spawned each time. */
  helpSeconds: number;
  labelSeconds: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function timed(args: string[], home: string): { seconds: number; stderr: string } {
  const started = performance.now();
  const result = spawnSync(BIN, args, { encoding: 'utf8', env: { ...process.env, EPISTEME_HOME: home } });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`episteme ${args.join(' ')} failed (${result.status}): ${result.stderr || result.error?.message}`);
  return { seconds, stderr: result.stderr };
}

/** Start-up of the real command line: `--help`, and one label on a two-image project, `runs` times each. */
export async function cliStartup(runs = 5): Promise<CliStartup> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-bench-cli-'));
  try {
    const images = [0, 1].map((i) => path.join(root, `image-${i}.png`));
    await Promise.all(images.map((file, i) => sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 40 + 150 * i, g: 80, b: 120 } } }).png().toFile(file)));
    const dir = path.join(root, 'project');
    const run = (args: string[]) => timed(args, path.join(root, 'home'));
    run(['init', dir, '--classes', 'a,b', '--image-size', '28']);
    run(['import', dir, ...images]);
    const help = Array.from({ length: runs }, () => run(['--help']));
    const label = Array.from({ length: runs }, (_, i) => run(['label', dir, images[i % 2], i % 2 ? 'b' : 'a']));
    return {
      runs,
      mode: help.some((r) => /running from source/.test(r.stderr)) || process.env.EPISTEME_SOURCE === '1' ? 'source' : 'bundle',
      helpSeconds: median(help.map((r) => r.seconds)),
      labelSeconds: median(label.map((r) => r.seconds)),
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
