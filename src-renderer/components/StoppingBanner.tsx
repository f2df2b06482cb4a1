import { Alert, Chip, Tooltip } from '@mui/material';
import type { ProjectStatusT } from '../hooks/useProject.tsx';

type Stopping = NonNullable<ProjectStatusT['stopping']>;

function details(s: Stopping): string {
  const parts: string[] = [];
  if (s.agreement !== null) parts.push(`${(s.agreement * 100).toFixed(1)}% of the unlabelled images kept their predicted class between the last two model versions`);
  if (s.maxEpistemic !== null) parts.push(`the most informative unlabelled image has an epistemic score (BALD) of ${s.maxEpistemic.toFixed(3)}`);
  return parts.join('; ');
}

/**
 * The stopping signal of the last two model versions, for the annotator: a banner when it says
 * stop ("variant 'banner'"), or a small chip with the numbers otherwise ("variant 'chip'"). Nothing
 * before there are two versions.
 */
export function StoppingBanner({ stopping, variant = 'banner' }: { stopping: Stopping | null | undefined; variant?: 'banner' | 'chip' }) {
  if (!stopping) return null;
  if (variant === 'chip') {
    const label = stopping.stop ? 'Predictions stable' : stopping.agreement !== null ? `Predictions ${(stopping.agreement * 100).toFixed(0)}% stable` : 'Predictions: –';
    return (
      <Tooltip title={`${stopping.reason}${details(stopping) ? ` (${details(stopping)})` : ''}`}>
        <Chip size="small" color={stopping.stop ? 'success' : 'default'} variant="outlined" label={label} data-testid="stopping-chip" data-stop={stopping.stop} />
      </Tooltip>
    );
  }
  if (!stopping.stop) return null;
  return (
    <Alert severity="info" variant="outlined" data-testid="stopping-banner" sx={{ py: 0 }}>
      The model&apos;s predictions have stopped changing — more labels may not help much.{' '}
      <Tooltip title={`${stopping.reason}${details(stopping) ? `. In numbers: ${details(stopping)}.` : ''}`}>
        <span style={{ textDecoration: 'underline dotted', cursor: 'help' }}>Why?</span>
      </Tooltip>
    </Alert>
  );
}
