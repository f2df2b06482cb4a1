/**
 * One training step of the residual CNN (64 RGB images, MAP, Adam) at 128 and 224 px, and the same
 * network in PyTorch in the same run (scripts/bench/torch_resnet_step.py), for `episteme bench`.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPosterior } from '../bdl/posterior/index.ts';
import { mulberry32 } from '../bdl/util/random.ts';

export const RESNET_BENCH_SIZES = [128, 224] as const;
const BATCH = 64;

export interface ResnetStep {
  size: number;
  /** Median seconds of one step (image conversion, forward, backward, Adam). */
  stepSeconds: number;
  /** Resident memory after the steps, MiB. */
  rssMiB: number;
  torchStepSeconds: number | null;
  ratio: number | null;
}

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/bench/torch_resnet_step.py');

async function episteme(size: number, steps: number): Promise<number> {
  const rand = mulberry32(size);
  const x = Uint8Array.from({ length: BATCH * size * size * 3 }, () => Math.floor(rand() * 256));
  const y = Int32Array.from({ length: BATCH }, (_, i) => i % 2);
  const posterior = createPosterior({ method: 'map', architecture: 'resnet', imageSize: size, channels: 3, numClasses: 2, seed: 0 });
  try {
    const times: number[] = [];
    for (let i = 0; i < steps + 1; i++) {
      const report = await posterior.fit(x, y, { epochs: 1, batchSize: BATCH });
      if (i > 0) times.push(report.seconds);
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  } finally {
    posterior.dispose();
  }
}

function torch(python: string, threads: number, steps: number): Promise<Record<string, { step_seconds: number }> | null> {
  return new Promise((resolve) => {
    execFile(python, [SCRIPT, String(threads), String(steps), ...RESNET_BENCH_SIZES.map(String)], { timeout: 10 * 60_000 }, (error, stdout) => {
      if (error) return resolve(null);
      resolve((JSON.parse(stdout.trim().split('\n').at(-1)!) as { sizes: Record<string, { step_seconds: number }> }).sizes);
    });
  });
}

/** Episteme's step at each size beside PyTorch's (null without a Python that imports torch). */
export async function resnetSteps(python: string | null, threads: number, steps = 3): Promise<ResnetStep[]> {
  const reference = python ? await torch(python, threads, steps) : null;
  const out: ResnetStep[] = [];
  for (const size of RESNET_BENCH_SIZES) {
    const stepSeconds = await episteme(size, steps);
    const torchStepSeconds = reference?.[String(size)]?.step_seconds ?? null;
    out.push({ size, stepSeconds, rssMiB: process.memoryUsage().rss / 2 ** 20, torchStepSeconds, ratio: torchStepSeconds ? stepSeconds / torchStepSeconds : null });
  }
  return out;
}
