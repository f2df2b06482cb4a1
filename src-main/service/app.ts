import fs from 'node:fs';
import path from 'node:path';
import { getImage } from '../db/images.ts';
import { addLabel, currentLabel, LabelError, undoLast } from '../db/labels.ts';
import { latestModelVersion, listModelVersions, scoreOf, scoresOf, type ImageScore, type ModelVersion } from '../db/models.ts';
import { initProject, isProjectDir, openProject, ProjectError, setArchitecture, type Project } from '../db/project.ts';
import { createDemoProject } from '../demo/demo.ts';
import { exportProject, ExportError } from '../export/exporter.ts';
import { cachePath, readCachedMeta } from '../import/cache.ts';
import { importPaths } from '../import/importer.ts';
import { IMAGE_EXTENSIONS } from '../import/walk.ts';
import { checkEvaluateOptions, evaluateOnCsv } from '../jobs/evaluation.ts';
import { checkTrainPrior, checkTrainTask, trainAndScore, TrainingError } from '../jobs/training.ts';
import type { TrainRequest } from '../jobs/trainProtocol.ts';
import { priorCheckPlot } from '../plots/priorCheckSvg.ts';
import { projectStatus } from '../project/status.ts';
import { QueueError, rankedQueue } from '../ranking/queue.ts';
import { RerankError, rerankableBase, rerankProject } from '../ranking/rerank.ts';
import { regressionScoreOf, type RegressionScore } from '../db/regressionScores.ts';
import { interval90 } from '../regression/interval.ts';
import { backupProject } from '../maintenance/backup.ts';
import { writeSimulationOutputs } from '../simulate/report.ts';
import { simulate } from '../simulate/simulate.ts';
import type { SimulationResult } from '../simulate/types.ts';
import { snapshotFromScores, stoppingSignal, type StoppingSignal } from '../simulate/stopping.ts';
import type { EventName, ModelVersionInfoT, PredictionT, ProjectInfoT, RegressionEstimateT, Service } from './contract.ts';
import { ServiceError } from './dispatch.ts';
import { JobManager, PartialResultError } from './jobs.ts';
import { simulateJobResult } from './simulateResult.ts';
import { defaultHomeDir, SettingsStore } from './settings.ts';

export interface EpistemeApp {
  service: Service;
  subscribe(listener: (name: EventName, payload: unknown) => void): () => void;
  /** Serves `/asset/<projectId>/<imageId>/preview.png` and `.../modality.f32`; null when unknown. */
  readAsset(urlPath: string): Promise<{ mime: string; body: Buffer } | null>;
  /** Opens a project directly (e.g. `episteme serve <dir>`). */
  openProjectDir(dir: string): ProjectInfoT;
  close(): Promise<void>;
}

export interface AppOptions {
  mode: 'electron' | 'browser';
  homeDir?: string;
  version?: string;
  /** How often open projects whose labels changed are backed up (default 10 minutes; 0 = never). */
  backupIntervalMs?: number;
}

export function toModelVersionInfo(version: ModelVersion): ModelVersionInfoT {
  return {
    id: version.id,
    createdAt: version.createdAt,
    method: version.method,
    backend: version.backend,
    nLabels: version.nLabels,
    trainSeconds: version.trainSeconds,
    hyper: version.hyper,
    metrics: version.metrics,
    regressionMetrics: version.regressionMetrics,
  };
}

export function toEstimate(score: RegressionScore): RegressionEstimateT {
  return { mean: score.mean, latentStd: Math.sqrt(score.latentVariance), predictiveStd: Math.sqrt(score.predictiveVariance), ...interval90(score) };
}

export function toPrediction(score: ImageScore): PredictionT {
  return {
    predicted: score.predicted,
    probsMean: [...score.probsMean],
    probsLower: [...score.probsLower],
    probsUpper: [...score.probsUpper],
    epistemic: score.epistemic,
    aleatoric: score.aleatoric,
  };
}

/** Turns the core's own errors into user-facing service errors. */
async function userErrors<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ProjectError || error instanceof LabelError || error instanceof ExportError || error instanceof TrainingError || error instanceof QueueError || error instanceof RerankError) {
      throw new ServiceError('bad-request', error.message);
    }
    const code = (error as { code?: string })?.code ?? '';
    if (code === 'SQLITE_FULL' || code === 'ENOSPC') throw new ServiceError('internal', 'the disk is full: this was NOT saved (everything saved before is safe); free some space and try again');
    if (code.startsWith('SQLITE_IOERR') || code === 'EIO') throw new ServiceError('internal', `a disk error stopped the write (${code}): this was NOT saved; everything saved before is safe`);
    throw error;
  }
}

export function createApp(options: AppOptions): EpistemeApp {
  const homeDir = options.homeDir ?? defaultHomeDir();
  fs.mkdirSync(homeDir, { recursive: true });
  const settings = new SettingsStore(homeDir);
  const listeners = new Set<(name: EventName, payload: unknown) => void>();
  const jobs = new JobManager((state) => listeners.forEach((listener) => listener('job.progress', state)));
  const projects = new Map<string, Project>();
  let nextProjectId = 1;

  const infoOf = (projectId: string): ProjectInfoT => {
    const p = projects.get(projectId)!;
    return { projectId, dir: p.dir, name: p.meta.name, task: p.meta.task, classes: p.classes, target: p.meta.target, imageSize: p.meta.imageSize, channels: p.meta.channels, architecture: p.meta.architecture };
  };
  /** Keeps one open handle per project folder and remembers it among the recent projects. */
  const register = (project: Project): ProjectInfoT => {
    const projectId = `p${nextProjectId++}`;
    projects.set(projectId, project);
    settings.rememberProject(project.dir, project.meta.name);
    return infoOf(projectId);
  };
  const openDir = (dir: string): ProjectInfoT => {
    const resolved = path.resolve(dir);
    const existing = [...projects].find(([, p]) => p.dir === resolved);
    if (existing) {
      settings.rememberProject(resolved, existing[1].meta.name);
      return infoOf(existing[0]);
    }
    return register(openProject(resolved));
  };
  const projectOf = (projectId: string): Project => {
    const project = projects.get(projectId);
    if (!project) throw new ServiceError('not-found', `no open project ${projectId}; open it first`);
    return project;
  };
  // project.status is read after every label: the signal is recomputed only when a version is added.
  const stoppingCache = new WeakMap<Project, { key: string; value: StoppingSignal | null }>();
  const stoppingOf = (project: Project, versions: readonly ModelVersion[]): StoppingSignal | null => {
    const key = versions.slice(-2).map((v) => v.id).join(':');
    const cached = stoppingCache.get(project);
    if (cached?.key === key) return cached.value;
    const value = stoppingOfVersions(project, versions);
    stoppingCache.set(project, { key, value });
    return value;
  };
  const reranking = new Set<Project>();
  const requireNoRunningJob = (projectId: string, kind: string) => {
    if (jobs.list(projectId).some((j) => j.status === 'running' && j.kind === kind)) {
      throw new ServiceError('conflict', `a ${kind} job is already running for this project`);
    }
  };

  const service: Service = {
    'app.info': async () => ({
      version: options.version ?? '0.1.0',
      mode: options.mode,
      defaultProjectsDir: path.join(homeDir, 'projects'),
      demoDir: path.join(homeDir, 'demo-project'),
    }),
    'settings.get': async () => settings.read(),
    'settings.setAnnotator': async ({ annotator }) => settings.setAnnotator(annotator),
    'fs.listDir': async ({ dir }) => {
      const target = path.resolve(dir ?? homeDir);
      let names: fs.Dirent[];
      try {
        names = fs.readdirSync(target, { withFileTypes: true });
      } catch (error) {
        throw new ServiceError('not-found', `cannot list ${target}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
      const visible = names.filter((d) => !d.name.startsWith('.'));
      return {
        dir: target,
        parent: path.dirname(target) === target ? null : path.dirname(target),
        dirs: visible.filter((d) => d.isDirectory()).map((d) => d.name).sort(),
        imageFiles: visible.filter((d) => d.isFile() && IMAGE_EXTENSIONS.has(path.extname(d.name).toLowerCase())).length,
      };
    },
    'project.create': ({ dir, name, task, classes, target, imageSize, channels, architecture }) =>
      userErrors(() => register(initProject(path.resolve(dir), { name, task, classes, target, imageSize, channels, architecture }))),
    'project.setArchitecture': ({ projectId, architecture }) =>
      userErrors(() => {
        setArchitecture(projectOf(projectId), architecture);
        return infoOf(projectId);
      }),
    'project.open': ({ dir }) => userErrors(() => openDir(dir)),
    'project.openDemo': async () => {
      const dir = path.join(homeDir, 'demo-project');
      if (isProjectDir(dir)) return openDir(dir);
      const { project } = await createDemoProject(dir);
      return register(project);
    },
    'project.status': async ({ projectId }) => {
      const project = projectOf(projectId);
      const status = projectStatus(project);
      return { project: infoOf(projectId), ...status, models: status.models.map(toModelVersionInfo), stopping: stoppingOf(project, status.models), rerankBase: rerankableBase(project) };
    },
    'queue.list': async ({ projectId, acquisition, offset = 0, limit = 100 }) => {
      const queue = await userErrors(() => rankedQueue(projectOf(projectId), acquisition));
      return {
        modelVersionId: queue.modelVersionId,
        acquisition: queue.acquisition,
        total: queue.entries.length,
        items: queue.entries.slice(offset, offset + limit).map((entry) => ({
          imageId: entry.image.id,
          name: path.basename(entry.image.path),
          previewAsset: `/asset/${projectId}/${entry.image.id}/preview.png`,
          kind: entry.image.kind,
          score: entry.score,
          prediction: entry.scores && toPrediction(entry.scores),
          estimate: entry.estimate && toEstimate(entry.estimate),
          skipped: entry.skipped,
        })),
      };
    },
    'queue.rerank': async ({ projectId }) => {
      const project = projectOf(projectId);
      if (reranking.has(project)) throw new ServiceError('conflict', 'a re-rank is already running for this project');
      reranking.add(project);
      try {
        const result = await userErrors(() => rerankProject(project));
        return { ...result, modelVersion: toModelVersionInfo(result.modelVersion) };
      } finally {
        reranking.delete(project);
      }
    },
    'image.detail': async ({ projectId, imageId }) => {
      const project = projectOf(projectId);
      const image = getImage(project.db, imageId);
      if (!image) throw new ServiceError('not-found', `no image ${imageId} in this project`);
      const model = latestModelVersion(project.db);
      const score = model && scoreOf(project.db, model.id, imageId);
      const estimate = model && regressionScoreOf(project.db, model.id, imageId);
      const meta = readCachedMeta(project, image.sha256);
      const label = currentLabel(project.db, imageId);
      return {
        imageId,
        path: image.path,
        sha256: image.sha256,
        kind: image.kind,
        width: image.width,
        height: image.height,
        previewAsset: `/asset/${projectId}/${imageId}/preview.png`,
        modalityAsset: meta.modality ? `/asset/${projectId}/${imageId}/modality.f32` : null,
        dicom: meta.dicom ?? null,
        prediction: score ? toPrediction(score) : null,
        estimate: estimate ? toEstimate(estimate) : null,
        currentLabel: label ? { kind: label.kind, classIdx: label.classIdx, value: label.value, annotator: label.annotator } : null,
      };
    },
    'label.add': ({ projectId, imageId, label, annotator, msSpent, modelVersionId, acquisition, acquisitionScore }) =>
      userErrors(() => {
        const project = projectOf(projectId);
        if (label.kind === 'class' && project.meta.task === 'classification' && label.classIdx >= project.classes.length) {
          throw new ServiceError('bad-request', `class index ${label.classIdx} is out of range (project has ${project.classes.length} classes)`);
        }
        const event = addLabel(project.db, imageId, label, { annotator, msSpent, modelVersionId, acquisition, acquisitionScore });
        return { eventId: event.id };
      }),
    'label.undo': ({ projectId, annotator }) =>
      userErrors(() => {
        const undone = undoLast(projectOf(projectId).db, annotator);
        return { undone: undone && { imageId: undone.imageId, eventId: undone.id } };
      }),
    'model.list': async ({ projectId }) => {
      const versions = listModelVersions(projectOf(projectId).db);
      return {
        versions: versions.map(toModelVersionInfo),
        learningCurve: versions
          .filter((v) => v.metrics)
          .map((v) => ({ modelVersionId: v.id, nLabels: v.nLabels, accuracy: v.metrics!.accuracy, nll: v.metrics!.nll, ece: v.metrics!.ece, brier: v.metrics!.brier })),
        regressionCurve: versions
          .filter((v) => v.regressionMetrics)
          .map((v) => {
            const { rmse, mae, nll, coverage90 } = v.regressionMetrics!;
            return { modelVersionId: v.id, nLabels: v.nLabels, rmse, mae, nll, coverage90 };
          }),
      };
    },
    'bdl.priorPredictive': async (request) => {
      try {
        return await priorCheckPlot(request);
      } catch (error) {
        throw new ServiceError('bad-request', error instanceof Error ? error.message : String(error));
      }
    },
    'job.start': async ({ projectId, job }) => {
      const project = projectOf(projectId);
      requireNoRunningJob(projectId, job.kind);
      switch (job.kind) {
        case 'import':
          return jobs.start(projectId, 'import', async ({ signal, report }) => {
            const summary = await importPaths(project, job.paths, {
              signal,
              onProgress: (p) => report({ fraction: p.done / Math.max(1, p.total), message: `imported ${p.done} of ${p.total}` }),
            });
            return { kind: 'import', summary };
          });
        case 'train':
          // A method or option the project's task does not take, or a prior the method does not take, is refused here, not as a failed job.
          await userErrors(() => checkTrainTask(project, job));
          if (project.meta.task === 'classification') await userErrors(() => checkTrainPrior((job.method ?? 'mc-dropout') as TrainRequest['method'], job.prior, job.priorPrecision));
          return jobs.start(projectId, 'train', async ({ signal, report }) => {
            const version = await trainAndScore(project, {
              method: job.method,
              epochs: job.epochs,
              seed: job.seed,
              backbone: job.backbone,
              prior: job.prior,
              priorPrecision: job.priorPrecision,
              architecture: job.architecture,
              signal,
              onProgress: (p) =>
                report({
                  fraction: p.fraction,
                  message:
                    p.phase === 'scoring' ? 'scoring the unlabelled images' : p.epoch === undefined ? 'fitting the Gaussian process' : `training, epoch ${p.epoch} of ${p.epochs}`,
                  epoch: p.epoch,
                  epochs: p.epochs,
                  loss: p.loss,
                }),
            });
            return { kind: 'train', modelVersion: toModelVersionInfo(version) };
          });
        case 'export':
          return jobs.start(projectId, 'export', async ({ signal, report }) => {
            const result = await userErrors(() =>
              exportProject(project, job.out, {
                format: job.format,
                force: job.force,
                deidentify: job.deidentify,
                signal,
                onProgress: (done, total) => report({ fraction: done / Math.max(1, total), message: `exported ${done} of ${total}` }),
              }),
            );
            return { kind: 'export', ...result };
          });
        case 'evaluate': {
          const { kind: _kind, labels, ...options } = job;
          if (project.meta.task === 'regression') throw new ServiceError('bad-request', 'the evaluate job is for classification projects; evaluate a regression project with the CLI');
          await userErrors(() => checkEvaluateOptions(project, options));
          return jobs.start(projectId, 'evaluate', async ({ report }) => {
            const result = await userErrors(() => evaluateOnCsv(project, labels, { ...options, onProgress: (fraction) => report({ fraction, message: 'predicting the images of the CSV' }) }));
            // An undefined metric (NaN) becomes null on every transport, as JSON makes it over HTTP.
            return { kind: 'evaluate', report: JSON.parse(JSON.stringify(result)) };
          });
        }
        case 'simulate':
          return jobs.start(projectId, 'simulate', async ({ signal, report }) => {
            const { kind: _kind, out, ...options } = job;
            let partial: SimulationResult | null = null;
            try {
              const result = await simulate(options, { signal, onPartial: (p) => (partial = p), onProgress: (p) => report({ fraction: p.fraction, message: p.message }) });
              if (out) writeSimulationOutputs(out, result);
              return simulateJobResult(result, out ?? null);
            } catch (error) {
              // Cancelled or failed after some rounds: keep them, in the job and in `out`.
              const got = partial as SimulationResult | null;
              if (!got || got.rounds.length === 0) throw error;
              if (out) writeSimulationOutputs(out, got);
              throw new PartialResultError(error, simulateJobResult(got, out ?? null));
            }
          });
      }
    },
    'job.get': async ({ jobId }) => jobs.get(jobId) ?? notFoundJob(jobId),
    'job.cancel': async ({ jobId }) => jobs.cancel(jobId) ?? notFoundJob(jobId),
    'job.list': async ({ projectId }) => jobs.list((projectOf(projectId), projectId)),
  };

  const lastBackedUpEvent = new Map<Project, number>();
  const backupChangedProjects = async () => {
    for (const project of projects.values()) {
      const latest = (project.db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM label_events').get() as { id: number }).id;
      if (latest === (lastBackedUpEvent.get(project) ?? 0)) continue;
      try {
        await backupProject(project, undefined, 'scheduled');
        lastBackedUpEvent.set(project, latest);
      } catch (error) {
        console.error(`[episteme] scheduled backup of ${project.dir} failed:`, error);
      }
    }
  };
  const backupTimer = options.backupIntervalMs === 0 ? undefined : setInterval(() => void backupChangedProjects(), options.backupIntervalMs ?? 10 * 60_000);
  backupTimer?.unref();

  const readAsset: EpistemeApp['readAsset'] = async (urlPath) => {
    const match = /^\/asset\/(p[0-9]{1,9})\/([0-9]{1,10})\/(preview\.png|modality\.f32)$/.exec(urlPath);
    if (!match) return null;
    const project = projects.get(match[1]);
    const image = project && getImage(project.db, Number(match[2]));
    if (!project || !image) return null;
    const file = cachePath(project, image.sha256, match[3] === 'preview.png' ? 'preview' : 'modality');
    try {
      return { mime: match[3] === 'preview.png' ? 'image/png' : 'application/octet-stream', body: await fs.promises.readFile(file) };
    } catch {
      return null;
    }
  };

  return {
    service,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    readAsset,
    openProjectDir: (dir) => openDir(dir),
    close: async () => {
      clearInterval(backupTimer);
      await jobs.cancelAll();
      await backupChangedProjects();
      for (const project of projects.values()) project.close();
      projects.clear();
    },
  };
}

/** The stopping signal of the last two model versions, from their stored pool scores; null before two versions. */
function stoppingOfVersions(project: Project, versions: readonly ModelVersion[]): StoppingSignal | null {
  // Trained versions only: a re-rank keeps its base's network, so next to it every re-rank would look like convergence.
  const trained = versions.filter((v) => typeof v.hyper.rerankOf !== 'number');
  if (trained.length < 2 || project.meta.task === 'regression') return null;
  const [previous, current] = trained.slice(-2);
  const snapshot = (v: ModelVersion) => snapshotFromScores(scoresOf(project.db, v.id), { nLabels: v.nLabels, hasEpistemic: v.method !== 'map' });
  return stoppingSignal(snapshot(previous), snapshot(current));
}

function notFoundJob(jobId: string): never {
  throw new ServiceError('not-found', `no job ${jobId}`);
}
