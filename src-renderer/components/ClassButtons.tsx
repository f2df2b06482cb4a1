import { Box, Button, Stack, Tooltip } from '@mui/material';

function Key({ children }: { children: string }) {
  return (
    <Box component="kbd" sx={{ fontFamily: 'inherit', fontSize: 11, fontWeight: 600, px: 0.6, py: 0.1, mr: 1, borderRadius: 0.5, border: 1, borderColor: 'currentColor', opacity: 0.75, minWidth: 16, textAlign: 'center' }}>
      {children}
    </Box>
  );
}

/** One button per class (shortcut 1–9), then skip (S), unsure (F) and undo (Ctrl+Z). */
export function ClassButtons({ classes, predicted, disabled, onClass, onSkip, onUnsure, onUndo }: {
  classes: string[];
  predicted: number | null;
  disabled: boolean;
  onClass(idx: number): void;
  onSkip(): void;
  onUnsure(): void;
  onUndo(): void;
}) {
  return (
    <Stack direction="row" sx={{ gap: 2, alignItems: 'flex-start' }}>
      <Stack direction="row" sx={{ flexWrap: 'wrap', gap: 1, alignItems: 'center', flex: 1, minWidth: 0 }} data-testid="class-buttons">
        {classes.map((name, i) => (
          <Button
            key={name}
            variant={predicted === i ? 'contained' : 'outlined'}
            disabled={disabled}
            onClick={() => onClass(i)}
            data-testid={`class-button-${i}`}
            sx={{ textTransform: 'none', fontSize: 15, px: 2 }}
          >
            {i < 9 && <Key>{String(i + 1)}</Key>}
            {name}
          </Button>
        ))}
      </Stack>
      <Stack direction="row" sx={{ gap: 1, alignItems: 'center', flexShrink: 0 }}>
        <Tooltip title="Skip: show it again later">
          <span>
            <Button color="inherit" variant="outlined" disabled={disabled} onClick={onSkip} data-testid="skip-button" sx={{ textTransform: 'none' }}>
              <Key>S</Key>Skip
            </Button>
          </span>
        </Tooltip>
        <Tooltip title="Flag as unsure: you cannot tell">
          <span>
            <Button color="warning" variant="outlined" disabled={disabled} onClick={onUnsure} data-testid="unsure-button" sx={{ textTransform: 'none' }}>
              <Key>F</Key>Unsure
            </Button>
          </span>
        </Tooltip>
        <Tooltip title="Undo your last label">
          <Button color="inherit" onClick={onUndo} data-testid="undo-button" sx={{ textTransform: 'none' }}>
            <Key>Ctrl+Z</Key>Undo
          </Button>
        </Tooltip>
      </Stack>
    </Stack>
  );
}
