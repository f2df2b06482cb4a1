import { Box, Chip, TextField } from '@mui/material';
import { useState } from 'react';

function split(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Class names as chips: type a name and press Enter or a comma; a pasted comma list becomes chips. */
export function ClassChipsInput({ value, onChange, pending, onPendingChange }: {
  value: string[];
  onChange(classes: string[]): void;
  pending: string;
  onPendingChange(text: string): void;
}) {
  const [error, setError] = useState<string | null>(null);
  const add = (names: string[]) => {
    const next = [...value];
    for (const name of names) {
      if (next.some((c) => c.toLowerCase() === name.toLowerCase())) {
        setError(`"${name}" is already a class`);
        continue;
      }
      next.push(name);
    }
    onChange(next);
  };
  return (
    <Box>
      <TextField
        label="Classes"
        fullWidth
        size="small"
        value={pending}
        error={Boolean(error)}
        helperText={error ?? 'Type a class name and press Enter, or a comma-separated list. The order sets the shortcuts 1–9.'}
        onChange={(e) => {
          setError(null);
          const text = e.target.value;
          if (text.includes(',')) {
            const parts = text.split(',');
            const rest = parts.pop() ?? '';
            add(split(parts.join(',')));
            onPendingChange(rest.trimStart());
          } else onPendingChange(text);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && pending.trim()) {
            e.preventDefault();
            add(split(pending));
            onPendingChange('');
          } else if (e.key === 'Backspace' && !pending && value.length) {
            onChange(value.slice(0, -1));
          }
        }}
        slotProps={{ htmlInput: { 'data-testid': 'np-classes' } }}
      />
      <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 0.75, mt: 1, minHeight: 32 }} data-testid="np-class-chips">
        {value.map((name, i) => (
          <Chip key={name} label={`${i < 9 ? `${i + 1} · ` : ''}${name}`} onDelete={() => onChange(value.filter((c) => c !== name))} color="primary" variant="outlined" />
        ))}
      </Box>
    </Box>
  );
}

export function withPending(classes: string[], pending: string): string[] {
  const extra = split(pending).filter((p) => !classes.some((c) => c.toLowerCase() === p.toLowerCase()));
  return [...classes, ...extra];
}
