import { Box, Paper, Stack, Tooltip, Typography } from '@mui/material';
import type { PredictionT } from '../../src-main/service/contract.ts';

const fmt = (p: number) => p.toFixed(2);

/**
 * What the current model thinks of the image: the predicted class, each class's mean probability with
 * its 90% credible interval (5%–95% over posterior samples) as an error bar, and the predictive
 * uncertainty split into epistemic (the model's ignorance; labelling reduces it) and aleatoric (ambiguity
 * in the image itself).
 */
export function PredictionPanel({ prediction, classes, modelVersionId }: { prediction: PredictionT | null; classes: string[]; modelVersionId: number | null }) {
  if (!prediction) {
    return (
      <Paper variant="outlined" sx={{ p: 2 }} data-testid="prediction-panel" data-has-prediction="false">
        <Typography variant="overline" color="text.secondary">
          Model
        </Typography>
        <Typography variant="body2" color="text.secondary">
          No prediction yet. Label a few images of every class, then train a model on the Model tab: the queue will then put the images the model is least sure about first.
        </Typography>
      </Paper>
    );
  }
  const top = prediction.predicted;
  const total = prediction.epistemic + prediction.aleatoric;
  const maxEntropy = Math.log(Math.max(2, classes.length));
  return (
    <Paper variant="outlined" sx={{ p: 2 }} data-testid="prediction-panel" data-has-prediction="true">
      <Typography variant="overline" color="text.secondary">
        Model {modelVersionId !== null ? `v${modelVersionId}` : ''} predicts
      </Typography>
      <Typography variant="h6" sx={{ lineHeight: 1.2, mb: 1.5 }} data-testid="predicted-class">
        {classes[top] ?? `class ${top}`}{' '}
        <Typography component="span" color="text.secondary" sx={{ fontSize: 15 }}>
          {fmt(prediction.probsMean[top] ?? 0)}
        </Typography>
      </Typography>
      <Stack spacing={0.75} data-testid="class-probabilities">
        {classes.map((name, i) => (
          <ProbabilityRow
            key={name}
            name={name}
            mean={prediction.probsMean[i] ?? 0}
            lower={prediction.probsLower[i] ?? 0}
            upper={prediction.probsUpper[i] ?? 0}
            highlight={i === top}
          />
        ))}
      </Stack>
      <Typography variant="overline" color="text.secondary" sx={{ display: 'block', mt: 2 }}>
        Uncertainty (nats)
      </Typography>
      <Tooltip title="Total predictive entropy = epistemic (mutual information, what BALD ranks by) + aleatoric (expected entropy)">
        <Box sx={{ display: 'flex', height: 12, borderRadius: 1, overflow: 'hidden', bgcolor: 'grey.200' }} data-testid="uncertainty-bar">
          <Box sx={{ width: `${(100 * prediction.epistemic) / maxEntropy}%`, bgcolor: '#d9822b' }} />
          <Box sx={{ width: `${(100 * prediction.aleatoric) / maxEntropy}%`, bgcolor: '#7a8ba3' }} />
        </Box>
      </Tooltip>
      <Stack direction="row" spacing={2} sx={{ mt: 0.75 }}>
        <Legend color="#d9822b" label="epistemic" value={prediction.epistemic} testId="epistemic" />
        <Legend color="#7a8ba3" label="aleatoric" value={prediction.aleatoric} testId="aleatoric" />
        <Typography variant="caption" color="text.secondary" sx={{ ml: 'auto !important' }}>
          total {total.toFixed(3)}
        </Typography>
      </Stack>
    </Paper>
  );
}

function ProbabilityRow({ name, mean, lower, upper, highlight }: { name: string; mean: number; lower: number; upper: number; highlight: boolean }) {
  const pct = (v: number) => `${Math.max(0, Math.min(1, v)) * 100}%`;
  return (
    <Box data-testid="probability-row">
      <Stack direction="row" sx={{ justifyContent: 'space-between' }}>
        <Typography variant="body2" sx={{ fontWeight: highlight ? 600 : 400, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
          {name}
        </Typography>
        <Typography variant="caption" color="text.secondary" sx={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap', ml: 1 }}>
          {fmt(mean)} [{fmt(lower)}–{fmt(upper)}]
        </Typography>
      </Stack>
      <Box sx={{ position: 'relative', height: 10, bgcolor: 'grey.100', borderRadius: 0.5 }}>
        <Box sx={{ position: 'absolute', left: 0, top: 0, bottom: 0, width: pct(mean), bgcolor: highlight ? 'primary.main' : 'primary.light', opacity: highlight ? 0.9 : 0.55, borderRadius: 0.5 }} />
        {/* 90% credible interval as an error bar with end caps */}
        <Box sx={{ position: 'absolute', top: '50%', height: '1.5px', left: pct(lower), width: `calc(${pct(upper)} - ${pct(lower)})`, bgcolor: 'grey.900' }} />
        <Box sx={{ position: 'absolute', top: 1, bottom: 1, width: '1.5px', left: pct(lower), bgcolor: 'grey.900' }} />
        <Box sx={{ position: 'absolute', top: 1, bottom: 1, width: '1.5px', left: `calc(${pct(upper)} - 1.5px)`, bgcolor: 'grey.900' }} />
      </Box>
    </Box>
  );
}

function Legend({ color, label, value, testId }: { color: string; label: string; value: number; testId: string }) {
  return (
    <Stack direction="row" spacing={0.5} sx={{ alignItems: 'center' }}>
      <Box sx={{ width: 10, height: 10, bgcolor: color, borderRadius: 0.5 }} />
      <Typography variant="caption" data-testid={testId}>
        {label} {value.toFixed(3)}
      </Typography>
    </Stack>
  );
}
