import { Box, Stack, ToggleButton, ToggleButtonGroup, Typography } from '@mui/material';
import { LineChart } from '@mui/x-charts/LineChart';
import { useState } from 'react';
import type { Response } from '../../src-main/service/contract.ts';

type Point = Response<'model.list'>['regressionCurve'][number];
type Metric = 'rmse' | 'nll' | 'coverage90';
const METRICS: { id: Metric; label: string; better: string }[] = [
  { id: 'rmse', label: 'RMSE', better: 'lower is better' },
  { id: 'nll', label: 'NLL', better: 'lower is better' },
  { id: 'coverage90', label: '90% coverage', better: 'about 0.9 is calibrated' },
];

/** A regression project's held-out metric against the number of labels of each GP version. */
export function RegressionCurveChart({ points }: { points: Point[] }) {
  const [metric, setMetric] = useState<Metric>('rmse');
  const sorted = [...points].sort((a, b) => a.nLabels - b.nLabels || a.modelVersionId - b.modelVersionId);
  const info = METRICS.find((m) => m.id === metric)!;
  return (
    <Box data-testid="learning-curve" data-points={sorted.length}>
      <Stack direction="row" sx={{ alignItems: 'center', justifyContent: 'space-between', mb: 1 }}>
        <Typography variant="subtitle2">Learning curve</Typography>
        <ToggleButtonGroup size="small" exclusive value={metric} onChange={(_e, v: Metric | null) => v && setMetric(v)}>
          {METRICS.map((m) => (
            <ToggleButton key={m.id} value={m.id} sx={{ py: 0.25, px: 1, fontSize: 12 }} data-testid={`curve-metric-${m.id}`}>
              {m.label}
            </ToggleButton>
          ))}
        </ToggleButtonGroup>
      </Stack>
      {sorted.length === 0 ? (
        <Typography variant="body2" color="text.secondary" sx={{ height: 260, display: 'grid', placeItems: 'center' }}>
          Versions trained on 10 or more values add a point (a fifth is held out to measure them).
        </Typography>
      ) : (
        <LineChart
          height={260}
          skipAnimation
          hideLegend
          grid={{ horizontal: true }}
          xAxis={[{ data: sorted.map((p) => p.nLabels), scaleType: 'linear', label: 'labelled images', valueFormatter: (v: number) => String(Math.round(v)) }]}
          yAxis={[{ label: `${info.label} (${info.better})`, ...(metric === 'coverage90' ? { min: 0, max: 1 } : {}) }]}
          series={[{ id: metric, data: sorted.map((p) => p[metric]), label: info.label, color: '#1565c0', showMark: true, curve: 'linear', valueFormatter: (v: number | null) => (v === null ? '' : v.toFixed(3)) }]}
          margin={{ left: 10, right: 20, top: 10, bottom: 10 }}
        />
      )}
    </Box>
  );
}

/** The fitted GP of one version: hyper-parameters and held-out metrics. */
export function GpVersionFacts({ version }: { version: Response<'model.list'>['versions'][number] | null }) {
  if (!version) return <Typography variant="body2" color="text.secondary">Select a model version.</Typography>;
  const h = version.hyper as Record<string, number | string>;
  const num = (v: unknown, d = 3) => (typeof v === 'number' ? v.toFixed(d) : '-');
  const m = version.regressionMetrics;
  const rows: [string, string][] = [
    ['features', String(h.features ?? '-')],
    ['lengthscale ℓ', num(h.lengthscale)],
    ['signal variance σ_f² (standardised)', num(h.signalVariance)],
    ['noise std (target units)', num(h.noiseStd)],
    ['log marginal likelihood', num(h.logMarginalLikelihood, 2)],
    ['held-out RMSE / MAE', m ? `${m.rmse.toFixed(3)} / ${m.mae.toFixed(3)}` : 'fewer than 10 labels'],
    ['held-out NLL', m ? m.nll.toFixed(3) : '-'],
    ['90% interval coverage', m ? `${(m.coverage90 * 100).toFixed(0)}% of ${m.heldOut}` : '-'],
  ];
  return (
    <Box data-testid="gp-facts">
      <Typography variant="subtitle2" sx={{ mb: 1 }}>
        Gaussian process v{version.id}
      </Typography>
      {rows.map(([k, v]) => (
        <Stack key={k} direction="row" sx={{ justifyContent: 'space-between', py: 0.25 }}>
          <Typography variant="body2" color="text.secondary">
            {k}
          </Typography>
          <Typography variant="body2" sx={{ fontVariantNumeric: 'tabular-nums', ml: 2, textAlign: 'right' }}>
            {v}
          </Typography>
        </Stack>
      ))}
    </Box>
  );
}
