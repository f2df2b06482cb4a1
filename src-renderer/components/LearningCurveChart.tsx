import { Box, Stack, Typography } from '@mui/material';
import { LineChart, type LineSeries } from '@mui/x-charts/LineChart';
import type { ReactNode } from 'react';

export interface CurvePoint {
  labels: number;
  value: number;
  /** A band around the value (e.g. the quartiles over seeds), drawn when both edges are given. */
  lower?: number;
  upper?: number;
}
export interface Curve {
  id: string;
  label: string;
  points: CurvePoint[];
}

const PALETTE = ['#1565c0', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#5d4037', '#ad1457'];
/** Suffixes of the two stacked helper series that draw a band: its lower edge, then its height. */
const BAND_BASE = '~band-base';
const BAND = '~band';

interface Props {
  title: string;
  curves: Curve[];
  /** The metric and which way is better. */
  yLabel: string;
  yRange?: { min?: number; max?: number };
  /** Controls beside the title, e.g. a metric switch. */
  actions?: ReactNode;
  emptyText: string;
  testId?: string;
}

/** A held-out metric against the number of labelled images: one line per curve, each with its band when it has one. */
export function LearningCurveChart({ title, curves, yLabel, yRange, actions, emptyText, testId = 'learning-curve' }: Props) {
  const xs = xValues(curves);
  const series = curves.flatMap((curve, i) => curveSeries(curve, alignTo(xs, curve.points), PALETTE[i % PALETTE.length]));
  return (
    <Box data-testid={testId} data-points={xs.length} data-series={curves.length}>
      <Stack direction="row" sx={{ alignItems: 'center', justifyContent: 'space-between', mb: 1 }}>
        <Typography variant="subtitle2">{title}</Typography>
        {actions}
      </Stack>
      {xs.length === 0 ? (
        <Typography variant="body2" color="text.secondary" sx={{ height: 260, display: 'grid', placeItems: 'center' }}>
          {emptyText}
        </Typography>
      ) : (
        <LineChart
          height={260}
          skipAnimation
          hideLegend={curves.length < 2}
          grid={{ horizontal: true }}
          xAxis={[{ data: xs, scaleType: 'linear', label: 'labelled images', tickMinStep: 1, valueFormatter: (v: number) => String(Math.round(v)) }]}
          yAxis={[{ label: yLabel, ...yRange }]}
          series={series}
          margin={{ left: 10, right: 20, top: 10, bottom: 10 }}
          sx={{
            [`& .MuiLineChart-line[data-series$="${BAND_BASE}"], & .MuiLineChart-line[data-series$="${BAND}"]`]: { display: 'none' },
            [`& .MuiLineChart-area[data-series$="${BAND}"]`]: { fillOpacity: 0.18 },
          }}
        />
      )}
    </Box>
  );
}

/**
 * Every x of every curve in order. An x that one curve has twice (two model versions trained on as
 * many labels) appears twice, so each of its points keeps a place on the shared axis.
 */
function xValues(curves: Curve[]): number[] {
  const times = new Map<number, number>();
  for (const curve of curves) {
    const own = new Map<number, number>();
    for (const p of curve.points) own.set(p.labels, (own.get(p.labels) ?? 0) + 1);
    for (const [x, n] of own) times.set(x, Math.max(times.get(x) ?? 0, n));
  }
  return [...times].sort((a, b) => a[0] - b[0]).flatMap(([x, n]) => Array<number>(n).fill(x));
}

/** The curve's points at the shared x values (null where it has none). */
function alignTo(xs: number[], points: CurvePoint[]): (CurvePoint | null)[] {
  const sorted = [...points].sort((a, b) => a.labels - b.labels);
  let next = 0;
  return xs.map((x) => (sorted[next]?.labels === x ? sorted[next++] : null));
}

function curveSeries(curve: Curve, aligned: (CurvePoint | null)[], color: string): LineSeries[] {
  const banded = curve.points.length > 0 && curve.points.every((p) => p.lower !== undefined && p.upper !== undefined);
  const line: LineSeries = {
    id: curve.id,
    label: curve.label,
    data: aligned.map((p) => p?.value ?? null),
    color,
    showMark: true,
    curve: 'linear',
    valueFormatter: (v, { dataIndex }) => {
      const p = aligned[dataIndex];
      if (v === null || !p) return '';
      return banded ? `${v.toFixed(3)} [${p.lower!.toFixed(3)}–${p.upper!.toFixed(3)}]` : v.toFixed(3);
    },
  };
  if (!banded) return [line];
  // The band is the area of a series stacked on its lower edge; neither shows in the tooltip or legend.
  const helper = { stack: curve.id, color, showMark: false, disableHighlight: true, curve: 'linear', valueFormatter: () => null } as const;
  return [
    { ...helper, id: `${curve.id}${BAND_BASE}`, data: aligned.map((p) => p?.lower ?? null) },
    { ...helper, id: `${curve.id}${BAND}`, area: true, data: aligned.map((p) => (p ? p.upper! - p.lower! : null)) },
    line,
  ];
}
