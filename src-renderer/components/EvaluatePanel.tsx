import { Button, Checkbox, FormControlLabel, MenuItem, Stack, Table, TableBody, TableCell, TableHead, TableRow, TextField, Typography } from '@mui/material';
import { useState } from 'react';
import { clinicalMetricRows } from '../../src-main/bdl/clinicalMetrics.ts';
import type { JobStateT } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { useJob } from '../hooks/useJob.ts';
import { useNotify } from '../hooks/useNotify.tsx';
import { useProject } from '../hooks/useProject.tsx';
import { JobProgress } from './JobProgress.tsx';
import { isAbsolutePath } from './TrainPanel.tsx';

type Report = Extract<NonNullable<JobStateT['result']>, { kind: 'evaluate' }>['report'];
type Estimate = Report['clinical']['accuracy'];

const num = (x: number | null) => (x === null ? '–' : x.toFixed(3));
const interval = (e: Estimate) => (e.low === null || e.high === null ? '–' : `${num(e.low)} – ${num(e.high)}`);

/** Evaluate the latest version on a labelled CSV: the clinical metrics with bootstrap 95% intervals (classification projects). */
export function EvaluatePanel() {
  const client = useClient();
  const { notifyError } = useNotify();
  const { project } = useProject();
  const [csv, setCsv] = useState('');
  const [threshold, setThreshold] = useState('');
  const [positive, setPositive] = useState(project.classes[1] ?? '');
  const [bootstrap, setBootstrap] = useState('1000');
  const [ordinal, setOrdinal] = useState(false);
  const [started, setStarted] = useState<JobStateT | null>(null);
  const job = useJob(started);
  const twoClasses = project.classes.length === 2;
  const thresholdValue = threshold.trim() === '' ? undefined : Number(threshold);
  const thresholdValid = thresholdValue === undefined || (thresholdValue > 0 && thresholdValue < 1);
  const bootstrapValue = Number(bootstrap);
  const bootstrapValid = Number.isInteger(bootstrapValue) && bootstrapValue >= 0 && bootstrapValue <= 100_000;
  const running = job?.status === 'running';
  const report = job?.result?.kind === 'evaluate' ? job.result.report : null;

  const evaluate = () =>
    client['job.start']({
      projectId: project.projectId,
      job: { kind: 'evaluate', labels: csv.trim(), bootstrap: bootstrapValue, ordinal, ...(twoClasses ? { positive, ...(thresholdValue !== undefined ? { threshold: thresholdValue } : {}) } : {}) },
    }).then(setStarted, notifyError);

  return (
    <Stack spacing={2} data-testid="evaluate-panel">
      <Stack direction="row" spacing={2} sx={{ alignItems: 'center', flexWrap: 'wrap', rowGap: 1.5 }}>
        <Typography variant="h6" sx={{ fontSize: 17, mr: 1 }}>
          Evaluate on labelled images
        </Typography>
        <TextField size="small" label="Labels CSV (path,label)" placeholder="/path/to/labels.csv" value={csv} onChange={(e) => setCsv(e.target.value)} disabled={running} sx={{ minWidth: 300 }} slotProps={{ htmlInput: { 'data-testid': 'evaluate-csv' } }} />
        {twoClasses && (
          <>
            <TextField select size="small" label="Positive class" value={positive} onChange={(e) => setPositive(e.target.value)} disabled={running} sx={{ minWidth: 140 }}>
              {project.classes.map((c) => (
                <MenuItem key={c} value={c}>
                  {c}
                </MenuItem>
              ))}
            </TextField>
            <TextField size="small" label="Threshold" placeholder="argmax" value={threshold} error={!thresholdValid} helperText={thresholdValid ? undefined : 'in (0, 1)'} onChange={(e) => setThreshold(e.target.value)} disabled={running} sx={{ width: 110 }} slotProps={{ htmlInput: { 'data-testid': 'evaluate-threshold', inputMode: 'decimal' } }} />
          </>
        )}
        <TextField size="small" label="Bootstrap" value={bootstrap} error={!bootstrapValid} onChange={(e) => setBootstrap(e.target.value.replace(/[^0-9]/g, ''))} disabled={running} sx={{ width: 110 }} slotProps={{ htmlInput: { 'data-testid': 'evaluate-bootstrap', inputMode: 'numeric' } }} />
        <FormControlLabel control={<Checkbox checked={ordinal} onChange={(e) => setOrdinal(e.target.checked)} disabled={running} />} label="Ordered grades" />
        <Button variant="contained" onClick={evaluate} disabled={running || !isAbsolutePath(csv.trim()) || !thresholdValid || !bootstrapValid} data-testid="evaluate-button">
          Evaluate
        </Button>
      </Stack>
      {started && !report && <JobProgress job={job} testId="evaluate-progress" />}
      {job?.status === 'failed' && <Typography color="error">{job.error ?? job.message}</Typography>}
      {report && <EvaluationTables report={report} />}
    </Stack>
  );
}

function EvaluationTables({ report }: { report: Report }) {
  const r = report.clinical;
  const rows = clinicalMetricRows(r, r.classes);
  return (
    <Stack direction={{ xs: 'column', md: 'row' }} spacing={3} data-testid="evaluate-result">
      <Table size="small" sx={{ maxWidth: 520 }}>
        <TableHead>
          <TableRow>
            <TableCell>
              Model v{report.modelVersionId} on {report.evaluated} images
            </TableCell>
            <TableCell align="right">Value</TableCell>
            <TableCell align="right">95% interval</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {rows.map(([label, e]) => (
            <TableRow key={label} title={e.reason}>
              <TableCell>{label}</TableCell>
              <TableCell align="right">{num(e.value)}</TableCell>
              <TableCell align="right">{interval(e)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <Stack spacing={1}>
        <Typography variant="subtitle2">Confusion matrix (rows: true, columns: predicted)</Typography>
        <Table size="small" data-testid="evaluate-confusion">
          <TableHead>
            <TableRow>
              <TableCell />
              {r.classes.map((c) => (
                <TableCell key={c} align="right">
                  {c}
                </TableCell>
              ))}
              <TableCell align="right">Prevalence</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {r.confusion.map((row, k) => (
              <TableRow key={r.classes[k]}>
                <TableCell>{r.classes[k]}</TableCell>
                {row.map((count, j) => (
                  <TableCell key={j} align="right">
                    {count}
                  </TableCell>
                ))}
                <TableCell align="right">
                  {r.prevalence.counts[k]} ({(100 * r.prevalence.shares[k]).toFixed(1)}%)
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
        <Typography variant="body2" color="text.secondary">
          {r.operatingPoint.rule === 'argmax' ? 'Predicted: the most probable class.' : `Predicted ${r.classes[r.operatingPoint.positiveClass]} when its probability ≥ ${r.operatingPoint.threshold}.`}{' '}
          {r.bootstrap.resamples > 0 ? `Intervals: percentile bootstrap over images, ${r.bootstrap.resamples} resamples.` : 'No intervals (bootstrap 0).'}
        </Typography>
      </Stack>
    </Stack>
  );
}
