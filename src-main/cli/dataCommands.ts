import path from 'node:path';
import type { Command } from 'commander';
import type { Architecture } from '../bdl/architectures.ts';
import { ARCHITECTURE_HELP, parseArchitecture } from './architectureOption.ts';
import { addLabel } from '../db/labels.ts';
import { findImageByPath, getImage } from '../db/images.ts';
import { initProject, openProject, IMAGE_SIZES, TASKS, type Channels, type ImageSize, type Task } from '../db/project.ts';
import type { ExportFormat } from '../export/exporter.ts';
import type { ImportSummary } from '../import/importer.ts';
import { projectStatus } from '../project/status.ts';
import { parseTargetValue } from '../regression/values.ts';
import { parseIntOption, parseNumberOption } from './main.ts';
import { fixed, printResult, table } from './output.ts';
import { progressBar } from './progress.ts';

function summariseImport(summary: ImportSummary): string {
  const lines = [`added ${summary.added}, already present ${summary.unchanged}, moved ${summary.moved}, labelled ${summary.labelled}, failed ${summary.failed.length}`];
  for (const failure of summary.failed) lines.push(`  failed: ${failure.path}: [${failure.code}] ${failure.message}`);
  return lines.join('\n');
}

export function registerDataCommands(program: Command): void {
  program
    .command('init <dir>')
    .description('create a project folder (episteme.sqlite + cache/): classes, or with --task regression a numeric target')
    .option('--task <task>', TASKS.join(' | '), 'classification')
    .option('--classes <names>', 'classification: comma-separated class names, e.g. normal,pneumonia')
    .option('--target <name>', 'regression: what the number measures, e.g. severity')
    .option('--unit <unit>', 'regression: unit of the target, e.g. points')
    .option('--min <n>', 'regression: smallest valid value', parseNumberOption)
    .option('--max <n>', 'regression: largest valid value', parseNumberOption)
    .option('--name <name>', 'project name (default: the folder name)')
    .option('--image-size <n>', `model input size: ${IMAGE_SIZES.join('|')}`, parseIntOption(28, 224), 64)
    .option('--channels <n>', '1 (grayscale) or 3 (RGB)', parseIntOption(1, 3), 1)
    .option('--architecture <name>', `classification: ${ARCHITECTURE_HELP}; changeable later with \`architecture\``, parseArchitecture)
    .option('--json', 'print JSON')
    .action((dir: string, opts: { task: string; classes?: string; target?: string; unit?: string; min?: number; max?: number; name?: string; imageSize: number; channels: number; architecture?: Architecture; json?: boolean }) => {
      if (!(TASKS as readonly string[]).includes(opts.task)) throw new Error(`--task must be ${TASKS.join(' or ')}`);
      const regression = opts.task === 'regression';
      if (regression && opts.classes) throw new Error('--classes is for classification projects; a regression project takes --target (and optionally --unit, --min, --max)');
      if (!regression && (opts.target || opts.unit || opts.min !== undefined || opts.max !== undefined)) throw new Error('--target, --unit, --min and --max are for regression projects: add --task regression');
      if (!regression && !opts.classes) throw new Error('give --classes a,b,... (or --task regression --target <name>)');
      if (regression && !opts.target) throw new Error('a regression project needs --target <name>, e.g. --target severity');
      const project = initProject(dir, {
        name: opts.name,
        task: opts.task as Task,
        classes: opts.classes?.split(','),
        target: regression ? { name: opts.target!, unit: opts.unit, min: opts.min, max: opts.max } : undefined,
        imageSize: opts.imageSize as ImageSize,
        channels: opts.channels as Channels,
        architecture: opts.architecture,
      });
      const info = { dir: project.dir, ...project.meta, classes: project.classes };
      project.close();
      const t = info.target;
      const what = t ? `regression of ${t.name}${t.unit ? ` (${t.unit})` : ''}${t.min !== null || t.max !== null ? ` in [${t.min ?? '−∞'}, ${t.max ?? '∞'}]` : ''}` : `classes ${info.classes.join(', ')}`;
      printResult(!!opts.json, info, () => `created project "${info.name}" in ${info.dir} (${info.imageSize}×${info.imageSize}×${info.channels}; ${what}${regression ? '' : `; network ${info.architecture}`})`);
    });

  program
    .command('import <dir> <paths...>')
    .description('import image files and folders (PNG, JPEG, TIFF, ..., DICOM), referenced in place')
    .option('--labels <csv>', 'CSV with header path,label (a class, or a number in regression projects): record these labels as events')
    .option('--annotator <name>', 'annotator recorded for --labels', 'import')
    .option('--json', 'print JSON')
    .action(async (dir: string, paths: string[], opts: { labels?: string; annotator: string; json?: boolean }) => {
      const project = openProject(dir);
      const bar = progressBar('import', !opts.json && process.stderr.isTTY === true);
      try {
        const { importPaths } = await import('../import/importer.ts');
        const summary = await importPaths(project, paths, {
          labelsCsv: opts.labels,
          annotator: opts.annotator,
          onProgress: (p) => bar.update(p.done / Math.max(1, p.total), `${p.done}/${p.total}`),
        });
        bar.done();
        printResult(!!opts.json, summary, () => summariseImport(summary));
      } finally {
        project.close();
      }
    });

  program
    .command('label <dir> [image] [class]')
    .description('record a label: an image path (or id) and a class name (or skip / unsure), --value <n> in regression projects, or --csv file.csv (path,label)')
    .option('--value <n>', 'regression projects: the numeric label')
    .option('--csv <file>', 'CSV with header path,label')
    .option('--annotator <name>', 'who labels', process.env.USER || 'cli')
    .option('--json', 'print JSON')
    .action(async (dir: string, image: string | undefined, className: string | undefined, opts: { value?: string; csv?: string; annotator: string; json?: boolean }) => {
      const project = openProject(dir);
      try {
        if (opts.csv) {
          const { importLabelsCsv } = await import('../import/importer.ts');
          const result = await importLabelsCsv(project, opts.csv, opts.annotator);
          printResult(!!opts.json, result, () => `labelled ${result.labelled}, failed ${result.failed.length}${result.failed.map((f) => `\n  failed: ${f.path}: ${f.message}`).join('')}`);
          if (result.failed.length) process.exitCode = 1;
          return;
        }
        const regression = project.meta.task === 'regression';
        if (opts.value !== undefined && !regression) throw new Error('--value is for regression projects; this project labels with a class name');
        if (opts.value !== undefined && className) throw new Error('give either --value or skip / unsure, not both');
        if (!image || (!className && opts.value === undefined)) throw new Error(regression ? 'give an image and --value <n> (or skip / unsure), or --csv file.csv' : 'give an image and a class, or --csv file.csv');
        if (regression && className && className !== 'skip' && className !== 'unsure') throw new Error(`a regression project's label is a number: use --value ${className} (or skip / unsure)`);
        const row = /^[0-9]+$/.test(image) ? getImage(project.db, Number(image)) : findImageByPath(project.db, path.resolve(image));
        if (!row) throw new Error(`${image} is not an image of this project; import it first`);
        if (opts.value !== undefined) {
          const parsed = parseTargetValue(project, opts.value);
          if ('error' in parsed) throw new Error(parsed.error);
          const event = addLabel(project.db, row.id, { kind: 'value', value: parsed.value }, { annotator: opts.annotator });
          printResult(!!opts.json, event, () => `labelled ${row.path} as ${project.meta.target!.name} = ${parsed.value}${project.meta.target!.unit ? ` ${project.meta.target!.unit}` : ''} (event ${event.id})`);
          return;
        }
        if (!className) throw new Error('give a class name (or skip / unsure)');
        const classIdx = project.classes.findIndex((c) => c.toLowerCase() === className.toLowerCase());
        const value = className === 'skip' ? { kind: 'skip' as const } : className === 'unsure' ? { kind: 'unsure' as const } : { kind: 'class' as const, classIdx };
        if (value.kind === 'class' && classIdx < 0) throw new Error(`"${className}" is not a class (${project.classes.join(', ')}, or skip / unsure)`);
        const event = addLabel(project.db, row.id, value, { annotator: opts.annotator });
        printResult(!!opts.json, event, () => `labelled ${row.path} as ${className} (event ${event.id})`);
      } finally {
        project.close();
      }
    });

  program
    .command('status <dir>')
    .description('counts per class, unlabelled images, model versions and their metrics')
    .option('--json', 'print JSON')
    .action((dir: string, opts: { json?: boolean }) => {
      const project = openProject(dir);
      try {
        const status = projectStatus(project);
        const value = { project: { dir: project.dir, ...project.meta, classes: project.classes }, ...status };
        printResult(!!opts.json, value, () =>
          [
            `${project.meta.name}: ${status.total} images, ${status.unlabelled} unlabelled, ${status.skipped} skipped, ${status.unsure} unsure`,
            ...status.perClass.map((c) => `  ${c.name}: ${c.count}`),
            ...(status.values
              ? [`  ${project.meta.target!.name}: ${status.values.count} values${status.values.count ? `, from ${fixed(status.values.min, 2)} to ${fixed(status.values.max, 2)}, mean ${fixed(status.values.mean, 2)}` : ''}`]
              : []),
            status.models.length && status.values
              ? table([
                  ['version', 'method', 'labels', 'rmse', 'nll', 'coverage90', 'lengthscale', 'noise std', 'seconds'],
                  ...status.models.map((m) => [m.id, m.method, m.nLabels, fixed(m.regressionMetrics?.rmse), fixed(m.regressionMetrics?.nll), fixed(m.regressionMetrics?.coverage90), fixed(m.hyper.lengthscale as number), fixed(m.hyper.noiseStd as number), fixed(m.trainSeconds, 1)]),
                ])
              : status.models.length
              ? table([
                  ['version', 'method', 'labels', 'accuracy', 'nll', 'ece', 'brier', 'backend', 'seconds'],
                  ...status.models.map((m) => [m.id, m.method, m.nLabels, fixed(m.metrics?.accuracy), fixed(m.metrics?.nll), fixed(m.metrics?.ece), fixed(m.metrics?.brier), m.backend, fixed(m.trainSeconds, 1)]),
                ])
              : 'no model yet: run "episteme train"',
          ].join('\n'),
        );
      } finally {
        project.close();
      }
    });

  program
    .command('export <dir> <out>')
    .description('export the labelled images: csv (labels.csv), folders (<out>/<class>/<file>) or json (labels.json)')
    .requiredOption('--format <format>', 'csv | folders | json')
    .option('--force', 'write into a non-empty folder')
    .option('--deidentify', 'folders only: DICOM de-identified (PS3.15 basic profile), PNG/JPEG without metadata, files renamed')
    .option('--json', 'print JSON')
    .action(async (dir: string, out: string, opts: { format: string; force?: boolean; deidentify?: boolean; json?: boolean }) => {
      if (!['csv', 'folders', 'json'].includes(opts.format)) throw new Error(`--format must be csv, folders or json (got ${opts.format})`);
      const project = openProject(dir);
      const bar = progressBar('export', !opts.json && process.stderr.isTTY === true);
      try {
        const { exportProject } = await import('../export/exporter.ts');
        const result = await exportProject(project, out, {
          format: opts.format as ExportFormat,
          force: opts.force,
          deidentify: opts.deidentify,
          onProgress: (d, t) => bar.update(d / t, `${d}/${t}`),
        });
        bar.done();
        printResult(!!opts.json, result, () => `exported ${result.rows} labelled images as ${opts.format}${opts.deidentify ? ' (de-identified)' : ''} to ${result.out} (${result.files} files)`);
      } finally {
        project.close();
      }
    });

  program
    .command('demo <dir>')
    .description('make a demo project of synthetic skin-lesion images (benign vs suspicious, after the ABCD rule)')
    .option('--count <n>', 'number of images', parseIntOption(10, 100_000), 240)
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { count: number; json?: boolean }) => {
      const bar = progressBar('demo', !opts.json && process.stderr.isTTY === true);
      const { createDemoProject } = await import('../demo/demo.ts');
      const { project, summary } = await createDemoProject(dir, { count: opts.count, onProgress: (d, t) => bar.update(d / t, `${d}/${t}`) });
      bar.done();
      const value = { dir: project.dir, classes: project.classes, summary };
      project.close();
      printResult(!!opts.json, value, () =>
        summary ? `demo project in ${value.dir}: ${summary.added} images, classes ${value.classes.join(', ')}; true labels in images/ground-truth.csv` : `demo project already exists in ${value.dir}`,
      );
    });
}
