import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { PRIOR_CHECK_LIMITS } from '../bdl/priorCheckLimits.ts';
import type { FunctionPrior } from '../bdl/priorPredictive.ts';
import { parseIntOption } from './main.ts';
import { printResult } from './output.ts';

function parseSigma(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n >= 0 && n <= PRIOR_CHECK_LIMITS.sigma)) throw new InvalidArgumentError(`expected a number from 0 to ${PRIOR_CHECK_LIMITS.sigma}`);
  return n;
}

/** Writes the check's SVG, or a PNG rasterised from it when `out` ends in .png. */
export async function writePriorCheck(out: string, svg: string): Promise<void> {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  if (out.toLowerCase().endsWith('.png')) {
    const { default: sharp } = await import('sharp');
    await sharp(Buffer.from(svg), { density: 144 }).png().toFile(out);
  } else fs.writeFileSync(out, svg);
}

export function registerPriorCheckCommand(program: Command): void {
  program
    .command('prior-check')
    .description('prior predictive check: draw functions from the weight prior of a tanh and a ReLU network (1-D input) and plot them')
    .requiredOption('--out <file>', 'the plot: .svg, or .png (rasterised)')
    .option('--prior <prior>', 'gaussian | laplace (same variance)', 'gaussian')
    .option('--samples <n>', 'functions drawn', parseIntOption(1, 1000), 10)
    .option('--width <n>', 'hidden units per layer', parseIntOption(1, PRIOR_CHECK_LIMITS.width), 50)
    .option('--depth <n>', 'hidden layers', parseIntOption(1, PRIOR_CHECK_LIMITS.depth), 2)
    .option('--sigma-w <s>', 'weight scale: weights ~ σ_w/√fan_in', parseSigma, 1)
    .option('--sigma-b <s>', 'bias standard deviation σ_b', parseSigma, 1)
    .option('--seed <n>', 'random seed', parseIntOption(0, 2 ** 31), 0)
    .option('--json', 'print JSON (options and the file written)')
    .action(async (opts: { out: string; prior: string; samples: number; width: number; depth: number; sigmaW: number; sigmaB: number; seed: number; json?: boolean }) => {
      if (opts.prior !== 'gaussian' && opts.prior !== 'laplace') throw new Error('--prior must be gaussian or laplace (spike-slab is a prior on the input layer of the image model: use it with train)');
      if (!(opts.sigmaW > 0)) throw new Error('--sigma-w must be > 0');
      if (!/\.(svg|png)$/i.test(opts.out)) throw new Error('--out must end in .svg or .png');
      const [{ initBackend }, { priorCheckPlot }] = await Promise.all([import('../bdl/backend.ts'), import('../plots/priorCheckSvg.ts')]);
      await initBackend('auto');
      const plot = await priorCheckPlot({
        prior: opts.prior as FunctionPrior,
        samples: opts.samples,
        width: opts.width,
        depth: opts.depth,
        sigmaW: opts.sigmaW,
        sigmaB: opts.sigmaB,
        seed: opts.seed,
      });
      const out = path.resolve(opts.out);
      await writePriorCheck(out, plot.svg);
      printResult(!!opts.json, { out, ...plot.options }, () => `wrote ${out}: ${opts.samples} ${opts.prior}-prior functions of a tanh and a ReLU network`);
    });
}
