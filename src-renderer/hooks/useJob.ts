import { useEffect, useState } from 'react';
import type { JobStateT } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';

const POLL_MS = 1500;

/**
 * The live state of one job: job.progress events, plus a slow job.get poll in case an event was
 * missed (e.g. before the event stream connected). Stops polling once the job has finished.
 */
export function useJob(initial: JobStateT | null): JobStateT | null {
  const client = useClient();
  const [job, setJob] = useState<JobStateT | null>(initial);
  const jobId = initial?.jobId ?? null;

  useEffect(() => setJob(initial), [initial]);

  useEffect(() => {
    if (!jobId) return;
    let finished = false;
    const accept = (next: JobStateT) => {
      if (next.jobId !== jobId) return;
      setJob((prev) => (prev && prev.status !== 'running' && next.status === 'running' ? prev : next));
      if (next.status !== 'running') finished = true;
    };
    const unsubscribe = client.subscribe('job.progress', accept);
    const timer = window.setInterval(() => {
      if (finished) return;
      client['job.get']({ jobId }).then(accept, () => undefined);
    }, POLL_MS);
    return () => {
      unsubscribe();
      window.clearInterval(timer);
    };
  }, [client, jobId]);

  return job;
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60 ? `${m} min ${s.toString().padStart(2, '0')} s` : `${Math.floor(m / 60)} h ${(m % 60).toString().padStart(2, '0')} min`;
}
