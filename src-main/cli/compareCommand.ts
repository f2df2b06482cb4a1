import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { COMPARED_METHODS, type ComparedMethod } from '../bench/comparedMethods.ts';
import { DEFAULT_MNIST } from './benchCommand.ts';
import { parseIntOption } from './main.ts';
import { fixed, printResult, table } from './output.ts';

function parseMethods(value: string): ComparedMethod[] {
  const names = [...new Set(value.split(',').map((s) => s.trim()))];
  for (const name of names) {
    if (!(COMPARED_METHODS as readonly string[]).includes(name)) throw new InvalidArgumentError(`unknown method '${name}' (choose from ${COMPARED_METHODS.join(', ')})`);
  }
  return names as ComparedMethod[];
}

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('every Bayesian method on MNIST: the first 1,000 pool images labelled, tested on images 8000–9999 (top-1, NLL, ECE, Brier, seconds)')
    .option('--mnist <dir>', 'MNIST t10k idx folder', DEFAULT_MNIST)
    .option('--methods <list>', `comma-separated (default all: ${COMPARED_METHODS.join(',')})`, parseMethods)
    .option('--labels <n>', 'training labels: the first n pool images', parseIntOption(10, 8000), 1000)
    .option('--epochs <n>', 'training epochs', parseIntOption(1, 500), 20)
    .option('--seed <n>', 'seed of every method (initialisation, minibatches, noise)', parseIntOption(0, 2 ** 31), 0)
    .option('--json', 'print JSON')
    .action(async (opts: { mnist: string; methods?: ComparedMethod[]; labels: number; epochs: number; seed: number; json?: boolean }) => {
      if (!fs.existsSync(path.join(opts.mnist, 't10k-images-idx3-ubyte.gz'))) throw new Error(`no MNIST t10k in ${opts.mnist} (give --mnist <dir>)`);
      const [{ initBackend }, { compareMethods }] = await Promise.all([import('../bdl/backend.ts'), import('../bench/methodComparison.ts')]);
      const backend = await initBackend('auto');
      const log = (message: string) => {
        if (!opts.json) process.stderr.write(`${message}\n`);
      };
      const rows = await compareMethods(opts.mnist, { methods: opts.methods, labels: opts.labels, epochs: opts.epochs, seed: opts.seed, onStatus: log });
      printResult(!!opts.json, { backend, labels: opts.labels, epochs: opts.epochs, seed: opts.seed, rows }, () =>
        table([
          ['method', 'top-1', 'NLL', 'ECE', 'Brier', 'train s', 'predict s', 'S'],
          ...rows.map((r) => [r.method, fixed(r.accuracy, 4), fixed(r.nll, 4), fixed(r.ece, 4), fixed(r.brier, 4), fixed(r.trainSeconds, 1), fixed(r.predictSeconds, 1), r.samples]),
        ]),
      );
    });
}
