import path from 'node:path';
import type { Command } from 'commander';
import { openProject } from '../db/project.ts';
import { evaluateOnCsv } from '../jobs/evaluation.ts';
import { trainAndScore } from '../jobs/training.ts';
import { QUEUE_ACQUISITIONS, rankedQueue, type QueueAcquisition } from '../ranking/queue.ts';
import { METHOD_NAMES as METHODS } from '../service/contract.ts';
import { parseIntOption } from './main.ts';
import { fixed, printResult, table } from './output.ts';
import { progressBar } from './progress.ts';

export function registerModelCommands(program: Command): void {
  program
    .command('train <dir>')
    .description('train a model version on the labelled images (in a worker thread), then score the unlabelled pool')
    .option('--method <method>', METHODS.join(' | '), 'mc-dropout')
    .option('--epochs <n>', 'training epochs (default: 20, more for small label sets so that there are at least ~250 gradient steps)', parseIntOption(1, 500))
    .option('--seed <n>', 'random seed', parseIntOption(0, 2 ** 31), 0)
    .option('--samples <n>', 'posterior samples T for scoring', parseIntOption(1, 1000), 20)
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { method: string; epochs?: number; seed: number; samples: number; json?: boolean }) => {
      if (!(METHODS as readonly string[]).includes(opts.method)) throw new Error(`--method must be one of ${METHODS.join(', ')}`);
      const project = openProject(dir);
      const bar = progressBar('train', !opts.json && process.stderr.isTTY === true);
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      try {
        const version = await trainAndScore(project, {
          method: opts.method as (typeof METHODS)[number],
          epochs: opts.epochs,
          seed: opts.seed,
          mcSamples: opts.samples,
          signal: controller.signal,
          onProgress: (p) => bar.update(p.fraction, p.phase === 'training' ? `epoch ${p.epoch}/${p.epochs} loss ${fixed(p.loss)}` : 'scoring'),
        });
        bar.done();
        printResult(!!opts.json, version, () => {
          const m = version.metrics;
          return [
            `model version ${version.id} (${version.method}) trained on ${version.nLabels} labels in ${version.trainSeconds.toFixed(1)} s on the ${version.backend} backend`,
            m ? `held-out (${m.heldOut} images): accuracy ${fixed(m.accuracy)}, NLL ${fixed(m.nll)}, ECE ${fixed(m.ece)}, Brier ${fixed(m.brier)}` : 'fewer than 10 labels: no held-out metrics',
          ].join('\n');
        });
      } finally {
        process.off('SIGINT', onSignal);
        project.close();
      }
    });

  program
    .command('rank <dir>')
    .description('the unlabelled images, most informative first, by the latest model version')
    .option('--acquisition <name>', QUEUE_ACQUISITIONS.join(' | '), 'bald')
    .option('--top <n>', 'rows to print', parseIntOption(1, 10_000_000), 20)
    .option('--json', 'print JSON')
    .action((dir: string, opts: { acquisition: string; top: number; json?: boolean }) => {
      if (!(QUEUE_ACQUISITIONS as readonly string[]).includes(opts.acquisition)) throw new Error(`--acquisition must be one of ${QUEUE_ACQUISITIONS.join(', ')}`);
      const project = openProject(dir);
      try {
        const queue = rankedQueue(project, opts.acquisition as QueueAcquisition);
        const rows = queue.entries.slice(0, opts.top).map((entry) => ({
          imageId: entry.image.id,
          path: entry.image.path,
          score: entry.score,
          predicted: entry.scores ? project.classes[entry.scores.predicted] : null,
          probabilities: entry.scores ? Object.fromEntries(project.classes.map((c, i) => [c, entry.scores!.probsMean[i]])) : null,
          epistemic: entry.scores?.epistemic ?? null,
          aleatoric: entry.scores?.aleatoric ?? null,
          skipped: entry.skipped,
        }));
        printResult(!!opts.json, { modelVersionId: queue.modelVersionId, acquisition: opts.acquisition, unlabelled: queue.entries.length, rows }, () =>
          [
            queue.modelVersionId ? `ranked by ${opts.acquisition} (model version ${queue.modelVersionId}); ${queue.entries.length} unlabelled` : `no model yet (random order); ${queue.entries.length} unlabelled`,
            table([
              ['rank', 'image', 'score', 'predicted', 'p(predicted)', 'epistemic', 'aleatoric'],
              ...rows.map((r, i) => [i + 1, path.basename(r.path), fixed(r.score, 4), r.predicted ?? '-', r.predicted ? fixed(r.probabilities![r.predicted]) : '-', fixed(r.epistemic, 4), fixed(r.aleatoric, 4)]),
            ]),
          ].join('\n'),
        );
      } finally {
        project.close();
      }
    });

  program
    .command('evaluate <dir>')
    .description('metrics of the latest model version on labelled images it was not trained on')
    .requiredOption('--labels <csv>', 'CSV with header path,label (paths relative to the CSV)')
    .option('--samples <n>', 'posterior samples', parseIntOption(1, 1000))
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { labels: string; samples?: number; json?: boolean }) => {
      const project = openProject(dir);
      const bar = progressBar('evaluate', !opts.json && process.stderr.isTTY === true);
      try {
        const report = await evaluateOnCsv(project, opts.labels, { samples: opts.samples, onProgress: (f) => bar.update(f) });
        bar.done();
        const m = report.metrics;
        printResult(!!opts.json, report, () =>
          [
            `model version ${report.modelVersionId} (${report.method}) on ${report.evaluated} images (${report.excludedAsLabelled} skipped as labelled in the project, ${report.failed.length} failed)`,
            `accuracy ${fixed(m.accuracy)}${m.top5 === undefined ? '' : `, top-5 ${fixed(m.top5)}`}, NLL ${fixed(m.nll)}, ECE ${fixed(m.ece)}, Brier ${fixed(m.brier)}`,
            ...report.failed.map((f) => `  failed: ${f.path}: [${f.code}] ${f.message}`),
          ].join('\n'),
        );
      } finally {
        project.close();
      }
    });
}
