import { Box, Button, FormControl, InputLabel, MenuItem, Select, Stack, Typography } from '@mui/material';
import { useEffect, useState } from 'react';
import { useClient } from '../client/ClientContext.tsx';
import { useNotify } from '../hooks/useNotify.tsx';

type FunctionPrior = 'gaussian' | 'laplace';

/**
 * Prior predictive check: functions drawn from a weight prior for a tanh and a ReLU network
 * (bdl.priorPredictive), to show what a prior says before any data. "Draw again" takes new weights.
 */
export function PriorCheckPanel() {
  const client = useClient();
  const { notifyError } = useNotify();
  const [prior, setPrior] = useState<FunctionPrior>('gaussian');
  const [seed, setSeed] = useState(0);
  const [svg, setSvg] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    client['bdl.priorPredictive']({ prior, seed }).then((r) => live && setSvg(r.svg), notifyError);
    return () => {
      live = false;
    };
  }, [client, prior, seed, notifyError]);

  return (
    <Stack spacing={1.5} data-testid="prior-check">
      <Stack direction="row" spacing={2} sx={{ alignItems: 'center' }}>
        <Typography variant="subtitle2">Prior predictive check</Typography>
        <FormControl size="small" sx={{ minWidth: 150 }}>
          <InputLabel id="prior-check-label">Weight prior</InputLabel>
          <Select labelId="prior-check-label" label="Weight prior" value={prior} onChange={(e) => setPrior(e.target.value as FunctionPrior)} data-testid="prior-check-prior">
            <MenuItem value="gaussian">Gaussian</MenuItem>
            <MenuItem value="laplace">Laplace</MenuItem>
          </Select>
        </FormControl>
        <Button size="small" variant="outlined" onClick={() => setSeed((s) => s + 1)} data-testid="prior-check-redraw">
          Draw again
        </Button>
      </Stack>
      {svg && <Box component="img" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`} alt="Functions drawn from the prior of a tanh and a ReLU network" sx={{ width: '100%', maxWidth: 900 }} data-testid="prior-check-plot" />}
    </Stack>
  );
}
