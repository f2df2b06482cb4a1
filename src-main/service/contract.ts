/**
 * The service contract: one map from method name to request and response schema. The IPC handlers,
 * the preload bridge, the HTTP routes of browser mode and the renderer's client are all derived from
 * it, so a method added here and not implemented fails to compile. Pure zod: also bundled into the
 * renderer and the preload.
 */
import { z } from 'zod';
import { ARCHITECTURE_NAMES } from '../bdl/architectures.ts';
import type { Method as BdlMethod, Prior as BdlPrior } from '../bdl/posterior/types.ts';
import type { RegressionMethod } from '../jobs/regressionTraining.ts';

const MAX_PATH = 4096;
const text = (max: number) => z.string().min(1).max(max);
/**
 * A file-system path from a folder picker or a typed field: absolute (POSIX, drive letter or UNC),
 * since a relative one would silently resolve against the service's working folder, and without ".."
 * segments or control characters (NUL, newlines).
 */
const FsPath = text(MAX_PATH)
  .refine((p) => /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(p), 'must be an absolute path')
  .refine((p) => !/(^|[\\/])\.\.([\\/]|$)/.test(p), 'must not contain ".." segments')
  .refine((p) => !/\p{Cc}/u.test(p), 'must not contain control characters');

export const ProjectId = z.string().regex(/^p[0-9]{1,9}$/, 'a project id looks like "p1"');
export const ImageId = z.number().int().positive().max(2 ** 31);
export const JobId = z.string().regex(/^j[0-9]{1,9}$/, 'a job id looks like "j1"');
/** 'variance' (the GP's latent variance: epistemic, label noise excluded) ranks regression projects; the others, classification ones. */
export const AcquisitionName = z.enum(['bald', 'entropy', 'margin', 'var-ratios', 'mean-std', 'variance', 'random']);
export const METHOD_NAMES = ['mc-dropout', 'map', 'ensemble', 'vi', 'ivon', 'sgld', 'laplace', 'last-layer', 'dkl', 'lora-ensemble', 'lora-laplace'] as const;
export const MethodName = z.enum(METHOD_NAMES);
// The contract names exactly the library's methods: adding one there and not here fails to compile.
type MethodsAgree = [BdlMethod] extends [(typeof METHOD_NAMES)[number]] ? ([(typeof METHOD_NAMES)[number]] extends [BdlMethod] ? true : never) : never;
export const methodsAgree: MethodsAgree = true;
/** Regression projects' methods: a separate enum, so the classification check above stays exact. */
export const REGRESSION_METHOD_NAMES = ['gp'] as const;
export const RegressionMethodName = z.enum(REGRESSION_METHOD_NAMES);
type RegressionMethodsAgree = [RegressionMethod] extends [(typeof REGRESSION_METHOD_NAMES)[number]] ? ([(typeof REGRESSION_METHOD_NAMES)[number]] extends [RegressionMethod] ? true : never) : never;
export const regressionMethodsAgree: RegressionMethodsAgree = true;
export const TaskName = z.enum(['classification', 'regression']);
export const PRIOR_NAMES = ['gaussian', 'laplace', 'spike-slab'] as const;
export const PriorName = z.enum(PRIOR_NAMES);
type PriorsAgree = [BdlPrior] extends [(typeof PRIOR_NAMES)[number]] ? ([(typeof PRIOR_NAMES)[number]] extends [BdlPrior] ? true : never) : never;
export const priorsAgree: PriorsAgree = true;
/** Prior precision τ (weight decay = τ / N); without it the weight decay is 1e-4. */
const PriorPrecision = z.number().positive().max(1e9);
export const SimulateAcquisitionName = z.enum(['bald', 'batchbald', 'power-bald', 'entropy', 'var-ratios', 'mean-std', 'margin', 'random']);
/** What a simulate option left out means, for the CLI, the app's job and the Simulate tab alike. */
export const SIMULATE_DEFAULTS = { method: 'mc-dropout', initial: 20, step: 10, rounds: 100, seeds: 3, warmStartRounds: 2 } as const;
export const ExportFormat = z.enum(['csv', 'folders', 'json']);
export const ImageSize = z.union([z.literal(28), z.literal(64), z.literal(128), z.literal(224)]);
export const Channels = z.union([z.literal(1), z.literal(3)]);
/** The network classification trains (bdl/architectures.ts, where each is declared once). */
export const ArchitectureName = z.enum(ARCHITECTURE_NAMES);

export const LabelValue = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('class'), classIdx: z.number().int().min(0).max(99) }).strict(),
  /** Regression projects: a finite number, inside the target's range when it has one. */
  z.object({ kind: z.literal('value'), value: z.number().min(-1e300).max(1e300) }).strict(),
  z.object({ kind: z.literal('skip') }).strict(),
  z.object({ kind: z.literal('unsure') }).strict(),
]);

export const RegressionTarget = z.object({ name: z.string(), unit: z.string().nullable(), min: z.number().nullable(), max: z.number().nullable() });

export const ProjectInfo = z.object({
  projectId: ProjectId,
  dir: z.string(),
  name: z.string(),
  task: TaskName,
  /** Empty for regression projects. */
  classes: z.array(z.string()),
  /** Regression projects only. */
  target: RegressionTarget.nullable(),
  imageSize: ImageSize,
  channels: Channels,
  architecture: ArchitectureName,
});

const MetricsSchema = z.object({
  accuracy: z.number(),
  top5: z.number().optional(),
  nll: z.number(),
  ece: z.number(),
  brier: z.number(),
  heldOut: z.number(),
  reliability: z.array(z.object({ binLower: z.number(), binUpper: z.number(), confidence: z.number(), accuracy: z.number(), count: z.number() })),
});

const RegressionMetricsSchema = z.object({ rmse: z.number(), mae: z.number(), nll: z.number(), coverage90: z.number(), heldOut: z.number() });

export const ModelVersionInfo = z.object({
  id: z.number(),
  createdAt: z.string(),
  method: z.string(),
  backend: z.string(),
  nLabels: z.number(),
  trainSeconds: z.number(),
  hyper: z.record(z.string(), z.unknown()),
  metrics: MetricsSchema.nullable(),
  regressionMetrics: RegressionMetricsSchema.nullable(),
});

/** The stopping signal of the last two model versions (src-main/simulate/stopping.ts); null before two versions. */
export const StoppingSignal = z.object({ stop: z.boolean(), reason: z.string(), agreement: z.number().nullable(), maxEpistemic: z.number().nullable() });

export const ProjectStatus = z.object({
  project: ProjectInfo,
  total: z.number(),
  unlabelled: z.number(),
  skipped: z.number(),
  unsure: z.number(),
  perClass: z.array(z.object({ name: z.string(), count: z.number() })),
  /** Regression projects: the labelled values. */
  values: z.object({ count: z.number(), min: z.number().nullable(), max: z.number().nullable(), mean: z.number().nullable() }).nullable(),
  models: z.array(ModelVersionInfo),
  stopping: StoppingSignal.nullable(),
  /** The trained version queue.rerank would build on, when a re-rank can run (classification, cached features); else null. */
  rerankBase: z.number().nullable(),
});

export const Prediction = z.object({
  predicted: z.number(),
  probsMean: z.array(z.number()),
  probsLower: z.array(z.number()),
  probsUpper: z.array(z.number()),
  epistemic: z.number(),
  aleatoric: z.number(),
});

/** A regression model's prediction, in the target's units: mean, latent std (epistemic), 90% predictive interval. */
export const RegressionEstimate = z.object({ mean: z.number(), latentStd: z.number(), predictiveStd: z.number(), lower: z.number(), upper: z.number() });

export const QueueItem = z.object({
  imageId: ImageId,
  name: z.string(),
  previewAsset: z.string(),
  kind: z.enum(['raster', 'dicom']),
  score: z.number().nullable(),
  prediction: Prediction.nullable(),
  estimate: RegressionEstimate.nullable().optional(),
  skipped: z.boolean(),
});

export const ImageDetail = z.object({
  imageId: ImageId,
  path: z.string(),
  sha256: z.string(),
  kind: z.enum(['raster', 'dicom']),
  width: z.number(),
  height: z.number(),
  /** Asset paths; the client turns them into URLs of its transport. */
  previewAsset: z.string(),
  modalityAsset: z.string().nullable(),
  dicom: z.object({ windowCenter: z.number(), windowWidth: z.number(), modality: z.string().optional(), note: z.string().optional() }).nullable(),
  prediction: Prediction.nullable(),
  estimate: RegressionEstimate.nullable().optional(),
  currentLabel: z
    .object({ kind: z.enum(['class', 'value', 'skip', 'unsure']), classIdx: z.number().nullable(), value: z.number().nullable().optional(), annotator: z.string() })
    .nullable(),
});

export const ImportFailure = z.object({ path: z.string(), code: z.string(), message: z.string() });
export const ImportSummary = z.object({
  added: z.number(),
  unchanged: z.number(),
  moved: z.number(),
  labelled: z.number(),
  failed: z.array(ImportFailure),
});

/** A metric and its percentile-bootstrap 95% interval (bdl/clinicalMetrics.ts); null where undefined, `reason` says why. */
const MetricEstimate = z.object({ value: z.number().nullable(), low: z.number().nullable(), high: z.number().nullable(), skippedResamples: z.number(), reason: z.string().optional() });
const OneVsRest = z.object({ auroc: MetricEstimate, sensitivity: MetricEstimate, specificity: MetricEstimate, ppv: MetricEstimate, npv: MetricEstimate });

/** `evaluate` on a labelled CSV (jobs/evaluation.ts): today's metrics and the clinical ones with intervals. */
export const EvaluationResult = z.object({
  modelVersionId: z.number(),
  method: z.string(),
  evaluated: z.number(),
  excludedAsLabelled: z.number(),
  failed: z.array(ImportFailure),
  metrics: MetricsSchema,
  clinical: OneVsRest.extend({
    n: z.number(),
    numClasses: z.number(),
    classes: z.array(z.string()),
    operatingPoint: z.union([z.object({ rule: z.literal('argmax') }), z.object({ rule: z.literal('threshold'), threshold: z.number(), positiveClass: z.number() })]),
    positiveClass: z.number().nullable(),
    bootstrap: z.object({ resamples: z.number(), seed: z.number(), level: z.number() }),
    accuracy: MetricEstimate,
    balancedAccuracy: MetricEstimate,
    nll: MetricEstimate,
    ece: MetricEstimate,
    brier: MetricEstimate,
    perClass: z.array(OneVsRest),
    confusion: z.array(z.array(z.number())),
    prevalence: z.object({ counts: z.array(z.number()), shares: z.array(z.number()) }),
    ordinal: z.object({ qwk: MetricEstimate, meanAbsoluteError: MetricEstimate, predictedGrade: z.string() }).optional(),
  }),
});

export const JobSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('import'), paths: z.array(FsPath).min(1).max(1000) }).strict(),
  z
    .object({
      kind: z.literal('train'),
      /** 'gp' for regression projects only (their default); the others for classification projects. */
      method: z.union([MethodName, RegressionMethodName]).optional(),
      epochs: z.number().int().min(1).max(500).optional(),
      seed: z.number().int().min(0).max(2 ** 31).optional(),
      /** Weight prior (default gaussian); the method must support it (bdl/posterior/registry.ts). */
      prior: PriorName.optional(),
      priorPrecision: PriorPrecision.optional(),
      /** 'lora-ensemble' / 'lora-laplace' only (and required there): the TF.js LayersModel folder or model.json. */
      backbone: FsPath.optional(),
      /** This version only; default the project's (project.setArchitecture changes that). */
      architecture: ArchitectureName.optional(),
    })
    .strict(),
  z.object({ kind: z.literal('export'), out: FsPath, format: ExportFormat, force: z.boolean().optional(), deidentify: z.boolean().optional() }).strict(),
  /** Classification projects: the latest version on a labelled CSV (`path,label`) of images it was not trained on. */
  z
    .object({
      kind: z.literal('evaluate'),
      labels: FsPath,
      samples: z.number().int().min(1).max(1000).optional(),
      /** Two-class projects only: P(positive) ≥ threshold → positive; default the most probable class. */
      threshold: z.number().gt(0).lt(1).optional(),
      /** Two-class projects only: the class name sensitivity, PPV and AUROC are of; default the second class. */
      positive: text(100).optional(),
      /** Bootstrap resamples for the 95% intervals; default 1000, 0 for none. */
      bootstrap: z.number().int().min(0).max(100_000).optional(),
      /** The classes, in order, are grades: adds QWK and the mean absolute grade error. */
      ordinal: z.boolean().optional(),
    })
    .strict(),
  /** The active-learning benchmark on a labelled data set (src-main/simulate); not tied to the project's images. */
  z
    .object({
      kind: z.literal('simulate'),
      dataset: FsPath,
      testCsv: FsPath.optional(),
      acquisitions: z.array(SimulateAcquisitionName).min(1).max(8).optional(),
      method: MethodName.optional(),
      backbone: FsPath.optional(),
      prior: PriorName.optional(),
      priorPrecision: PriorPrecision.optional(),
      initial: z.number().int().min(2).max(1_000_000).optional(),
      step: z.number().int().min(1).max(100_000).optional(),
      rounds: z.number().int().min(0).max(100_000).optional(),
      seeds: z.number().int().min(1).max(1000).optional(),
      seed: z.number().int().min(0).max(2 ** 31).optional(),
      epochs: z.number().int().min(1).max(500).optional(),
      samples: z.number().int().min(1).max(1000).optional(),
      poolSize: z.number().int().min(1).max(100_000_000).optional(),
      poolSubset: z.number().int().min(1).max(100_000_000).optional(),
      testSize: z.number().int().min(1).max(100_000_000).optional(),
      imageSize: ImageSize.optional(),
      channels: Channels.optional(),
      /** Default: gal-cnn at 28 px, resnet from 64 px up. */
      architecture: ArchitectureName.optional(),
      warmStart: z.enum(['random', 'kcenter']).optional(),
      warmStartRounds: z.number().int().min(0).max(100_000).optional(),
      /** End each run at the first round with held-out accuracy ≥ this. */
      untilAccuracy: z.number().gt(0).max(1).optional(),
      out: FsPath.optional(),
    })
    .strict(),
]);

const Quartiles = z.object({ median: z.number().nullable(), q1: z.number().nullable(), q3: z.number().nullable() });

export const JobState = z.object({
  jobId: JobId,
  projectId: ProjectId,
  kind: z.enum(['import', 'train', 'export', 'evaluate', 'simulate']),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  fraction: z.number(),
  message: z.string(),
  epoch: z.number().optional(),
  epochs: z.number().optional(),
  loss: z.number().optional(),
  etaSeconds: z.number().optional(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  error: z.string().optional(),
  result: z
    .union([
      z.object({ kind: z.literal('import'), summary: ImportSummary }),
      z.object({ kind: z.literal('train'), modelVersion: ModelVersionInfo }),
      z.object({ kind: z.literal('export'), out: z.string(), rows: z.number(), files: z.number() }),
      z.object({ kind: z.literal('evaluate'), report: EvaluationResult }),
      z.object({
        kind: z.literal('simulate'),
        /** Folder of rounds.csv, summary.json, learning-curve.svg, when asked for. */
        out: z.string().nullable(),
        /** False when the job was cancelled or failed part-way: these are the rounds measured until then. */
        complete: z.boolean(),
        seconds: z.number(),
        rounds: z.number(),
        acquisitions: z.array(
          z.object({
            acquisition: SimulateAcquisitionName,
            seeds: z.number(),
            labelsTo90: Quartiles,
            labelsTo95: Quartiles,
            finalAccuracy: Quartiles,
            curve: z.array(z.object({ labels: z.number(), median: z.number(), q1: z.number(), q3: z.number() })),
          }),
        ),
      }),
    ])
    .optional(),
});

const Empty = z.object({}).strict();
const ProjectRequest = z.object({ projectId: ProjectId }).strict();
const RecentProject = z.object({ dir: z.string(), name: z.string(), openedAt: z.string() });
const Settings = z.object({ annotator: z.string().nullable(), recentProjects: z.array(RecentProject) });

export const contract = {
  'app.info': {
    request: Empty,
    response: z.object({ version: z.string(), mode: z.enum(['electron', 'browser']), defaultProjectsDir: z.string(), demoDir: z.string() }),
  },
  'settings.get': { request: Empty, response: Settings },
  'settings.setAnnotator': { request: z.object({ annotator: text(100) }).strict(), response: Settings },
  'fs.listDir': {
    request: z.object({ dir: FsPath.optional() }).strict(),
    response: z.object({ dir: z.string(), parent: z.string().nullable(), dirs: z.array(z.string()), imageFiles: z.number() }),
  },
  'project.create': {
    request: z
      .object({
        dir: FsPath,
        name: text(200).optional(),
        task: TaskName.optional(),
        /** Classification projects (the default). */
        classes: z.array(text(100)).min(2).max(100).optional(),
        /** Regression projects: what the number measures, its unit and optional range. */
        target: z.object({ name: text(100), unit: z.string().max(20).optional(), min: z.number().optional(), max: z.number().optional() }).strict().optional(),
        imageSize: ImageSize.optional(),
        channels: Channels.optional(),
        /** Default: gal-cnn at 28 px, resnet from 64 px up. */
        architecture: ArchitectureName.optional(),
      })
      .strict(),
    response: ProjectInfo,
  },
  /** The network later versions train; trained versions keep theirs. Refused when it does not fit the images. */
  'project.setArchitecture': { request: z.object({ projectId: ProjectId, architecture: ArchitectureName }).strict(), response: ProjectInfo },
  'project.open': { request: z.object({ dir: FsPath }).strict(), response: ProjectInfo },
  'project.openDemo': { request: Empty, response: ProjectInfo },
  'project.status': { request: ProjectRequest, response: ProjectStatus },
  'queue.list': {
    request: z
      .object({
        projectId: ProjectId,
        acquisition: AcquisitionName,
        offset: z.number().int().min(0).max(10_000_000).optional(),
        limit: z.number().int().min(1).max(500).optional(),
      })
      .strict(),
    /** `acquisition` is the order actually used: null before any model (a stable shuffle, no scores). */
    response: z.object({ modelVersionId: z.number().nullable(), acquisition: AcquisitionName.nullable(), total: z.number(), items: z.array(QueueItem) }),
  },
  /**
   * Interactive re-rank (src-main/ranking/rerank.ts): refits a Bayesian last layer on the cached
   * features of the latest trained version with the current labels and rescores the queue, as a new
   * model version (hyper.rerankOf, hyper.rerankCount). About a second, not a retrain.
   */
  'queue.rerank': {
    request: ProjectRequest,
    response: z.object({
      modelVersion: ModelVersionInfo,
      baseVersionId: z.number(),
      rerankCount: z.number(),
      labels: z.number(),
      labelsWithoutFeatures: z.number(),
      scored: z.number(),
      seconds: z.object({ fit: z.number(), score: z.number(), write: z.number(), total: z.number() }),
    }),
  },
  'image.detail': { request: z.object({ projectId: ProjectId, imageId: ImageId }).strict(), response: ImageDetail },
  'label.add': {
    request: z
      .object({
        projectId: ProjectId,
        imageId: ImageId,
        label: LabelValue,
        annotator: text(100),
        msSpent: z.number().int().min(0).max(86_400_000).optional(),
        modelVersionId: z.number().int().positive().nullable().optional(),
        acquisition: AcquisitionName.nullable().optional(),
        acquisitionScore: z.number().finite().nullable().optional(),
      })
      .strict(),
    response: z.object({ eventId: z.number() }),
  },
  'label.undo': {
    request: z.object({ projectId: ProjectId, annotator: text(100) }).strict(),
    response: z.object({ undone: z.object({ imageId: ImageId, eventId: z.number() }).nullable() }),
  },
  'model.list': {
    request: ProjectRequest,
    response: z.object({
      versions: z.array(ModelVersionInfo),
      learningCurve: z.array(z.object({ modelVersionId: z.number(), nLabels: z.number(), accuracy: z.number(), nll: z.number(), ece: z.number(), brier: z.number() })),
      /** Regression versions with held-out metrics. */
      regressionCurve: z.array(z.object({ modelVersionId: z.number(), nLabels: z.number(), rmse: z.number(), mae: z.number(), nll: z.number(), coverage90: z.number() })),
    }),
  },
  /** Prior predictive check (src-main/bdl/priorPredictive.ts): S functions of a tanh and a ReLU network, as an SVG. */
  'bdl.priorPredictive': {
    request: z
      .object({
        prior: z.enum(['gaussian', 'laplace']).optional(),
        samples: z.number().int().min(1).max(100).optional(),
        width: z.number().int().min(1).max(500).optional(),
        depth: z.number().int().min(1).max(6).optional(),
        sigmaW: z.number().positive().max(100).optional(),
        sigmaB: z.number().min(0).max(100).optional(),
        seed: z.number().int().min(0).max(2 ** 31).optional(),
      })
      .strict(),
    response: z.object({
      svg: z.string(),
      options: z.object({ prior: z.enum(['gaussian', 'laplace']), samples: z.number(), width: z.number(), depth: z.number(), sigmaW: z.number(), sigmaB: z.number(), seed: z.number() }),
    }),
  },
  'job.start': { request: z.object({ projectId: ProjectId, job: JobSpec }).strict(), response: JobState },
  'job.get': { request: z.object({ jobId: JobId }).strict(), response: JobState },
  'job.cancel': { request: z.object({ jobId: JobId }).strict(), response: JobState },
  'job.list': { request: ProjectRequest, response: z.array(JobState) },
} as const;

/** Events pushed from the main process to the renderer over the same transports. */
export const events = {
  'job.progress': JobState,
} as const;

export type Contract = typeof contract;
export type Method = keyof Contract;
export type Request<M extends Method> = z.infer<Contract[M]['request']>;
export type Response<M extends Method> = z.infer<Contract[M]['response']>;
export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>;
export const methodNames = Object.keys(contract) as Method[];
export const eventNames = Object.keys(events) as EventName[];

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(contract, name);
}

/** Every transport returns this envelope, so errors cross IPC and HTTP with their code intact. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string } };
export type ErrorCode = 'bad-request' | 'not-found' | 'conflict' | 'cancelled' | 'internal';

/** The service as implemented in the main process and as seen by the renderer's client. */
export type Service = { [M in Method]: (request: Request<M>) => Promise<Response<M>> };

export type JobStateT = z.infer<typeof JobState>;
export type JobSpecT = z.infer<typeof JobSpec>;
export type ProjectInfoT = z.infer<typeof ProjectInfo>;
export type ImportSummaryT = z.infer<typeof ImportSummary>;
export type ModelVersionInfoT = z.infer<typeof ModelVersionInfo>;
export type PredictionT = z.infer<typeof Prediction>;
export type RegressionEstimateT = z.infer<typeof RegressionEstimate>;
export type RegressionTargetT = z.infer<typeof RegressionTarget>;
export type QueueItemT = z.infer<typeof QueueItem>;
export type ImageDetailT = z.infer<typeof ImageDetail>;
export type AcquisitionNameT = z.infer<typeof AcquisitionName>;
