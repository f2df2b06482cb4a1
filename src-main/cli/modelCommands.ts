import path from 'node:path';
import type { Command } from 'commander';
import type { Architecture } from '../bdl/architectures.ts';
import { openProject, setArchitecture, type Project } from '../db/project.ts';
import { ARCHITECTURE_HELP, describeArchitectures, parseArchitecture } from './architectureOption.ts';
import { parsePrior, parsePriorPrecision, PRIOR_HELP, PRIOR_PRECISION_HELP, type PriorName } from './priorOptions.ts';
import { interval90 } from '../regression/interval.ts';
import { QUEUE_ACQUISITIONS, rankedQueue, type QueueAcquisition } from '../ranking/queue.ts';
import { METHOD_NAMES as METHODS, REGRESSION_METHOD_NAMES } from '../service/contract.ts';
import { parseIntOption, parseNumberOption } from './main.ts';
import { fixed, printResult, table } from './output.ts';
import { progressBar } from './progress.ts';
import { DEFAULT_BOOTSTRAP } from '../bdl/clinicalMetrics.ts';
import { formatEvaluation } from './evaluateReport.ts';

export function registerModelCommands(program: Command): void {
  program
    .command('architecture <dir> [name]')
    .description(`show the project's network, or change it for later versions (trained versions keep theirs):\n${describeArchitectures()}`)
    .option('--json', 'print JSON')
    .action((dir: string, name: string | undefined, opts: { json?: boolean }) => {
      const project = openProject(dir);
      try {
        const architecture = name === undefined ? project.meta.architecture : setArchitecture(project, parseArchitecture(name));
        printResult(!!opts.json, { architecture, imageSize: project.meta.imageSize, channels: project.meta.channels }, () =>
          `${name === undefined ? 'architecture' : 'architecture now'}: ${architecture} (${project.meta.imageSize} px, ${project.meta.channels} channel${project.meta.channels === 1 ? '' : 's'})`,
        );
      } finally {
        project.close();
      }
    });

  program
    .command('train <dir>')
    .description('train a model version on the labelled images (in a worker thread), then score the unlabelled pool')
    .option('--method <method>', `classification: ${METHODS.join(' | ')} (default mc-dropout); regression: ${REGRESSION_METHOD_NAMES.join(' | ')} (the default)`)
    .option('--epochs <n>', 'training epochs (default: 20, more for small label sets so that there are at least ~250 gradient steps)', parseIntOption(1, 500))
    .option('--seed <n>', 'random seed', parseIntOption(0, 2 ** 31), 0)
    .option('--samples <n>', 'posterior samples T for scoring (default 20)', parseIntOption(1, 1000))
    .option('--backbone <path>', 'lora-ensemble, lora-laplace: a TF.js LayersModel folder (model.json + weight files) or its model.json')
    .option('--prior <prior>', PRIOR_HELP, parsePrior)
    .option('--prior-precision <tau>', PRIOR_PRECISION_HELP, parsePriorPrecision)
    .option('--architecture <name>', `${ARCHITECTURE_HELP}; this version only (default: the project's, see \`architecture\`)`, parseArchitecture)
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { method?: string; epochs?: number; seed: number; samples?: number; backbone?: string; prior?: PriorName; priorPrecision?: number; architecture?: Architecture; json?: boolean }) => {
      const known = [...METHODS, ...REGRESSION_METHOD_NAMES] as readonly string[];
      if (opts.method !== undefined && !known.includes(opts.method)) throw new Error(`--method must be one of ${known.join(', ')}`);
      const { checkTrainPrior, trainAndScore } = await import('../jobs/training.ts');
      if (opts.method !== 'gp') checkTrainPrior((opts.method ?? 'mc-dropout') as (typeof METHODS)[number], opts.prior, opts.priorPrecision);
      const project = openProject(dir);
      const bar = progressBar('train', !opts.json && process.stderr.isTTY === true);
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      try {
        const version = await trainAndScore(project, {
          method: opts.method as (typeof METHODS)[number] | (typeof REGRESSION_METHOD_NAMES)[number] | undefined,
          epochs: opts.epochs,
          seed: opts.seed,
          mcSamples: opts.samples,
          backbone: opts.backbone,
          prior: opts.prior,
          priorPrecision: opts.priorPrecision,
          architecture: opts.architecture,
          signal: controller.signal,
          onProgress: (p) => bar.update(p.fraction, p.phase === 'scoring' ? 'scoring' : p.epoch === undefined ? 'fitting the GP' : `epoch ${p.epoch}/${p.epochs} loss ${fixed(p.loss)}`),
        });
        bar.done();
        printResult(!!opts.json, version, () => {
          const r = version.regressionMetrics;
          if (version.method === 'gp') {
            const h = version.hyper as Record<string, number>;
            return [
              `model version ${version.id} (gp: exact GP regression, RBF kernel) on ${version.nLabels} labels in ${version.trainSeconds.toFixed(1)} s`,
              `hyper-parameters by marginal likelihood: lengthscale ${fixed(h.lengthscale)}, signal variance ${fixed(h.signalVariance)}, noise std ${fixed(h.noiseStd)} (target units), log marginal likelihood ${fixed(h.logMarginalLikelihood, 2)}`,
              r ? `held-out (${r.heldOut} images): RMSE ${fixed(r.rmse)}, MAE ${fixed(r.mae)}, NLL ${fixed(r.nll)}, 90% interval coverage ${fixed(r.coverage90, 2)}` : 'fewer than 10 labels: no held-out metrics',
              ...(h.gpPoints < h.trainImages ? [`the GP conditions on a random subset of ${h.gpPoints} of the ${h.trainImages} training images (its limit, for memory and time)`] : []),
            ].join('\n');
          }
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
    .option('--acquisition <name>', `${QUEUE_ACQUISITIONS.join(' | ')} (default: bald; variance for regression projects, the GP's latent variance: epistemic, label noise excluded)`)
    .option('--top <n>', 'rows to print', parseIntOption(1, 10_000_000), 20)
    .option('--json', 'print JSON')
    .action((dir: string, opts: { acquisition?: string; top: number; json?: boolean }) => {
      if (opts.acquisition !== undefined && !(QUEUE_ACQUISITIONS as readonly string[]).includes(opts.acquisition)) throw new Error(`--acquisition must be one of ${QUEUE_ACQUISITIONS.join(', ')}`);
      const project = openProject(dir);
      try {
        if (project.meta.task === 'regression') return rankRegression(project, (opts.acquisition ?? 'variance') as QueueAcquisition, opts.top, !!opts.json);
        opts.acquisition ??= 'bald';
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
    .option('--threshold <t>', 'two-class projects: positive when P(positive) ≥ t, in (0, 1) (default: the most probable class)', parseNumberOption)
    .option('--positive <class>', 'two-class projects: the class sensitivity, PPV and AUROC are of (default: the second class)')
    .option('--bootstrap <n>', `bootstrap resamples for the 95% intervals (default ${DEFAULT_BOOTSTRAP}); 0 for none`, parseIntOption(0, 100_000))
    .option('--ordinal', 'the classes, in the project\'s order, are grades: adds quadratic weighted kappa and the mean absolute grade error')
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { labels: string; samples?: number; threshold?: number; positive?: string; bootstrap?: number; ordinal?: boolean; json?: boolean }) => {
      const project = openProject(dir);
      const bar = progressBar('evaluate', !opts.json && process.stderr.isTTY === true);
      try {
        const { checkEvaluateOptions, evaluateOnCsv } = await import('../jobs/evaluation.ts');
        const clinical = { threshold: opts.threshold, positive: opts.positive, bootstrap: opts.bootstrap, ordinal: opts.ordinal };
        if (project.meta.task === 'regression') {
          checkEvaluateOptions(project, clinical);
          if (opts.samples !== undefined) throw new Error('--samples is for classification models; the GP of a regression project predicts in closed form');
          const { evaluateRegressionOnCsv } = await import('../jobs/regressionEvaluation.ts');
          const report = await evaluateRegressionOnCsv(project, opts.labels, { onProgress: (f) => bar.update(f) });
          bar.done();
          const m = report.metrics;
          printResult(!!opts.json, report, () =>
            [
              `model version ${report.modelVersionId} (${report.method}) on ${report.evaluated} images (${report.excludedAsLabelled} skipped as labelled in the project, ${report.failed.length} failed)`,
              `RMSE ${fixed(m.rmse)}, MAE ${fixed(m.mae)}, NLL ${fixed(m.nll)}, 90% interval coverage ${fixed(m.coverage90, 2)}`,
              ...report.failed.map((f) => `  failed: ${f.path}: [${f.code}] ${f.message}`),
            ].join('\n'),
          );
          return;
        }
        const report = await evaluateOnCsv(project, opts.labels, { samples: opts.samples, ...clinical, onProgress: (f) => bar.update(f) });
        bar.done();
        printResult(!!opts.json, report, () => formatEvaluation(report));
      } finally {
        project.close();
      }
    });
}

/** `rank` of a regression project: highest latent variance first, with each image's mean and 90% interval. */
function rankRegression(project: Project, acquisition: QueueAcquisition, top: number, json: boolean): void {
  const queue = rankedQueue(project, acquisition);
  const rows = queue.entries.slice(0, top).map((entry) => ({
    imageId: entry.image.id,
    path: entry.image.path,
    score: entry.score,
    mean: entry.estimate?.mean ?? null,
    latentStd: entry.estimate ? Math.sqrt(entry.estimate.latentVariance) : null,
    interval90: entry.estimate ? interval90(entry.estimate) : null,
    skipped: entry.skipped,
  }));
  printResult(json, { modelVersionId: queue.modelVersionId, acquisition, unlabelled: queue.entries.length, rows }, () =>
    [
      queue.modelVersionId ? `ranked by ${acquisition} (model version ${queue.modelVersionId}); ${queue.entries.length} unlabelled` : `no model yet (random order); ${queue.entries.length} unlabelled`,
      table([
        ['rank', 'image', 'score', `${project.meta.target!.name} mean`, 'latent std', '90% interval'],
        ...rows.map((r, i) => [i + 1, path.basename(r.path), fixed(r.score, 4), fixed(r.mean, 2), fixed(r.latentStd, 3), r.interval90 ? `${fixed(r.interval90.lower, 2)} – ${fixed(r.interval90.upper, 2)}` : '-']),
      ]),
    ].join('\n'),
  );
}
