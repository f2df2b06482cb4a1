import { Box, Button, Stack, TextField, Tooltip } from '@mui/material';
import { useEffect, useRef, useState } from 'react';
import type { RegressionTargetT } from '../../src-main/service/contract.ts';

/** A decimal number as typed; the service checks it again (finite, inside the range). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function problemOf(text: string, target: RegressionTargetT): string | null {
  if (text.trim() === '') return null;
  const value = Number(text.trim());
  if (!NUMBER.test(text.trim()) || !Number.isFinite(value)) return 'not a number';
  if ((target.min !== null && value < target.min) || (target.max !== null && value > target.max)) return `outside ${target.min ?? '−∞'} to ${target.max ?? '∞'}`;
  return null;
}

/**
 * The regression project's label: type the number and press Enter. S skips, F flags as unsure,
 * Ctrl+Z undoes the last label while the field is empty (with text in it, it undoes the typing); the
 * field is focused for every new image so labelling needs no mouse. A held key acts once.
 */
export function ValueInput({ target, imageKey, disabled, suggestion, onValue, onSkip, onUnsure, onUndo }: {
  target: RegressionTargetT;
  /** Changes with the image shown: clears and refocuses the field. */
  imageKey: number | null;
  disabled: boolean;
  suggestion: number | null;
  onValue(value: number): void;
  onSkip(): void;
  onUnsure(): void;
  onUndo(): void;
}) {
  const [text, setText] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    setText('');
    if (!disabled) input.current?.focus();
  }, [imageKey, disabled]);
  const problem = problemOf(text, target);
  const valid = text.trim() !== '' && problem === null;
  const save = () => {
    if (valid && !disabled) onValue(Number(text.trim()));
  };
  const range = target.min !== null || target.max !== null ? ` (${target.min ?? '−∞'} to ${target.max ?? '∞'})` : '';
  return (
    <Stack direction="row" sx={{ gap: 2, alignItems: 'flex-start' }} data-testid="value-input">
      <Stack direction="row" sx={{ gap: 1, alignItems: 'flex-start', flex: 1, minWidth: 0 }}>
        <TextField
          inputRef={input}
          size="small"
          label={`${target.name}${target.unit ? ` (${target.unit})` : ''}${range}`}
          value={text}
          disabled={disabled}
          error={problem !== null}
          helperText={problem ?? (suggestion !== null ? `model estimate ${suggestion.toFixed(2)} · Enter saves what you type` : 'Enter saves · S skip · F unsure · Ctrl+Z undo')}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              save();
              return;
            }
            const plain = !e.ctrlKey && !e.metaKey && !e.altKey;
            const action =
              (e.ctrlKey || e.metaKey) && (e.key === 'z' || e.key === 'Z') && !e.shiftKey && text === ''
                ? onUndo
                : plain && (e.key === 's' || e.key === 'S')
                  ? onSkip
                  : plain && (e.key === 'f' || e.key === 'F')
                    ? onUnsure
                    : null;
            if (!action) return;
            e.preventDefault();
            // Auto-repeat of a held key would skip, flag or undo image after image.
            if (!e.repeat) action();
          }}
          sx={{ width: 260 }}
          slotProps={{ htmlInput: { inputMode: 'decimal', 'data-testid': 'value-field', autoComplete: 'off' } }}
        />
        <Button variant="contained" disabled={disabled || !valid} onClick={save} data-testid="value-save" sx={{ textTransform: 'none', mt: 0.25 }}>
          Save
        </Button>
      </Stack>
      <Box sx={{ display: 'flex', gap: 1, alignItems: 'center', flexShrink: 0 }}>
        <Button color="inherit" variant="outlined" disabled={disabled} onClick={onSkip} data-testid="skip-button" sx={{ textTransform: 'none' }}>
          Skip (S)
        </Button>
        <Button color="warning" variant="outlined" disabled={disabled} onClick={onUnsure} data-testid="unsure-button" sx={{ textTransform: 'none' }}>
          Unsure (F)
        </Button>
        <Tooltip title="Undo your last label">
          <Button color="inherit" onClick={onUndo} data-testid="undo-button" sx={{ textTransform: 'none' }}>
            Undo (Ctrl+Z)
          </Button>
        </Tooltip>
      </Box>
    </Stack>
  );
}
