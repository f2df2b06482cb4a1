import { Box, Chip, Stack, Tooltip, Typography } from '@mui/material';
import type { ProjectStatusT } from '../hooks/useProject.tsx';

/** The project's counts at a glance: total, left to label, skipped, unsure, and per class. */
export function StatusCounts({ status }: { status: ProjectStatusT | null }) {
  if (!status) return null;
  const labelled = status.perClass.reduce((a, c) => a + c.count, 0);
  return (
    <Stack direction="row" spacing={2} sx={{ alignItems: 'center', overflow: 'hidden' }} data-testid="status-counts">
      <Count label="images" value={status.total} testId="status-total" />
      <Count label="to label" value={status.unlabelled} testId="status-unlabelled" />
      <Count label="labelled" value={labelled} testId="status-labelled" />
      <Count label="skipped" value={status.skipped} testId="status-skipped" />
      <Count label="unsure" value={status.unsure} testId="status-unsure" />
      <Stack direction="row" spacing={0.5} sx={{ overflow: 'hidden' }}>
        {status.perClass.map((c, i) => (
          <Tooltip key={c.name} title={`${c.count} labelled ${c.name}`}>
            <Chip size="small" label={`${i < 9 ? `${i + 1} ` : ''}${c.name}: ${c.count}`} data-testid="status-class" sx={{ bgcolor: 'rgba(255,255,255,0.14)', color: 'inherit' }} />
          </Tooltip>
        ))}
      </Stack>
    </Stack>
  );
}

function Count({ label, value, testId }: { label: string; value: number; testId: string }) {
  return (
    <Box sx={{ textAlign: 'center', lineHeight: 1 }}>
      <Typography sx={{ fontWeight: 600, fontSize: 15, lineHeight: 1.1, fontVariantNumeric: 'tabular-nums' }} data-testid={testId}>
        {value}
      </Typography>
      <Typography sx={{ fontSize: 10.5, opacity: 0.75, textTransform: 'uppercase', letterSpacing: 0.4 }}>{label}</Typography>
    </Box>
  );
}
