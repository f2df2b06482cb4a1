import { Button, Paper, Stack, TextField, Typography } from '@mui/material';
import { useEffect, useRef, useState } from 'react';
import type { JobStateT } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { useJob } from '../hooks/useJob.ts';
import { useNotify } from '../hooks/useNotify.tsx';
import { useProject } from '../hooks/useProject.tsx';
import { ArchitectureSelect } from './ArchitectureSelect.tsx';
import { JobProgress } from './JobProgress.tsx';
import { MethodSelect, needsBackbone, type Method } from './MethodSelect.tsx';
import { PriorSelect, type Prior } from './PriorSelect.tsx';

/** The contract takes absolute paths only (POSIX, drive letter or UNC). */
export const isAbsolutePath = (p: string) => /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(p);

/** Train a model version: a job with epoch, loss and time left; cancellable. */
export function TrainPanel({ onTrained }: { onTrained(): void }) {
  const client = useClient();
  const { notify, notifyError } = useNotify();
  const { project, status, noteJobDone } = useProject();
  const [epochs, setEpochs] = useState('');
  const [method, setMethod] = useState<Method>('mc-dropout');
  const [backbone, setBackbone] = useState('');
  const [prior, setPrior] = useState<Prior>('gaussian');
  const [started, setStarted] = useState<JobStateT | null>(null);
  const job = useJob(started);
  const reported = useRef<string | null>(null);

  // Re-attach to a training job that is still running (e.g. after switching tabs).
  useEffect(() => {
    client['job.list']({ projectId: project.projectId }).then(
      (jobs) => {
        const running = jobs.filter((j) => j.kind === 'train' && j.status === 'running').pop();
        if (running) setStarted((s) => s ?? running);
      },
      () => undefined,
    );
  }, [client, project.projectId]);

  useEffect(() => {
    if (!job || job.status === 'running' || reported.current === job.jobId) return;
    reported.current = job.jobId;
    if (job.status === 'succeeded') {
      const m = job.result?.kind === 'train' ? job.result.modelVersion : null;
      noteJobDone(job);
      const heldOut = m?.metrics ? ` · held-out accuracy ${(m.metrics.accuracy * 100).toFixed(1)}%` : m?.regressionMetrics ? ` · held-out RMSE ${m.regressionMetrics.rmse.toFixed(3)}` : '';
      notify(m ? `Model v${m.id} trained on ${m.nLabels} labels${heldOut}` : 'Model trained', 'success');
      onTrained();
    } else if (job.status === 'failed') notify(`Training failed: ${job.error ?? job.message}`, 'error');
  }, [job, notify, onTrained, noteJobDone]);

  const epochsValue = epochs.trim() === '' ? undefined : Number(epochs);
  const epochsValid = epochsValue === undefined || (Number.isInteger(epochsValue) && epochsValue >= 1 && epochsValue <= 500);
  const backboneValid = !needsBackbone(method) || isAbsolutePath(backbone.trim());
  const running = job?.status === 'running';
  const labelled = status ? status.perClass.reduce((a, c) => a + c.count, 0) + (status.values?.count ?? 0) : 0;
  // Regression projects have one method, the exact GP, and no epochs.
  const regression = project.task === 'regression';

  const train = () => {
    if (regression) return void client['job.start']({ projectId: project.projectId, job: { kind: 'train', method: 'gp' } }).then(setStarted, notifyError);
    client['job.start']({ projectId: project.projectId, job: { kind: 'train', method, ...(prior !== 'gaussian' ? { prior } : {}), ...(epochsValue !== undefined ? { epochs: epochsValue } : {}), ...(needsBackbone(method) ? { backbone: backbone.trim() } : {}) } }).then(setStarted, notifyError);
  };
  const cancel = () => {
    if (job) client['job.cancel']({ jobId: job.jobId }).then(setStarted, notifyError);
  };

  return (
    <Paper variant="outlined" sx={{ p: 2 }} data-testid="train-panel">
      <Stack direction="row" spacing={2} sx={{ alignItems: 'center', flexWrap: 'wrap', rowGap: 1.5 }}>
        <Typography variant="h6" sx={{ fontSize: 17, mr: 1 }}>
          Train a model
        </Typography>
        {regression ? (
          <Typography variant="body2" data-testid="train-method-gp">
            Gaussian process regression (RBF kernel, hyper-parameters by marginal likelihood)
          </Typography>
        ) : (
        <>
        <MethodSelect id="method" value={method} onChange={setMethod} disabled={running} minWidth={190} />
        {!needsBackbone(method) && <ArchitectureSelect disabled={running} />}
        <PriorSelect id="prior" value={prior} onChange={setPrior} disabled={running} testId="train-prior" />
        <TextField
          size="small"
          label="Epochs"
          placeholder="auto"
          value={epochs}
          error={!epochsValid}
          onChange={(e) => setEpochs(e.target.value.replace(/[^0-9]/g, ''))}
          disabled={running}
          sx={{ width: 110 }}
          slotProps={{ htmlInput: { 'data-testid': 'train-epochs', inputMode: 'numeric' } }}
        />
        </>
        )}
        {needsBackbone(method) && (
          <TextField
            size="small"
            label="Backbone (TF.js model folder)"
            placeholder="/path/to/model (model.json + weights)"
            value={backbone}
            error={backbone.trim() !== '' && !backboneValid}
            helperText={backbone.trim() !== '' && !backboneValid ? 'an absolute path' : undefined}
            onChange={(e) => setBackbone(e.target.value)}
            disabled={running}
            sx={{ minWidth: 320 }}
            slotProps={{ htmlInput: { 'data-testid': 'train-backbone' } }}
          />
        )}
        <Button variant="contained" onClick={train} disabled={running || !epochsValid || !backboneValid} data-testid="train-button">
          Train
        </Button>
        {running && (
          <Button color="warning" variant="outlined" onClick={cancel} data-testid="train-cancel">
            Cancel
          </Button>
        )}
        <Typography variant="body2" color="text.secondary" sx={{ ml: 'auto !important' }}>
          {labelled} labelled images available
        </Typography>
      </Stack>
      {started && (
        <Stack sx={{ mt: 2 }}>
          <JobProgress job={job} testId="train-progress" />
        </Stack>
      )}
    </Paper>
  );
}
