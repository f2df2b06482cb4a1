import type { Command } from 'commander';
import { openProject } from '../db/project.ts';
import type { RerankModel } from '../ranking/rerank.ts';
import { parseIntOption } from './main.ts';
import { fixed, printResult } from './output.ts';

export function registerRerankCommand(program: Command): void {
  program
    .command('rerank <dir>')
    .description('interactive re-rank: refit a Bayesian last layer on the cached features of the latest trained model with the current labels, and rescore the unlabelled images (seconds, no retrain)')
    .option('--model <model>', "head: 'linear' (closed-form Bayesian linear regression, default, fast) or 'logistic' (softmax regression by Laplace, τ by evidence: seconds per fit)", 'linear')
    .option('--samples <n>', 'posterior samples S per image', parseIntOption(1, 1000), 20)
    .option('--seed <n>', 'random seed of the weight samples', parseIntOption(0, 2 ** 31), 0)
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { model: string; samples: number; seed: number; json?: boolean }) => {
      if (opts.model !== 'linear' && opts.model !== 'logistic') throw new Error("--model must be 'linear' or 'logistic'");
      const project = openProject(dir);
      try {
        const { rerankProject } = await import('../ranking/rerank.ts');
        const r = await rerankProject(project, { model: opts.model as RerankModel, samples: opts.samples, seed: opts.seed });
        printResult(!!opts.json, r, () =>
          [
            `model version ${r.modelVersion.id}: re-rank ${r.rerankCount} of version ${r.baseVersionId} (${opts.model} last layer on its cached features), ${r.labels} labels, ${r.scored} images rescored`,
            `${fixed(r.seconds.total, 2)} s (fit ${fixed(r.seconds.fit, 2)} s, score ${fixed(r.seconds.score, 2)} s, write ${fixed(r.seconds.write, 2)} s)`,
            r.labelsWithoutFeatures > 0 ? `${r.labelsWithoutFeatures} labelled images were imported after version ${r.baseVersionId} and have no features: train again to use them` : '',
          ]
            .filter(Boolean)
            .join('\n'),
        );
      } finally {
        project.close();
      }
    });
}
