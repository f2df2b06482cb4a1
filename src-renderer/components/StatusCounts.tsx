import { Box, Chip, Stack, Tooltip, Typography } from '@mui/material';
import type { ProjectStatusT } from '../hooks/useProject.tsx';

const SHOWN_CLASSES = 4;

/** The project's counts at a glance: total, left to label, skipped, unsure, and per class. */
export function StatusCounts({ status }: { status: ProjectStatusT | null }) {
  if (!status) return null;
  const labelled = status.perClass.reduce((a, c) => a + c.count, 0) + (status.values?.count ?? 0);
  const shown = status.perClass.length <= SHOWN_CLASSES + 1 ? status.perClass : status.perClass.slice(0, SHOWN_CLASSES);
  const rest = status.perClass.slice(shown.length);
  return (
    <Stack direction="row" spacing={2} sx={{ alignItems: 'center', overflow: 'hidden' }} data-testid="status-counts">
      <Count label="images" value={status.total} testId="status-total" />
      <Count label="to label" value={status.unlabelled} testId="status-unlabelled" />
      <Count label="labelled" value={labelled} testId="status-labelled" />
      <Count label="skipped" value={status.skipped} testId="status-skipped" />
      <Count label="unsure" value={status.unsure} testId="status-unsure" />
      <Stack direction="row" spacing={0.5} sx={{ overflow: 'hidden', flexShrink: 1 }}>
        {shown.map((c) => (
          <Chip key={c.name} size="small" label={`${c.name}: ${c.count}`} data-testid="status-class" sx={{ bgcolor: 'rgba(255,255,255,0.14)', color: 'inherit', maxWidth: 160 }} />
        ))}
        {rest.length > 0 && (
          <Tooltip
            title={
              <Box>
                {status.perClass.map((c) => (
                  <div key={c.name}>
                    {c.name}: {c.count}
                  </div>
                ))}
              </Box>
            }
          >
            <Chip size="small" label={`+${rest.length} classes`} data-testid="status-class-more" sx={{ bgcolor: 'rgba(255,255,255,0.08)', color: 'inherit' }} />
          </Tooltip>
        )}
      </Stack>
    </Stack>
  );
}

function Count({ label, value, testId }: { label: string; value: number; testId: string }) {
  return (
    <Box sx={{ textAlign: 'center', lineHeight: 1, flexShrink: 0 }}>
      <Typography sx={{ fontWeight: 600, fontSize: 15, lineHeight: 1.1, fontVariantNumeric: 'tabular-nums' }} data-testid={testId}>
        {value}
      </Typography>
      <Typography sx={{ fontSize: 10.5, opacity: 0.75, textTransform: 'uppercase', letterSpacing: 0.4, whiteSpace: 'nowrap' }}>{label}</Typography>
    </Box>
  );
}
