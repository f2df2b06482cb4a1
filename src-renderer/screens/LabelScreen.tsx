import { Box, FormControl, InputLabel, MenuItem, Paper, Select, Stack, Typography } from '@mui/material';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AcquisitionNameT, QueueItemT } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { ImageCache, type LoadedImage } from '../client/imageCache.ts';
import { ClassButtons } from '../components/ClassButtons.tsx';
import { ImageViewer } from '../components/ImageViewer.tsx';
import { ImageFacts } from '../components/ImageFacts.tsx';
import { PredictionPanel } from '../components/PredictionPanel.tsx';
import { RegressionPanel } from '../components/RegressionPanel.tsx';
import { ValueInput } from '../components/ValueInput.tsx';
import { QueueList } from '../components/QueueList.tsx';
import { StoppingBanner } from '../components/StoppingBanner.tsx';
import { isForeignKeyTarget } from '../hooks/keyboard.ts';
import { useNotify } from '../hooks/useNotify.tsx';
import { useProject } from '../hooks/useProject.tsx';
import { useQueue } from '../hooks/useQueue.ts';
import { useAutoRerank } from '../hooks/useAutoRerank.ts';

const ACQUISITIONS: { id: AcquisitionNameT; label: string }[] = [
  { id: 'bald', label: 'BALD (epistemic)' },
  { id: 'entropy', label: 'Predictive entropy' },
  { id: 'margin', label: 'Smallest margin' },
  { id: 'var-ratios', label: 'Variation ratios' },
  { id: 'mean-std', label: 'Mean std' },
  { id: 'random', label: 'Random' },
];
/** Regression projects rank by the GP's latent variance (epistemic; label noise excluded). */
const REGRESSION_ACQUISITIONS: { id: AcquisitionNameT; label: string }[] = [
  { id: 'variance', label: 'Latent variance (epistemic)' },
  { id: 'random', label: 'Random' },
];
const PREFETCH = 5;
type Label = { kind: 'class'; classIdx: number } | { kind: 'value'; value: number } | { kind: 'skip' } | { kind: 'unsure' };

function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

export function LabelScreen({ onNeedAnnotator }: { onNeedAnnotator(): void }) {
  const client = useClient();
  const { notify, notifyError } = useNotify();
  const { project, annotator, refreshStatus, dataRevision, status } = useProject();
  const regression = project.task === 'regression';
  const acquisitions = regression ? REGRESSION_ACQUISITIONS : ACQUISITIONS;
  const storageKey = regression ? 'episteme.acquisition.regression' : 'episteme.acquisition';
  const [acquisition, setAcquisition] = useState<AcquisitionNameT>(() => {
    const stored = localStorage.getItem(storageKey) as AcquisitionNameT | null;
    return acquisitions.some((a) => a.id === stored) ? stored! : acquisitions[0].id;
  });
  const queue = useQueue(project.projectId, acquisition, dataRevision);
  const cache = useMemo(() => new ImageCache(client, project.projectId), [client, project.projectId, dataRevision]);
  useEffect(() => () => cache.dispose(), [cache]);

  const current: QueueItemT | null = queue.visible[0] ?? null;
  const [shown, setShown] = useState<LoadedImage | null>(null);
  const [loadingImage, setLoadingImage] = useState(false);
  const shownAt = useRef(performance.now());
  const chain = useRef<Promise<unknown>>(Promise.resolve());
  const [labelledCount, setLabelledCount] = useState(0);
  // Regression projects refit their GP by training: no re-rank there.
  const rerank = useAutoRerank({
    projectId: project.projectId,
    baseVersionId: regression ? null : (status?.rerankBase ?? null),
    saved: () => chain.current,
    onReranked: () => {
      // The image on screen stays; the ones after it follow the new ranking.
      if (current) queue.pin(current);
      queue.reload();
      refreshStatus();
    },
  });

  // Show the current image (instantly when prefetched) and prefetch the next few.
  useEffect(() => {
    if (!current) {
      setShown(null);
      setLoadingImage(false);
      return;
    }
    const ready = cache.peek(current.imageId);
    if (ready) {
      setShown(ready);
      setLoadingImage(false);
      shownAt.current = performance.now();
    } else {
      setLoadingImage(true);
      let live = true;
      cache.load(current.imageId).then(
        (img) => {
          if (!live) return;
          setShown(img);
          setLoadingImage(false);
          shownAt.current = performance.now();
        },
        (error) => {
          if (!live) return;
          setLoadingImage(false);
          notifyError(error);
        },
      );
      cache.prefetch(queue.visible.slice(1, 1 + PREFETCH).map((i) => i.imageId));
      return () => {
        live = false;
      };
    }
    cache.prefetch(queue.visible.slice(1, 1 + PREFETCH).map((i) => i.imageId));
  }, [current?.imageId, cache]);

  const enqueue = useCallback((task: () => Promise<unknown>) => {
    chain.current = chain.current.then(task, task);
    return chain.current;
  }, []);

  const label = useCallback(
    (value: Label) => {
      if (!current || !shown || shown.detail.imageId !== current.imageId || queue.isHidden(current.imageId)) return;
      if (!annotator) {
        onNeedAnnotator();
        return;
      }
      const item = current;
      const msSpent = Math.min(86_400_000, Math.max(0, Math.round(performance.now() - shownAt.current)));
      queue.hide(item.imageId, value.kind);
      setLabelledCount((n) => n + 1);
      enqueue(() =>
        client['label.add']({
          projectId: project.projectId,
          imageId: item.imageId,
          label: value,
          annotator,
          msSpent,
          modelVersionId: queue.modelVersionId,
          // Without a model the service orders the pool at random, whatever was asked for.
          acquisition: queue.modelVersionId === null ? 'random' : acquisition,
          acquisitionScore: item.score !== null && Number.isFinite(item.score) ? item.score : null,
        }).then(
          () => {
            cache.forget(item.imageId);
            refreshStatus();
            if (value.kind === 'class') rerank.noteClassLabel();
          },
          (error) => {
            queue.unhide(item.imageId);
            setLabelledCount((n) => n - 1);
            notifyError(error);
          },
        ),
      );
    },
    [current, shown, annotator, onNeedAnnotator, queue, enqueue, client, project.projectId, acquisition, cache, refreshStatus, notifyError, rerank.noteClassLabel],
  );

  const undo = useCallback(() => {
    if (!annotator) return;
    enqueue(() =>
      client['label.undo']({ projectId: project.projectId, annotator }).then(
        async (result) => {
          if (!result.undone) {
            notify('Nothing to undo', 'info');
            return;
          }
          const { imageId } = result.undone;
          cache.forget(imageId);
          let item = queue.findItem(imageId);
          if (!item) {
            const detail = await cache.detail(imageId);
            item = { imageId, name: basename(detail.path), previewAsset: detail.previewAsset, kind: detail.kind, score: null, prediction: detail.prediction, estimate: detail.estimate, skipped: false };
          }
          queue.pin(item);
          setLabelledCount((n) => Math.max(0, n - 1));
          refreshStatus();
          notify(`Undid the label of ${item.name}`, 'info');
        },
        notifyError,
      ),
    );
  }, [annotator, enqueue, client, project.projectId, cache, queue, refreshStatus, notify, notifyError]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isForeignKeyTarget(e)) return;
      if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === 'z' || e.key === 'Z') && !e.shiftKey) {
        e.preventDefault();
        undo();
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
      if (regression && /^[0-9.+-]$/.test(e.key)) {
        // Typing a number anywhere starts the value: the focused field receives the key.
        document.querySelector<HTMLInputElement>('[data-testid="value-field"]')?.focus();
      } else if (!regression && /^[1-9]$/.test(e.key)) {
        const idx = Number(e.key) - 1;
        if (idx < project.classes.length) {
          e.preventDefault();
          label({ kind: 'class', classIdx: idx });
        }
      } else if (e.key === 's' || e.key === 'S') {
        e.preventDefault();
        label({ kind: 'skip' });
      } else if (e.key === 'f' || e.key === 'F') {
        e.preventDefault();
        label({ kind: 'unsure' });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [label, undo, project.classes.length, regression]);

  const onPick = useCallback((item: QueueItemT) => queue.pin(item), [queue]);
  const prediction = shown?.detail.prediction ?? current?.prediction ?? null;
  const estimate = shown?.detail.estimate ?? current?.estimate ?? null;
  const ready = Boolean(current && shown && shown.detail.imageId === current.imageId);

  return (
    <Box sx={{ display: 'flex', gap: 2, p: 2, height: '100%', minHeight: 0, boxSizing: 'border-box' }} data-testid="label-screen">
      <Paper variant="outlined" sx={{ width: 280, flexShrink: 0, display: 'flex', flexDirection: 'column', minHeight: 0 }}>
        <Box sx={{ p: 1.5, pb: 1 }}>
          <FormControl size="small" fullWidth>
            <InputLabel id="acq-label">Order by</InputLabel>
            <Select
              labelId="acq-label"
              label="Order by"
              value={acquisition}
              onChange={(e) => {
                const next = e.target.value as AcquisitionNameT;
                localStorage.setItem(storageKey, next);
                setAcquisition(next);
              }}
              data-testid="acquisition-select"
            >
              {acquisitions.map((a) => (
                <MenuItem key={a.id} value={a.id} data-testid={`acquisition-${a.id}`}>
                  {a.label}
                </MenuItem>
              ))}
            </Select>
          </FormControl>
          <Typography variant="caption" color="text.secondary" sx={{ display: 'block', mt: 0.75 }} data-testid="queue-summary">
            {queue.loading ? 'Loading queue…' : `${queue.remaining} to label · ${queue.modelVersionId !== null ? `ranked by model v${queue.modelVersionId}` : 'no model yet'}`}
          </Typography>
          {rerank.note && (
            <Typography variant="caption" color="text.secondary" noWrap sx={{ display: 'block', fontSize: '0.7rem' }} data-testid="rerank-note" data-version={rerank.note.done?.modelVersionId ?? ''} title={rerank.note.skipped}>
              {rerank.note.done ? `Queue re-ranked on ${rerank.note.done.labels} labels · ${rerank.note.done.seconds.toFixed(1)} s` : `Queue not re-ranked: ${rerank.note.skipped}`}
            </Typography>
          )}
        </Box>
        <QueueList items={queue.visible} ranked={queue.modelVersionId !== null} currentId={current?.imageId ?? null} onPick={onPick} onNearEnd={queue.loadMore} />
      </Paper>

      <Box sx={{ flex: 1, minWidth: 0, display: 'flex', flexDirection: 'column', gap: 1.5, minHeight: 0 }}>
        <Stack direction="row" sx={{ alignItems: 'baseline', justifyContent: 'space-between' }}>
          <Typography variant="subtitle1" noWrap sx={{ fontWeight: 600 }} data-testid="current-name" data-image-id={current?.imageId ?? ''}>
            {current ? current.name : queue.loading ? '' : 'Every image is labelled'}
          </Typography>
          <Typography variant="caption" color="text.secondary" sx={{ whiteSpace: 'nowrap', ml: 2 }} data-testid="session-count">
            {labelledCount} labelled this session
          </Typography>
        </Stack>
        <StoppingBanner stopping={status?.stopping} />
        <Box sx={{ flex: 1, minHeight: 0 }}>
          <ImageViewer image={current ? shown : null} loading={loadingImage && Boolean(current)} />
        </Box>
        {regression && project.target ? (
          <ValueInput
            target={project.target}
            imageKey={ready ? (current?.imageId ?? null) : null}
            disabled={!ready}
            suggestion={current ? (estimate?.mean ?? null) : null}
            onValue={(value) => label({ kind: 'value', value })}
            onSkip={() => label({ kind: 'skip' })}
            onUnsure={() => label({ kind: 'unsure' })}
            onUndo={undo}
          />
        ) : (
          <ClassButtons
            classes={project.classes}
            predicted={prediction ? prediction.predicted : null}
            disabled={!ready}
            onClass={(i) => label({ kind: 'class', classIdx: i })}
            onSkip={() => label({ kind: 'skip' })}
            onUnsure={() => label({ kind: 'unsure' })}
            onUndo={undo}
          />
        )}
      </Box>

      <Box sx={{ width: 300, flexShrink: 0, display: 'flex', flexDirection: 'column', gap: 2, overflow: 'auto' }}>
        {regression && project.target ? (
          <RegressionPanel estimate={current ? estimate : null} target={project.target} modelVersionId={queue.modelVersionId} />
        ) : (
          <PredictionPanel prediction={current ? prediction : null} classes={project.classes} modelVersionId={queue.modelVersionId} />
        )}
        {current && shown && <ImageFacts image={shown} item={current} acquisition={queue.modelVersionId === null ? 'random' : acquisition} />}
      </Box>
    </Box>
  );
}
