import { FormControl, InputLabel, MenuItem, Select } from '@mui/material';
import { PRIOR_NAMES } from '../../src-main/service/contract.ts';

export type Prior = (typeof PRIOR_NAMES)[number];

/** The weight priors; the service refuses a prior the chosen method does not take, with the methods that do. */
const PRIOR_LABELS: Record<Prior, string> = {
  gaussian: 'Gaussian (L2)',
  laplace: 'Laplace (L1)',
  'spike-slab': 'Spike-and-slab on the input layer',
};

export function PriorSelect({ id, value, onChange, disabled, testId }: { id: string; value: Prior; onChange: (p: Prior) => void; disabled: boolean; testId?: string }) {
  return (
    <FormControl size="small" sx={{ minWidth: 170 }} disabled={disabled}>
      <InputLabel id={`${id}-label`}>Prior</InputLabel>
      <Select labelId={`${id}-label`} label="Prior" value={value} onChange={(e) => onChange(e.target.value as Prior)} data-testid={testId}>
        {PRIOR_NAMES.map((p) => (
          <MenuItem key={p} value={p}>
            {PRIOR_LABELS[p]}
          </MenuItem>
        ))}
      </Select>
    </FormControl>
  );
}
