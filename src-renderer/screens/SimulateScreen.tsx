import { Alert, AlertTitle, Box, Paper, Stack, Typography } from '@mui/material';
import { useEffect, useState } from 'react';
import type { JobStateT } from '../../src-main/service/contract.ts';
import { errorMessage } from '../client/client.ts';
import { useClient } from '../client/ClientContext.tsx';
import { JobProgress } from '../components/JobProgress.tsx';
import { SimulateForm, type SimulateSpec } from '../components/SimulateForm.tsx';
import { SimulateResults } from '../components/SimulateResults.tsx';
import { useJob } from '../hooks/useJob.ts';
import { useProject } from '../hooks/useProject.tsx';

/** The simulate benchmark as a job of this project: options, progress with Cancel, then the results. */
export function SimulateScreen() {
  const client = useClient();
  const { project } = useProject();
  const [started, setStarted] = useState<JobStateT | null>(null);
  const [refused, setRefused] = useState<string | null>(null);
  const job = useJob(started);

  // Back on this tab: show the latest simulation again, running or finished.
  useEffect(() => {
    client['job.list']({ projectId: project.projectId }).then(
      (jobs) => {
        const latest = jobs.filter((j) => j.kind === 'simulate').pop();
        if (latest) setStarted((s) => s ?? latest);
      },
      () => undefined,
    );
  }, [client, project.projectId]);

  const start = (spec: SimulateSpec) => {
    setRefused(null);
    client['job.start']({ projectId: project.projectId, job: spec }).then(setStarted, (error) => setRefused(errorMessage(error)));
  };
  // The job's own events report the cancellation; the answer to job.cancel may still say 'running'.
  const cancel = () => {
    if (job) client['job.cancel']({ jobId: job.jobId }).catch((error) => setRefused(errorMessage(error)));
  };

  const failure = refused ?? (job?.status === 'failed' ? (job.error ?? job.message) : null);
  return (
    <Box sx={{ p: 2, height: '100%', overflow: 'auto', boxSizing: 'border-box' }} data-testid="simulate-screen">
      <Stack spacing={2} sx={{ maxWidth: 1280, mx: 'auto' }}>
        <Paper variant="outlined" sx={{ p: 2 }}>
          <Stack spacing={2}>
            <Box>
              <Typography variant="h6" sx={{ fontSize: 17 }}>
                Benchmark acquisition functions
              </Typography>
              <Typography variant="body2" color="text.secondary">
                Active learning with an oracle on a labelled data set (not this project's images): a fresh network per round, held-out accuracy, then the next
                images picked by each acquisition function.
              </Typography>
            </Box>
            <SimulateForm running={job?.status === 'running'} onStart={start} onCancel={cancel} />
            {failure !== null ? (
              <Alert severity="error" data-testid="simulate-error">
                <AlertTitle>{refused !== null ? 'The simulation could not start' : 'The simulation failed'}</AlertTitle>
                {failure}
              </Alert>
            ) : (
              started && <JobProgress job={job} testId="simulate-progress" />
            )}
          </Stack>
        </Paper>
        {job?.status !== 'running' && job?.result?.kind === 'simulate' && <SimulateResults result={job.result} />}
      </Stack>
    </Box>
  );
}
