import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { JobStateT, ProjectInfoT, Response } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { useNotify } from './useNotify.tsx';

export type ProjectStatusT = Response<'project.status'>;

interface ProjectContextValue {
  project: ProjectInfoT;
  status: ProjectStatusT | null;
  /** Re-reads project.status (debounced a little: labelling calls it after every label). */
  refreshStatus(): void;
  annotator: string | null;
  /** Bumped whenever a model version is trained or images imported: the queue reloads on it. */
  dataRevision: number;
  bumpData(): void;
  /** A job of this project finished: imports and trainings change the queue (once per job). */
  noteJobDone(job: JobStateT): void;
  /** The latest progress of a job of this project still running, from job.progress events. */
  activeJob: JobStateT | null;
}

const ProjectContext = createContext<ProjectContextValue | null>(null);

export function ProjectProvider({ project, annotator, children }: { project: ProjectInfoT; annotator: string | null; children: ReactNode }) {
  const client = useClient();
  const { notifyError } = useNotify();
  const [status, setStatus] = useState<ProjectStatusT | null>(null);
  const [dataRevision, setDataRevision] = useState(0);
  const timer = useRef<number | undefined>(undefined);

  const loadStatus = useCallback(() => {
    client['project.status']({ projectId: project.projectId }).then(setStatus, notifyError);
  }, [client, project.projectId, notifyError]);

  const refreshStatus = useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(loadStatus, 250);
  }, [loadStatus]);

  useEffect(() => {
    loadStatus();
    return () => window.clearTimeout(timer.current);
  }, [loadStatus, dataRevision]);

  const bumpData = useCallback(() => setDataRevision((r) => r + 1), []);
  const doneJobs = useRef(new Set<string>());
  const noteJobDone = useCallback(
    (job: JobStateT) => {
      if (job.status === 'running' || doneJobs.current.has(job.jobId)) return;
      doneJobs.current.add(job.jobId);
      if (job.status === 'succeeded' && (job.kind === 'import' || job.kind === 'train')) bumpData();
    },
    [bumpData],
  );

  // Trainings finish while the user labels: follow every job of this project.
  const [activeJob, setActiveJob] = useState<JobStateT | null>(null);
  useEffect(
    () =>
      client.subscribe('job.progress', (job) => {
        if (job.projectId !== project.projectId) return;
        setActiveJob((current) => (job.status === 'running' ? job : current?.jobId === job.jobId ? null : current));
        noteJobDone(job);
      }),
    [client, project.projectId, noteJobDone],
  );

  const value = useMemo(
    () => ({ project, status, refreshStatus, annotator, dataRevision, bumpData, noteJobDone, activeJob }),
    [project, status, refreshStatus, annotator, dataRevision, bumpData, noteJobDone, activeJob],
  );
  return <ProjectContext.Provider value={value}>{children}</ProjectContext.Provider>;
}

export function useProject(): ProjectContextValue {
  const value = useContext(ProjectContext);
  if (!value) throw new Error('useProject outside <ProjectProvider>');
  return value;
}
