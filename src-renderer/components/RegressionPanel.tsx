import { Box, Paper, Tooltip, Typography } from '@mui/material';
import type { RegressionEstimateT, RegressionTargetT } from '../../src-main/service/contract.ts';

/**
 * What the GP predicts for the image: the mean and the 90% predictive interval of a new label
 * (latent variance + fitted noise), and the latent std alone: the model's own uncertainty, which is
 * what the queue ranks by and what labelling reduces.
 */
export function RegressionPanel({ estimate, target, modelVersionId }: { estimate: RegressionEstimateT | null; target: RegressionTargetT; modelVersionId: number | null }) {
  const unit = target.unit ? ` ${target.unit}` : '';
  if (!estimate) {
    return (
      <Paper variant="outlined" sx={{ p: 2 }} data-testid="prediction-panel" data-has-prediction="false">
        <Typography variant="overline" color="text.secondary">
          Model
        </Typography>
        <Typography variant="body2" color="text.secondary">
          No prediction yet. Enter the {target.name} of a few images, then train the Gaussian process on the Model tab: the queue then puts first the images the model knows least about.
        </Typography>
      </Paper>
    );
  }
  // The scale spans the target's range (±3 sd where it is open) and always the whole interval, which may leave the range.
  const lo = Math.min(target.min ?? estimate.mean - 3 * estimate.predictiveStd, estimate.lower);
  const hi = Math.max(target.max ?? estimate.mean + 3 * estimate.predictiveStd, estimate.upper);
  const pct = (v: number) => `${(100 * Math.max(0, Math.min(1, (v - lo) / Math.max(1e-12, hi - lo))))}%`;
  return (
    <Paper variant="outlined" sx={{ p: 2 }} data-testid="prediction-panel" data-has-prediction="true">
      <Typography variant="overline" color="text.secondary">
        Model {modelVersionId !== null ? `v${modelVersionId}` : ''} predicts {target.name}
      </Typography>
      <Typography variant="h6" sx={{ lineHeight: 1.2 }} data-testid="predicted-value" data-mean={estimate.mean}>
        {estimate.mean.toFixed(2)}
        {unit}
      </Typography>
      <Typography variant="body2" color="text.secondary" data-testid="predicted-interval">
        90% interval {estimate.lower.toFixed(2)} – {estimate.upper.toFixed(2)}
        {unit}
      </Typography>
      <Box sx={{ position: 'relative', height: 14, bgcolor: 'grey.100', borderRadius: 0.5, my: 1.5 }}>
        <Box sx={{ position: 'absolute', top: 3, bottom: 3, left: pct(estimate.lower), width: `calc(${pct(estimate.upper)} - ${pct(estimate.lower)})`, bgcolor: 'primary.light', opacity: 0.5 }} />
        <Box sx={{ position: 'absolute', top: 0, bottom: 0, width: '2px', left: pct(estimate.mean), bgcolor: 'primary.main' }} />
      </Box>
      <Tooltip title="Standard deviation of the latent function: the model's own uncertainty (what the queue ranks by); the interval adds the label noise fitted by the GP">
        <Typography variant="caption" data-testid="latent-std">
          model uncertainty (latent std) {estimate.latentStd.toFixed(3)}
          {unit}
        </Typography>
      </Tooltip>
    </Paper>
  );
}
