import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AcquisitionNameT, QueueItemT } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { useNotify } from './useNotify.tsx';

const PAGE = 200;

interface Loaded {
  items: QueueItemT[];
  total: number;
  modelVersionId: number | null;
}

/**
 * The ranked queue with optimistic labelling: an image labelled here is hidden at once (before the
 * service answers), an undone one is pinned to the front. Pages are appended as the list scrolls.
 */
export function useQueue(projectId: string, acquisition: AcquisitionNameT, revision: number) {
  const client = useClient();
  const { notifyError } = useNotify();
  const [loaded, setLoaded] = useState<Loaded>({ items: [], total: 0, modelVersionId: null });
  const [loading, setLoading] = useState(true);
  const [hidden, setHidden] = useState<Map<number, 'class' | 'value' | 'skip' | 'unsure'>>(new Map());
  const [pinned, setPinned] = useState<QueueItemT[]>([]);
  const generation = useRef(0);
  const loadingMore = useRef(false);
  const hiddenRef = useRef(hidden);
  hiddenRef.current = hidden;

  const reload = useCallback(() => {
    const gen = ++generation.current;
    setLoading(true);
    client['queue.list']({ projectId, acquisition, offset: 0, limit: PAGE }).then(
      (page) => {
        if (gen !== generation.current) return;
        setLoaded({ items: page.items, total: page.total, modelVersionId: page.modelVersionId });
        // A skipped image the service lists again (at its new place) is shown again.
        setHidden((h) => {
          const next = new Map(h);
          for (const item of page.items) if (item.skipped && next.get(item.imageId) === 'skip') next.delete(item.imageId);
          return next;
        });
        setLoading(false);
      },
      (error) => {
        if (gen !== generation.current) return;
        setLoading(false);
        notifyError(error);
      },
    );
  }, [client, projectId, acquisition, notifyError]);

  useEffect(reload, [reload, revision]);

  const loadMore = useCallback(() => {
    if (loadingMore.current || loading || loaded.items.length >= loaded.total) return;
    loadingMore.current = true;
    const gen = generation.current;
    // Images labelled since the page was read have left the service's queue: step back by that many.
    const gone = loaded.items.filter((i) => hiddenRef.current.has(i.imageId)).length;
    const offset = Math.max(0, loaded.items.length - gone - 20);
    client['queue.list']({ projectId, acquisition, offset, limit: PAGE })
      .then(
        (page) => {
          if (gen !== generation.current) return;
          setLoaded((prev) => {
            const seen = new Set(prev.items.map((i) => i.imageId));
            const extra = page.items.filter((i) => !seen.has(i.imageId));
            return { ...prev, items: [...prev.items, ...extra], total: extra.length ? prev.total : prev.items.length };
          });
        },
        notifyError,
      )
      .finally(() => {
        loadingMore.current = false;
      });
  }, [client, projectId, acquisition, loaded, loading, notifyError]);

  const visible = useMemo(() => {
    const pinnedIds = new Set(pinned.map((p) => p.imageId));
    return [...pinned.filter((p) => !hidden.has(p.imageId)), ...loaded.items.filter((i) => !hidden.has(i.imageId) && !pinnedIds.has(i.imageId))];
  }, [loaded.items, hidden, pinned]);

  const hide = useCallback((imageId: number, kind: 'class' | 'value' | 'skip' | 'unsure') => {
    // The ref changes at once, so a second key press before the next render cannot label the same image.
    hiddenRef.current = new Map(hiddenRef.current).set(imageId, kind);
    setHidden((h) => new Map(h).set(imageId, kind));
    setPinned((p) => p.filter((i) => i.imageId !== imageId));
  }, []);
  const isHidden = useCallback((imageId: number) => hiddenRef.current.has(imageId), []);
  const unhide = useCallback((imageId: number) => {
    hiddenRef.current = new Map(hiddenRef.current);
    hiddenRef.current.delete(imageId);
    setHidden((h) => {
      const next = new Map(h);
      next.delete(imageId);
      return next;
    });
  }, []);
  /** Put an image first (an undone label, or a row the user clicked). */
  const pin = useCallback((item: QueueItemT) => {
    hiddenRef.current = new Map(hiddenRef.current);
    hiddenRef.current.delete(item.imageId);
    setHidden((h) => {
      const next = new Map(h);
      next.delete(item.imageId);
      return next;
    });
    setPinned((p) => [item, ...p.filter((i) => i.imageId !== item.imageId)]);
  }, []);

  const findItem = useCallback((imageId: number) => loaded.items.find((i) => i.imageId === imageId) ?? pinned.find((i) => i.imageId === imageId), [loaded.items, pinned]);

  // Running low on visible items while the service has more: fetch the next page.
  useEffect(() => {
    if (!loading && visible.length < 20 && loaded.items.length < loaded.total) loadMore();
  }, [visible.length, loading, loaded.items.length, loaded.total, loadMore]);

  // Everything shown is labelled but images were skipped: read the queue again, where they come last.
  const skippedHidden = [...hidden.values()].filter((k) => k === 'skip').length;
  const reloadedForSkips = useRef(-1);
  useEffect(() => {
    if (loading || visible.length > 0 || skippedHidden === 0 || reloadedForSkips.current === skippedHidden) return;
    reloadedForSkips.current = skippedHidden;
    reload();
  }, [loading, visible.length, skippedHidden, reload]);

  const labelledHere = loaded.items.filter((i) => hidden.has(i.imageId) && hidden.get(i.imageId) !== 'skip').length;
  const remaining = Math.max(0, loaded.total - labelledHere);
  return { visible, loading, modelVersionId: loaded.modelVersionId, total: loaded.total, remaining, reload, loadMore, hide, unhide, pin, findItem, isHidden };
}
