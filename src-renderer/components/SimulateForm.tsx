import { Button, Checkbox, FormControl, FormControlLabel, FormGroup, FormHelperText, FormLabel, InputLabel, MenuItem, Select, Stack, TextField } from '@mui/material';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { z } from 'zod';
import { Channels, ImageSize, JobSpec, SIMULATE_DEFAULTS, SimulateAcquisitionName, type JobSpecT } from '../../src-main/service/contract.ts';
import { FolderPickerDialog } from './FolderPickerDialog.tsx';
import { MethodSelect, needsBackbone, type Method } from './MethodSelect.tsx';
import { PriorSelect, type Prior } from './PriorSelect.tsx';

export type SimulateSpec = Extract<JobSpecT, { kind: 'simulate' }>;
type Acquisition = z.infer<typeof SimulateAcquisitionName>;
type WarmStart = 'none' | 'random' | 'kcenter';
type IntegerKey = 'initial' | 'step' | 'rounds' | 'seeds' | 'seed' | 'epochs' | 'samples' | 'poolSize' | 'poolSubset' | 'testSize' | 'warmStartRounds';
const DECIMAL_KEYS = ['priorPrecision', 'untilAccuracy'] as const;
type DecimalKey = (typeof DECIMAL_KEYS)[number];

/** Every field as typed; an empty number or path means the service's default. */
interface Fields extends Record<IntegerKey | DecimalKey, string> {
  dataset: string;
  testCsv: string;
  imageSize: (typeof ImageSize.options)[number]['value'];
  channels: (typeof Channels.options)[number]['value'];
  acquisitions: Acquisition[];
  method: Method;
  prior: Prior;
  backbone: string;
  warmStart: WarmStart;
  out: string;
}

const INITIAL_FIELDS: Fields = {
  dataset: '',
  testCsv: '',
  imageSize: 28,
  channels: 1,
  // The headline comparison of the CLI's seven, at a fraction of its time.
  acquisitions: ['bald', 'random'],
  method: SIMULATE_DEFAULTS.method,
  prior: 'gaussian',
  priorPrecision: '',
  backbone: '',
  initial: String(SIMULATE_DEFAULTS.initial),
  step: String(SIMULATE_DEFAULTS.step),
  rounds: String(SIMULATE_DEFAULTS.rounds),
  seeds: String(SIMULATE_DEFAULTS.seeds),
  seed: '',
  epochs: '',
  samples: '',
  poolSize: '',
  poolSubset: '',
  testSize: '',
  untilAccuracy: '',
  warmStart: 'none',
  warmStartRounds: '',
  out: '',
};

const optionalInt = (s: string) => (s === '' ? undefined : Number(s));
// A malformed decimal becomes NaN, which the contract refuses with the field's name.
const optionalDecimal = (s: string) => (s.trim() === '' ? undefined : Number(s));
/** Typed as a percentage (95), sent as a fraction (0.95). */
const optionalPercent = (s: string) => (s.trim() === '' ? undefined : Number(s) / 100);
const optionalPath = (s: string) => (s.trim() === '' ? undefined : s.trim());

function toSpec(f: Fields) {
  const warm = f.warmStart !== 'none';
  return {
    kind: 'simulate',
    dataset: f.dataset.trim(),
    testCsv: optionalPath(f.testCsv),
    imageSize: f.imageSize,
    channels: f.channels,
    acquisitions: SimulateAcquisitionName.options.filter((a) => f.acquisitions.includes(a)),
    method: f.method,
    prior: f.prior === 'gaussian' ? undefined : f.prior,
    priorPrecision: optionalDecimal(f.priorPrecision),
    backbone: needsBackbone(f.method) ? optionalPath(f.backbone) : undefined,
    initial: optionalInt(f.initial),
    step: optionalInt(f.step),
    rounds: optionalInt(f.rounds),
    seeds: optionalInt(f.seeds),
    seed: optionalInt(f.seed),
    epochs: optionalInt(f.epochs),
    samples: optionalInt(f.samples),
    poolSize: optionalInt(f.poolSize),
    poolSubset: optionalInt(f.poolSubset),
    testSize: optionalInt(f.testSize),
    untilAccuracy: optionalPercent(f.untilAccuracy),
    warmStart: warm ? f.warmStart : undefined,
    warmStartRounds: warm ? optionalInt(f.warmStartRounds) : undefined,
    out: optionalPath(f.out),
  };
}

/** The contract checks the form: the first complaint per field, keyed by the field's name. */
function checkSpec(f: Fields): { spec: SimulateSpec | null; errors: Partial<Record<keyof Fields, string>> } {
  const parsed = JobSpec.safeParse(toSpec(f));
  const errors: Partial<Record<keyof Fields, string>> = {};
  for (const issue of parsed.error?.issues ?? []) errors[String(issue.path[0]) as keyof Fields] ??= issue.message;
  // The contract leaves the backbone optional; the LoRA methods cannot run without one.
  if (needsBackbone(f.method) && f.backbone.trim() === '') errors.backbone ??= 'this method needs the folder of a TF.js model';
  // The contract's complaint is about a fraction; the field takes a percentage.
  if (errors.untilAccuracy) errors.untilAccuracy = 'a percentage above 0, at most 100';
  return { spec: parsed.success && Object.keys(errors).length === 0 ? (parsed.data as SimulateSpec) : null, errors };
}

interface Props {
  running: boolean;
  onStart(spec: SimulateSpec): void;
  onCancel(): void;
}

/** The simulate job's options, with the CLI's defaults; Start is offered once the contract accepts them. */
export function SimulateForm({ running, onStart, onCancel }: Props) {
  const [fields, setFields] = useState<Fields>(INITIAL_FIELDS);
  const [picking, setPicking] = useState<'dataset' | 'out' | null>(null);
  const set = <K extends keyof Fields>(key: K, value: Fields[K]) => setFields((f) => ({ ...f, [key]: value }));
  const { spec, errors } = checkSpec(fields);
  // A path's complaint waits until something is typed; an empty dataset just keeps Start disabled.
  const pathError = (key: 'dataset' | 'testCsv' | 'backbone' | 'out') => (fields[key].trim() === '' ? undefined : errors[key]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (spec && !running) onStart(spec);
  };
  const toggle = (a: Acquisition, on: boolean) => set('acquisitions', on ? [...fields.acquisitions, a] : fields.acquisitions.filter((x) => x !== a));
  const numberField = (key: IntegerKey | DecimalKey, label: string, placeholder?: string, width = 120) => {
    const decimal = (DECIMAL_KEYS as readonly string[]).includes(key);
    return (
      <TextField
        size="small"
        label={label}
        placeholder={placeholder}
        value={fields[key]}
        onChange={(e) => set(key, e.target.value.replace(decimal ? /[^0-9.eE+-]/g : /[^0-9]/g, ''))}
        error={Boolean(errors[key])}
        helperText={errors[key]}
        disabled={running}
        sx={{ width }}
        slotProps={{ inputLabel: { shrink: true }, htmlInput: { inputMode: decimal ? 'decimal' : 'numeric', 'data-testid': `sim-${key}` } }}
      />
    );
  };
  const choice = <K extends 'imageSize' | 'channels'>(key: K, label: string, options: readonly { value: Fields[K]; text: string }[]) => (
    <FormControl size="small" sx={{ minWidth: 130 }} disabled={running}>
      <InputLabel id={`sim-${key}-label`}>{label}</InputLabel>
      <Select labelId={`sim-${key}-label`} label={label} value={fields[key]} onChange={(e) => set(key, Number(e.target.value) as Fields[K])} data-testid={`sim-${key}`}>
        {options.map((o) => (
          <MenuItem key={o.value} value={o.value}>
            {o.text}
          </MenuItem>
        ))}
      </Select>
    </FormControl>
  );
  const row = (children: ReactNode) => (
    <Stack direction="row" spacing={2} useFlexGap sx={{ alignItems: 'flex-start', flexWrap: 'wrap' }}>
      {children}
    </Stack>
  );

  const folderField = (key: 'dataset' | 'out', label: string, hint: string, placeholder?: string) => (
    <Stack direction="row" spacing={1} sx={{ alignItems: 'flex-start' }}>
      <TextField
        size="small"
        label={label}
        placeholder={placeholder}
        value={fields[key]}
        onChange={(e) => set(key, e.target.value)}
        error={Boolean(pathError(key))}
        helperText={pathError(key) ?? hint}
        disabled={running}
        fullWidth
        slotProps={{ htmlInput: { 'data-testid': `sim-${key}` } }}
      />
      <Button variant="outlined" onClick={() => setPicking(key)} disabled={running} sx={{ flexShrink: 0, height: 40 }}>
        Browse…
      </Button>
    </Stack>
  );

  return (
    <Stack component="form" spacing={2} onSubmit={submit} noValidate data-testid="simulate-form">
      {folderField('dataset', 'Data set folder', 'an MNIST idx folder (pool 0–7999, held out 8000–9999), or an image folder with labels.csv (path,label)', '/data/mnist-t10k')}
      {row(
        <>
          {choice('imageSize', 'Image size', ImageSize.options.map((o) => ({ value: o.value, text: `${o.value} × ${o.value}` })))}
          {choice('channels', 'Channels', [
            { value: 1, text: 'grayscale' },
            { value: 3, text: 'RGB' },
          ])}
          {numberField('poolSize', 'Pool size', 'all')}
          {numberField('testSize', 'Held-out size', 'all')}
          <TextField
            size="small"
            label="Held-out CSV (image folders)"
            placeholder="seeded 80/20 split"
            value={fields.testCsv}
            onChange={(e) => set('testCsv', e.target.value)}
            error={Boolean(pathError('testCsv'))}
            helperText={pathError('testCsv') ?? 'path,label of the held-out images'}
            disabled={running}
            sx={{ flexGrow: 1, minWidth: 260 }}
            slotProps={{ inputLabel: { shrink: true }, htmlInput: { 'data-testid': 'sim-testCsv' } }}
          />
        </>,
      )}

      <FormControl component="fieldset" error={Boolean(errors.acquisitions)} disabled={running}>
        <FormLabel component="legend">Acquisition functions</FormLabel>
        <FormGroup row>
          {SimulateAcquisitionName.options.map((a) => (
            <FormControlLabel
              key={a}
              label={a}
              control={<Checkbox size="small" checked={fields.acquisitions.includes(a)} onChange={(e) => toggle(a, e.target.checked)} slotProps={{ input: { 'data-testid': `sim-acq-${a}` } as object }} />}
            />
          ))}
        </FormGroup>
        {errors.acquisitions && <FormHelperText>choose at least one</FormHelperText>}
      </FormControl>

      {row(
        <>
          <MethodSelect id="sim-method" value={fields.method} onChange={(m) => set('method', m)} disabled={running} minWidth={230} testId="sim-method" />
          <PriorSelect id="sim-prior" value={fields.prior} onChange={(p) => set('prior', p)} disabled={running} testId="sim-prior" />
          {numberField('priorPrecision', 'Prior precision τ', 'decay 1e-4', 150)}
          {numberField('epochs', 'Epochs', 'auto')}
          {numberField('samples', 'Samples T', '20')}
        </>,
      )}

      {row(
        <>
          {numberField('initial', 'Initial labels')}
          {numberField('step', 'Step')}
          {numberField('rounds', 'Rounds')}
          {numberField('seeds', 'Seeds')}
          {numberField('seed', 'Base seed', '0')}
          {numberField('poolSubset', 'Scored per round', 'all unlabelled', 150)}
          {numberField('untilAccuracy', 'Stop a run at accuracy (%)', 'off', 190)}
          <FormControl size="small" sx={{ minWidth: 170 }} disabled={running}>
            <InputLabel id="sim-warm-label">Warm start</InputLabel>
            <Select labelId="sim-warm-label" label="Warm start" value={fields.warmStart} onChange={(e) => set('warmStart', e.target.value as WarmStart)} data-testid="sim-warm-start">
              <MenuItem value="none">none</MenuItem>
              <MenuItem value="random">random</MenuItem>
              <MenuItem value="kcenter">k-centre greedy</MenuItem>
            </Select>
          </FormControl>
          {fields.warmStart !== 'none' && numberField('warmStartRounds', 'Warm-start rounds', String(SIMULATE_DEFAULTS.warmStartRounds))}
        </>,
      )}

      {needsBackbone(fields.method) && (
        <TextField
          size="small"
          label="Backbone (TF.js model folder)"
          value={fields.backbone}
          onChange={(e) => set('backbone', e.target.value)}
          error={Boolean(pathError('backbone'))}
          helperText={pathError('backbone') ?? errors.backbone}
          disabled={running}
          slotProps={{ htmlInput: { 'data-testid': 'sim-backbone' } }}
        />
      )}

      {folderField('out', 'Output folder (optional)', 'gets rounds.csv, summary.json and learning-curve.svg')}

      <Stack direction="row" spacing={2}>
        <Button type="submit" variant="contained" disabled={running || !spec} data-testid="sim-start">
          Start simulation
        </Button>
        {running && (
          <Button color="warning" variant="outlined" onClick={onCancel} data-testid="sim-cancel">
            Cancel
          </Button>
        )}
      </Stack>

      <FolderPickerDialog
        open={picking !== null}
        title={picking === 'out' ? 'Output folder' : 'Data set folder'}
        start={picking ? optionalPath(fields[picking]) : undefined}
        onClose={() => setPicking(null)}
        onPick={(dir) => {
          if (picking) set(picking, dir);
          setPicking(null);
        }}
      />
    </Stack>
  );
}
