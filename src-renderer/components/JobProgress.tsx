import { Box, LinearProgress, Stack, Typography } from '@mui/material';
import type { JobStateT } from '../../src-main/service/contract.ts';
import { formatSeconds } from '../hooks/useJob.ts';

/** Progress of one job: a bar, the job's message, epoch/loss/time left when the job reports them. */
export function JobProgress({ job, testId = 'job-progress' }: { job: JobStateT | null; testId?: string }) {
  if (!job) {
    return (
      <Box data-testid={testId} data-status="starting">
        <LinearProgress />
        <Typography variant="body2" color="text.secondary" sx={{ mt: 1 }}>
          Starting…
        </Typography>
      </Box>
    );
  }
  const pct = Math.round(Math.max(0, Math.min(1, job.fraction)) * 100);
  const details: string[] = [];
  if (job.epoch !== undefined) details.push(`epoch ${job.epoch}${job.epochs !== undefined ? ` / ${job.epochs}` : ''}`);
  if (job.loss !== undefined && Number.isFinite(job.loss)) details.push(`loss ${job.loss.toFixed(4)}`);
  if (job.status === 'running' && job.etaSeconds !== undefined) details.push(`${formatSeconds(job.etaSeconds)} left`);
  const color = job.status === 'failed' ? 'error' : job.status === 'cancelled' ? 'warning' : job.status === 'succeeded' ? 'success' : 'primary';
  return (
    <Box data-testid={testId} data-status={job.status} data-job-id={job.jobId}>
      <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center' }}>
        <LinearProgress variant="determinate" value={pct} color={color} sx={{ flex: 1, height: 8, borderRadius: 4 }} />
        <Typography variant="body2" sx={{ minWidth: 40, textAlign: 'right', fontVariantNumeric: 'tabular-nums' }}>
          {pct}%
        </Typography>
      </Stack>
      <Typography variant="body2" color="text.secondary" sx={{ mt: 0.75 }} data-testid={`${testId}-message`}>
        {job.status === 'failed' ? `Failed: ${job.error ?? job.message}` : job.status === 'cancelled' ? 'Cancelled' : job.message}
        {details.length > 0 && ` · ${details.join(' · ')}`}
      </Typography>
    </Box>
  );
}
