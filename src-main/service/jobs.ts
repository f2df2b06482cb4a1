import type { JobStateT } from './contract.ts';

type JobKind = JobStateT['kind'];
type JobResult = NonNullable<JobStateT['result']>;

export interface JobControl {
  signal: AbortSignal;
  /** Reports progress; the ETA is derived from the elapsed time and the fraction done. */
  report(update: Partial<Pick<JobStateT, 'fraction' | 'message' | 'epoch' | 'epochs' | 'loss'>>): void;
}

export type JobRunner = (control: JobControl) => Promise<JobResult>;

/** Thrown by a runner that was cancelled or failed part-way with results worth keeping (the job's `result`). */
export class PartialResultError extends Error {
  constructor(
    reason: unknown,
    readonly result: JobResult,
  ) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

/**
 * Long work (import, train, export) as jobs: each has an id, streams its state to listeners, and can
 * be cancelled. A failing job records its error; it never takes the process down.
 */
export class JobManager {
  private readonly jobs = new Map<string, { state: JobStateT; controller: AbortController }>();
  private nextId = 1;
  private readonly startedAtMs = new Map<string, number>();

  constructor(private readonly publish: (state: JobStateT) => void) {}

  start(projectId: string, kind: JobKind, run: JobRunner): JobStateT {
    const jobId = `j${this.nextId++}`;
    const controller = new AbortController();
    const state: JobStateT = { jobId, projectId, kind, status: 'running', fraction: 0, message: 'starting', startedAt: new Date().toISOString() };
    this.jobs.set(jobId, { state, controller });
    this.startedAtMs.set(jobId, Date.now());
    let lastPublished = 0;
    const control: JobControl = {
      signal: controller.signal,
      report: (update) => {
        if (state.status !== 'running') return;
        Object.assign(state, update);
        const elapsed = (Date.now() - this.startedAtMs.get(jobId)!) / 1000;
        if (state.fraction > 0.02) state.etaSeconds = Math.max(0, (elapsed * (1 - state.fraction)) / state.fraction);
        // Progress can come per batch; a few updates a second are plenty for a progress bar.
        if (Date.now() - lastPublished > 150 || state.fraction >= 1) {
          lastPublished = Date.now();
          this.publish({ ...state });
        }
      },
    };
    this.publish({ ...state });
    void run(control).then(
      (result) => this.finish(state, { status: 'succeeded', fraction: 1, message: 'done', result }),
      (error: unknown) => {
        const partial = error instanceof PartialResultError ? { result: error.result } : {};
        if (controller.signal.aborted) this.finish(state, { status: 'cancelled', message: 'cancelled', ...partial });
        else this.finish(state, { status: 'failed', message: 'failed', error: error instanceof Error ? error.message : String(error), ...partial });
      },
    );
    return { ...state };
  }

  private finish(state: JobStateT, update: Partial<JobStateT>): void {
    Object.assign(state, update, { finishedAt: new Date().toISOString(), etaSeconds: 0 });
    this.publish({ ...state });
  }

  get(jobId: string): JobStateT | undefined {
    const job = this.jobs.get(jobId);
    return job && { ...job.state };
  }

  cancel(jobId: string): JobStateT | undefined {
    const job = this.jobs.get(jobId);
    if (job?.state.status === 'running') job.controller.abort();
    return job && { ...job.state };
  }

  list(projectId: string): JobStateT[] {
    return [...this.jobs.values()].filter((j) => j.state.projectId === projectId).map((j) => ({ ...j.state }));
  }

  /** Cancels every running job and waits for them to settle. */
  async cancelAll(): Promise<void> {
    for (const job of this.jobs.values()) if (job.state.status === 'running') job.controller.abort();
    while ([...this.jobs.values()].some((j) => j.state.status === 'running')) await new Promise((r) => setTimeout(r, 20));
  }
}
