import { FormControl, InputLabel, MenuItem, Select } from '@mui/material';
import { METHOD_NAMES } from '../../src-main/service/contract.ts';

export type Method = (typeof METHOD_NAMES)[number];

/** How each method is introduced to the person choosing it. */
const METHOD_LABELS: Record<Method, string> = {
  'mc-dropout': 'MC dropout (Bayesian)',
  map: 'MAP (point estimate, no uncertainty)',
  ensemble: 'Deep ensemble (5 networks)',
  vi: 'Variational inference (Bayes by Backprop)',
  ivon: 'IVON (variational, Adam-like)',
  sgld: 'SGLD (Langevin sampling)',
  laplace: 'Laplace (post hoc)',
  'last-layer': 'Last-layer Bayesian head',
  dkl: 'Deep kernel learning (GP head)',
  'lora-ensemble': 'LoRA ensemble on an imported backbone',
  'lora-laplace': 'LoRA Laplace on an imported backbone',
};

/** Methods that adapt an imported TF.js model (they need its folder). */
export const needsBackbone = (m: Method) => m === 'lora-ensemble' || m === 'lora-laplace';

/** The posterior method, every one the contract knows, named for the person choosing. */
export function MethodSelect({ id, value, onChange, disabled, minWidth, testId }: { id: string; value: Method; onChange: (m: Method) => void; disabled: boolean; minWidth: number; testId?: string }) {
  return (
    <FormControl size="small" sx={{ minWidth }} disabled={disabled}>
      <InputLabel id={`${id}-label`}>Method</InputLabel>
      <Select labelId={`${id}-label`} label="Method" value={value} onChange={(e) => onChange(e.target.value as Method)} data-testid={testId}>
        {METHOD_NAMES.map((m) => (
          <MenuItem key={m} value={m}>
            {METHOD_LABELS[m]}
          </MenuItem>
        ))}
      </Select>
    </FormControl>
  );
}
