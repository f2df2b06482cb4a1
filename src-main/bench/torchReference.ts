import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TorchRound {
  torch: string;
  threads: number;
  train_seconds: number;
  score_naive_seconds: number;
  score_trunk_once_seconds: number;
  round_naive_seconds: number;
  round_trunk_once_seconds: number;
  test_accuracy: number;
}

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/bench/torch_round.py');

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

/** The first Python that can `import torch` (Debian's python3-torch lives under /usr/bin/python3). */
export async function findTorchPython(): Promise<string | null> {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    try {
      await run(candidate, ['-c', 'import torch'], 60_000);
      return candidate;
    } catch {
      /* try the next one */
    }
  }
  return null;
}

/** The same standard round in PyTorch, naive and with the deterministic layers computed once. */
export async function torchRound(python: string, mnistDir: string, threads: number): Promise<TorchRound> {
  const stdout = await run(python, [SCRIPT, mnistDir, String(threads)], 30 * 60_000);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as TorchRound;
}
