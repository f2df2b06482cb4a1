import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { RoundResult } from '../bench/standardRound.ts';
import type { TorchRound } from '../bench/torchReference.ts';
import { parseIntOption } from './main.ts';
import { fixed, printResult, table } from './output.ts';
import { progressBar } from './progress.ts';

export const DEFAULT_MNIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/mnist-t10k');

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('the standard round (MNIST, 1,000 labels, 20 epochs, 7,000 images scored with T = 20) beside PyTorch, and import throughput')
    .option('--mnist <dir>', 'MNIST t10k idx folder', DEFAULT_MNIST)
    .option('--epochs <n>', 'training epochs of the round', parseIntOption(1, 500), 20)
    .option('--import-files <n>', 'PNG files for the import benchmark (0 to skip)', parseIntOption(0, 1_000_000), 5000)
    .option('--no-torch', 'skip the PyTorch reference')
    .option('--pool-rank <n>', 'pool size for the last-layer ranking benchmark (0 to skip)', parseIntOption(0, 10_000_000), 100_000)
    .option('--rounds-memory <n>', 'consecutive rounds for the memory benchmark (0 to skip; 10 for the README figure)', parseIntOption(0, 1000), 0)
    .option('--memory-epochs <n>', 'training epochs per memory round', parseIntOption(1, 500), 2)
    .option('--cli-runs <n>', 'runs of each command in the CLI start-up benchmark (0 to skip)', parseIntOption(0, 1000), 5)
    .option('--resnet-steps <n>', 'timed training steps of the residual CNN at 128 and 224 px, beside PyTorch (0 to skip)', parseIntOption(0, 100), 3)
    .option('--json', 'print JSON')
    .action(async (opts: { mnist: string; epochs: number; importFiles: number; torch: boolean; poolRank: number; roundsMemory: number; memoryEpochs: number; cliRuns: number; resnetSteps: number; json?: boolean }) => {
      if (!fs.existsSync(path.join(opts.mnist, 't10k-images-idx3-ubyte.gz'))) throw new Error(`no MNIST t10k in ${opts.mnist} (give --mnist <dir>)`);
      const [{ cliStartup }, { importThroughput }, { interactiveBench, interactiveBenchText }, { standardRound }, { findTorchPython, torchRound }] = await Promise.all([
        import('../bench/cliStartup.ts'),
        import('../bench/importThroughput.ts'),
        import('../bench/interactive.ts'),
        import('../bench/standardRound.ts'),
        import('../bench/torchReference.ts'),
      ]);
      // First, while nothing of the benchmark runs beside it.
      const cli = opts.cliRuns > 0 ? await cliStartup(opts.cliRuns) : null;
      const bar = progressBar('round', !opts.json && process.stderr.isTTY === true);
      const { features, ...round } = await standardRound(opts.mnist, { epochs: opts.epochs, onProgress: (p) => bar.update(p.fraction, p.phase) });
      const episteme: RoundResult = round;
      bar.done();
      const memoryBar = progressBar('memory rounds', opts.roundsMemory > 0 && !opts.json && process.stderr.isTTY === true);
      const interactive = await interactiveBench(opts.mnist, features, {
        poolSize: opts.poolRank,
        memoryRounds: opts.roundsMemory,
        memoryEpochs: opts.memoryEpochs,
        onMemoryRound: (r) => memoryBar.update(r / opts.roundsMemory, `round ${r}`),
      });
      memoryBar.done();
      const python = opts.torch ? await findTorchPython() : null;
      const torch: TorchRound | null = python ? await torchRound(python, opts.mnist, os.availableParallelism()) : null;
      const imports = opts.importFiles > 0 ? await importThroughput(opts.importFiles) : null;
      const { resnetSteps } = await import('../bench/resnetStep.ts');
      const resnet = opts.resnetSteps > 0 ? await resnetSteps(python, os.availableParallelism(), opts.resnetSteps) : null;
      const result = {
        episteme: { ...episteme, cores: os.availableParallelism() },
        torch,
        ratios: torch && {
          roundVsTorchNaive: episteme.roundSeconds / torch.round_naive_seconds,
          roundVsTorchTrunkOnce: episteme.roundSeconds / torch.round_trunk_once_seconds,
        },
        import: imports,
        interactive,
        cli,
        resnet,
      };
      printResult(!!opts.json, result, () =>
        [
          table([
            ['', 'train s', 'score s', 'round s', 'test accuracy', 'backend'],
            ['Episteme', fixed(episteme.trainSeconds, 1), fixed(episteme.scoreSeconds, 1), fixed(episteme.roundSeconds, 1), fixed(episteme.testAccuracy), episteme.backendDetail],
            ...(torch
              ? [
                  [`PyTorch ${torch.torch} naive`, fixed(torch.train_seconds, 1), fixed(torch.score_naive_seconds, 1), fixed(torch.round_naive_seconds, 1), fixed(torch.test_accuracy), `cpu, ${torch.threads} threads`],
                  [`PyTorch trunk once`, fixed(torch.train_seconds, 1), fixed(torch.score_trunk_once_seconds, 1), fixed(torch.round_trunk_once_seconds, 1), fixed(torch.test_accuracy), `cpu, ${torch.threads} threads`],
                ]
              : []),
          ]),
          result.ratios ? `Episteme / PyTorch: ${fixed(result.ratios.roundVsTorchNaive, 2)} (naive), ${fixed(result.ratios.roundVsTorchTrunkOnce, 2)} (trunk once)` : 'PyTorch not found: no reference (install python3-torch)',
          imports ? `import: ${imports.files} PNG files in ${fixed(imports.seconds, 1)} s = ${fixed(imports.filesPerSecond, 0)} files/s` : '',
          ...interactiveBenchText(interactive),
          ...(resnet ?? []).map(
            (r) =>
              `residual CNN, one step of 64 RGB images at ${r.size} px: ${fixed(r.stepSeconds, 2)} s` +
              (r.torchStepSeconds !== null ? ` (PyTorch ${fixed(r.torchStepSeconds, 2)} s, ratio ${fixed(r.ratio!, 2)})` : '') +
              `, resident ${fixed(r.rssMiB, 0)} MiB`,
          ),
          cli ? `CLI start-up (${cli.mode}, median of ${cli.runs}): --help ${fixed(cli.helpSeconds, 2)} s, label ${fixed(cli.labelSeconds, 2)} s` : '',
        ].join('\n'),
      );
    });
}
