import { useCallback, useEffect, useRef, useState } from 'react';
import { ServiceCallError } from '../client/client.ts';
import { useClient } from '../client/ClientContext.tsx';
import { useNotify } from './useNotify.tsx';

/** Class labels between two re-ranks, and the quiet time after the last of them before one starts. */
export const RERANK_EVERY = 10;
const DEBOUNCE_MS = 2000;

export interface RerankNote {
  /** A re-rank that ran: labels it used and its duration; or a quiet note why it could not run. */
  done?: { labels: number; seconds: number; modelVersionId: number };
  skipped?: string;
}

/**
 * Interactive re-rank while labelling (queue.rerank): after every RERANK_EVERY new class labels,
 * once the annotator pauses for DEBOUNCE_MS, the last layer is refitted on the trained version's
 * cached features and the queue reloaded. Only while `baseVersionId` (status.rerankBase) says a
 * re-rank can run; a new base (a training) starts the count again. `saved` resolves once the labels
 * given so far are stored. A conflict or a refusal becomes a quiet note, not an error popup.
 */
export function useAutoRerank(o: { projectId: string; baseVersionId: number | null; saved(): Promise<unknown>; onReranked(): void }) {
  const client = useClient();
  const { notifyError } = useNotify();
  const [note, setNote] = useState<RerankNote | null>(null);
  const pending = useRef(0);
  const running = useRef(false);
  const timer = useRef<number | undefined>(undefined);
  const latest = useRef(o);
  latest.current = o;

  useEffect(() => {
    pending.current = 0;
    return () => window.clearTimeout(timer.current);
  }, [o.projectId, o.baseVersionId]);

  const run = useCallback(async () => {
    const { projectId, baseVersionId, saved, onReranked } = latest.current;
    if (running.current || baseVersionId === null || pending.current < RERANK_EVERY) return;
    running.current = true;
    const counted = pending.current;
    try {
      await saved();
      const r = await client['queue.rerank']({ projectId });
      pending.current = Math.max(0, pending.current - counted);
      setNote({ done: { labels: r.labels, seconds: r.seconds.total, modelVersionId: r.modelVersion.id } });
      onReranked();
    } catch (error) {
      // Try again after the next RERANK_EVERY labels, not after every one.
      pending.current = 0;
      if (error instanceof ServiceCallError && (error.code === 'conflict' || error.code === 'bad-request')) setNote({ skipped: error.message });
      else notifyError(error);
    } finally {
      running.current = false;
    }
  }, [client, notifyError]);

  /** Call once per class label given on this screen. */
  const noteClassLabel = useCallback(() => {
    pending.current += 1;
    if (latest.current.baseVersionId === null || pending.current < RERANK_EVERY) return;
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void run(), DEBOUNCE_MS);
  }, [run]);

  return { note, noteClassLabel };
}
