import { ToggleButton, ToggleButtonGroup } from '@mui/material';
import { useState } from 'react';
import { LearningCurveChart } from './LearningCurveChart.tsx';

export interface MetricChoice<M extends string> {
  id: M;
  label: string;
  /** Which way is better, shown on the axis. */
  better: string;
  range?: { min?: number; max?: number };
}

interface VersionPoint {
  modelVersionId: number;
  nLabels: number;
}

export const CLASSIFICATION_METRICS: MetricChoice<'accuracy' | 'nll' | 'ece' | 'brier'>[] = [
  { id: 'accuracy', label: 'Accuracy', better: 'higher is better', range: { min: 0, max: 1 } },
  { id: 'nll', label: 'NLL', better: 'lower is better', range: { min: 0 } },
  { id: 'ece', label: 'ECE', better: 'lower is better', range: { min: 0 } },
  { id: 'brier', label: 'Brier', better: 'lower is better', range: { min: 0 } },
];

export const REGRESSION_METRICS: MetricChoice<'rmse' | 'nll' | 'coverage90'>[] = [
  { id: 'rmse', label: 'RMSE', better: 'lower is better' },
  { id: 'nll', label: 'NLL', better: 'lower is better' },
  { id: 'coverage90', label: '90% coverage', better: 'about 0.9 is calibrated', range: { min: 0, max: 1 } },
];

/** The project's model versions: a held-out metric, chosen here, against the labels each was trained on. */
export function MetricCurveChart<M extends string>({ points, metrics, emptyText }: { points: (VersionPoint & Record<M, number>)[]; metrics: MetricChoice<M>[]; emptyText: string }) {
  const [metric, setMetric] = useState<M>(metrics[0].id);
  const sorted = [...points].sort((a, b) => a.nLabels - b.nLabels || a.modelVersionId - b.modelVersionId);
  const info = metrics.find((m) => m.id === metric)!;
  return (
    <LearningCurveChart
      title="Learning curve"
      curves={sorted.length === 0 ? [] : [{ id: metric, label: info.label, points: sorted.map((p) => ({ labels: p.nLabels, value: p[metric] })) }]}
      yLabel={`${info.label} (${info.better})`}
      yRange={info.range}
      emptyText={emptyText}
      actions={
        <ToggleButtonGroup size="small" exclusive value={metric} onChange={(_e, v: M | null) => v && setMetric(v)}>
          {metrics.map((m) => (
            <ToggleButton key={m.id} value={m.id} sx={{ py: 0.25, px: 1, fontSize: 12 }} data-testid={`curve-metric-${m.id}`}>
              {m.label}
            </ToggleButton>
          ))}
        </ToggleButtonGroup>
      }
    />
  );
}
