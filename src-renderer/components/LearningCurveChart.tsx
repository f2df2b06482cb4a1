import { Box, Stack, ToggleButton, ToggleButtonGroup, Typography } from '@mui/material';
import { LineChart } from '@mui/x-charts/LineChart';
import { useState } from 'react';
import type { Response } from '../../src-main/service/contract.ts';

type Point = Response<'model.list'>['learningCurve'][number];
type Metric = 'accuracy' | 'nll' | 'ece' | 'brier';
const METRICS: { id: Metric; label: string; better: string }[] = [
  { id: 'accuracy', label: 'Accuracy', better: 'higher is better' },
  { id: 'nll', label: 'NLL', better: 'lower is better' },
  { id: 'ece', label: 'ECE', better: 'lower is better' },
  { id: 'brier', label: 'Brier', better: 'lower is better' },
];

/** A held-out metric against the number of labels each model version was trained on. */
export function LearningCurveChart({ points }: { points: Point[] }) {
  const [metric, setMetric] = useState<Metric>('accuracy');
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
          Train models as you label: each version adds a point.
        </Typography>
      ) : (
        <LineChart
          height={260}
          skipAnimation
          hideLegend
          grid={{ horizontal: true }}
          xAxis={[{ data: sorted.map((p) => p.nLabels), scaleType: 'linear', label: 'labelled images', valueFormatter: (v: number) => String(Math.round(v)) }]}
          yAxis={[{ label: `${info.label} (${info.better})`, ...(metric === 'accuracy' ? { min: 0, max: 1 } : { min: 0 }) }]}
          series={[{ id: metric, data: sorted.map((p) => p[metric]), label: info.label, color: '#1565c0', showMark: true, curve: 'linear', valueFormatter: (v: number | null) => (v === null ? '' : v.toFixed(3)) }]}
          margin={{ left: 10, right: 20, top: 10, bottom: 10 }}
        />
      )}
    </Box>
  );
}
