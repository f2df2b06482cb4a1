import { Box, Stack, Typography } from '@mui/material';
import type { Response } from '../../src-main/service/contract.ts';

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
