import { Box, Button, ButtonGroup, CircularProgress, IconButton, Stack, Tooltip, Typography } from '@mui/material';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import type { LoadedImage } from '../client/imageCache.ts';
import { isForeignKeyTarget } from '../hooks/keyboard.ts';
import { WINDOW_PRESETS, renderWindow, valueRange, type WindowLevel } from './windowLevel.ts';

interface View {
  zoom: number;
  panX: number;
  panY: number;
}
const HOME: View = { zoom: 1, panX: 0, panY: 0 };
const MIN_ZOOM = 0.25;
const MAX_ZOOM = 32;
const clampZoom = (z: number) => Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, z));

/**
 * The image being labelled: fitted to the available space, zoom with the wheel or +/−, pan by dragging,
 * 0 resets. DICOM images with modality values are drawn on a canvas with window/level (right-drag or
 * shift-drag; presets below).
 */
export function ImageViewer({ image, loading }: { image: LoadedImage | null; loading: boolean }) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ w: 0, h: 0 });
  const [view, setView] = useState<View>(HOME);
  const [preset, setPreset] = useState<string>('default');
  const [win, setWin] = useState<WindowLevel | null>(null);
  const drag = useRef<{ mode: 'pan' | 'window'; x: number; y: number; view: View; win: WindowLevel | null } | null>(null);

  const detail = image?.detail ?? null;
  const modality = image?.modality ?? null;
  const range = useMemo(() => (modality ? valueRange(modality) : null), [modality]);
  const defaultWin = useMemo<WindowLevel | null>(() => {
    if (!modality || !range) return null;
    if (detail?.dicom && Number.isFinite(detail.dicom.windowCenter) && detail.dicom.windowWidth > 0) {
      return { center: detail.dicom.windowCenter, width: detail.dicom.windowWidth };
    }
    return { center: (range.min + range.max + 1) / 2, width: Math.max(1, range.max - range.min + 1) };
  }, [modality, range, detail]);

  // A new image: reset the view; keep a named preset, otherwise go back to the file's window.
  const presetRef = useRef(preset);
  presetRef.current = preset;
  useEffect(() => {
    setView(HOME);
    const named = WINDOW_PRESETS.find((p) => p.id === presetRef.current);
    setWin(named ? { center: named.center, width: named.width } : defaultWin);
    if (!named) setPreset('default');
  }, [detail?.imageId, defaultWin]);

  useLayoutEffect(() => {
    const el = boxRef.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setSize({ w: el.clientWidth, h: el.clientHeight }));
    observer.observe(el);
    setSize({ w: el.clientWidth, h: el.clientHeight });
    return () => observer.disconnect();
  }, []);

  // Draw the windowed modality values.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !modality || !detail || !win) return;
    const frame = requestAnimationFrame(() => {
      const ctx = canvas.getContext('2d');
      if (!ctx) return;
      const data = ctx.createImageData(detail.width, detail.height);
      renderWindow(modality, win, data.data);
      ctx.putImageData(data, 0, 0);
    });
    return () => cancelAnimationFrame(frame);
  }, [modality, detail, win]);

  const zoomAt = useCallback(
    (factor: number, clientX?: number, clientY?: number) => {
      setView((v) => {
        const zoom = clampZoom(v.zoom * factor);
        const real = zoom / v.zoom;
        const rect = boxRef.current?.getBoundingClientRect();
        if (!rect || clientX === undefined || clientY === undefined) return { zoom, panX: v.panX * real, panY: v.panY * real };
        const px = clientX - rect.left - rect.width / 2;
        const py = clientY - rect.top - rect.height / 2;
        return { zoom, panX: px - (px - v.panX) * real, panY: py - (py - v.panY) * real };
      });
    },
    [],
  );

  useEffect(() => {
    const el = boxRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      zoomAt(Math.pow(1.0015, -e.deltaY), e.clientX, e.clientY);
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [zoomAt]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isForeignKeyTarget(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '+' || e.key === '=') zoomAt(1.25);
      else if (e.key === '-' || e.key === '_') zoomAt(0.8);
      else if (e.key === '0') setView(HOME);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [zoomAt]);

  const onPointerDown = (e: ReactPointerEvent) => {
    const windowing = Boolean(modality) && (e.button === 2 || (e.button === 0 && e.shiftKey));
    if (e.button !== 0 && !windowing) return;
    e.preventDefault();
    (e.currentTarget as Element).setPointerCapture(e.pointerId);
    drag.current = { mode: windowing ? 'window' : 'pan', x: e.clientX, y: e.clientY, view, win };
  };
  const onPointerMove = (e: ReactPointerEvent) => {
    const d = drag.current;
    if (!d) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (d.mode === 'pan') setView({ ...d.view, panX: d.view.panX + dx, panY: d.view.panY + dy });
    else if (d.win && range) {
      const step = Math.max(range.max - range.min, 1) / 400;
      setWin({ center: d.win.center + dy * step, width: Math.max(1, d.win.width + dx * step) });
      setPreset('custom');
    }
  };
  const onPointerUp = () => {
    drag.current = null;
  };

  const fit = detail && size.w && size.h ? Math.min((size.w - 24) / detail.width, (size.h - 24) / detail.height) : 1;
  const scale = fit * view.zoom;
  const dispW = detail ? detail.width * scale : 0;
  const dispH = detail ? detail.height * scale : 0;
  const style = {
    position: 'absolute' as const,
    left: size.w / 2 + view.panX - dispW / 2,
    top: size.h / 2 + view.panY - dispH / 2,
    width: dispW,
    height: dispH,
    imageRendering: scale >= 3 ? ('pixelated' as const) : ('auto' as const),
    userSelect: 'none' as const,
    pointerEvents: 'none' as const,
  };

  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', height: '100%', minHeight: 0 }}>
      <Box
        ref={boxRef}
        data-testid="image-viewer"
        data-zoom={view.zoom.toFixed(3)}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onContextMenu={(e) => e.preventDefault()}
        sx={{ position: 'relative', flex: 1, minHeight: 0, overflow: 'hidden', bgcolor: '#0b0d10', borderRadius: 1, cursor: drag.current ? 'grabbing' : 'grab', touchAction: 'none' }}
      >
        {detail && image && (modality && win ? (
          <canvas ref={canvasRef} width={detail.width} height={detail.height} style={style} data-testid="dicom-canvas" data-window={`${Math.round(win.center)}/${Math.round(win.width)}`} />
        ) : (
          <img key={image.previewUrl} src={image.previewUrl} alt={detail.path} style={style} draggable={false} data-testid="current-image" data-image-id={detail.imageId} />
        ))}
        {loading && (
          <Box sx={{ position: 'absolute', inset: 0, display: 'grid', placeItems: 'center' }}>
            <CircularProgress size={32} sx={{ color: 'grey.500' }} />
          </Box>
        )}
        {!loading && !image && (
          <Box sx={{ position: 'absolute', inset: 0, display: 'grid', placeItems: 'center' }}>
            <Typography sx={{ color: 'grey.500' }}>No image to show</Typography>
          </Box>
        )}
        <Stack direction="row" spacing={0.5} sx={{ position: 'absolute', right: 8, top: 8, p: 0.5, borderRadius: 2, bgcolor: 'rgba(11, 13, 16, 0.6)' }}>
          <ZoomButton label="Zoom out (−)" text="−" onClick={() => zoomAt(0.8)} testId="zoom-out" />
          <Typography variant="caption" sx={{ color: 'grey.400', alignSelf: 'center', minWidth: 44, textAlign: 'center', fontVariantNumeric: 'tabular-nums' }}>
            {Math.round(view.zoom * 100)}%
          </Typography>
          <ZoomButton label="Zoom in (+)" text="+" onClick={() => zoomAt(1.25)} testId="zoom-in" />
          <ZoomButton label="Fit (0)" text="⤢" onClick={() => setView(HOME)} testId="zoom-reset" />
        </Stack>
      </Box>
      {modality && win && (
        <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center', pt: 1, flexWrap: 'wrap' }} data-testid="window-controls">
          <Typography variant="body2" sx={{ fontVariantNumeric: 'tabular-nums', minWidth: 150 }} data-testid="window-values">
            W {Math.round(win.width)} · L {Math.round(win.center)}
          </Typography>
          <ButtonGroup size="small" variant="outlined">
            <Button variant={preset === 'default' ? 'contained' : 'outlined'} onClick={() => { setPreset('default'); setWin(defaultWin); }} data-testid="preset-default">
              Default
            </Button>
            {WINDOW_PRESETS.map((p) => (
              <Button key={p.id} variant={preset === p.id ? 'contained' : 'outlined'} onClick={() => { setPreset(p.id); setWin({ center: p.center, width: p.width }); }} data-testid={`preset-${p.id}`}>
                {p.label}
              </Button>
            ))}
          </ButtonGroup>
          <Typography variant="caption" color="text.secondary">
            right-drag or shift-drag: ↔ width, ↕ level
          </Typography>
        </Stack>
      )}
    </Box>
  );
}

function ZoomButton({ label, text, onClick, testId }: { label: string; text: string; onClick(): void; testId: string }) {
  return (
    <Tooltip title={label}>
      <IconButton size="small" onClick={onClick} onPointerDown={(e) => e.stopPropagation()} data-testid={testId} sx={{ color: 'grey.300', bgcolor: 'rgba(255,255,255,0.08)', width: 28, height: 28, fontSize: 16, '&:hover': { bgcolor: 'rgba(255,255,255,0.18)' } }}>
        {text}
      </IconButton>
    </Tooltip>
  );
}
