import {
  Alert,
  Box,
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
} from '@mui/material';
import { useEffect, useRef, useState } from 'react';
import type { JobStateT } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { errorMessage } from '../client/client.ts';
import { useJob } from '../hooks/useJob.ts';
import { JobProgress } from './JobProgress.tsx';

/** Runs an import job for the given folders/files and shows its progress, then what failed and why. */
export function ImportDialog({ projectId, paths, onClose, onFinished }: {
  projectId: string;
  paths: string[] | null;
  onClose(): void;
  onFinished(job: JobStateT): void;
}) {
  const client = useClient();
  const [started, setStarted] = useState<JobStateT | null>(null);
  const [startError, setStartError] = useState<string | null>(null);
  const job = useJob(started);
  const startedFor = useRef<string[] | null>(null);
  const finishedFor = useRef<string | null>(null);

  useEffect(() => {
    if (!paths || startedFor.current === paths) return;
    startedFor.current = paths;
    setStarted(null);
    setStartError(null);
    client['job.start']({ projectId, job: { kind: 'import', paths } }).then(setStarted, (e) => setStartError(errorMessage(e)));
  }, [client, projectId, paths]);

  useEffect(() => {
    if (job && job.status !== 'running' && finishedFor.current !== job.jobId) {
      finishedFor.current = job.jobId;
      onFinished(job);
    }
  }, [job, onFinished]);

  const summary = job?.result?.kind === 'import' ? job.result.summary : null;
  const running = !startError && (!job || job.status === 'running');
  return (
    <Dialog open={paths !== null} onClose={running ? undefined : onClose} fullWidth maxWidth="md" data-testid="import-dialog">
      <DialogTitle>Importing images</DialogTitle>
      <DialogContent>
        <Typography variant="body2" color="text.secondary" sx={{ mb: 2, wordBreak: 'break-all' }}>
          {paths?.join(', ')}
        </Typography>
        {startError ? <Alert severity="error">{startError}</Alert> : <JobProgress job={job} testId="import-progress" />}
        {summary && (
          <Box sx={{ mt: 2 }} data-testid="import-summary">
            <Stack direction="row" spacing={3} sx={{ mb: 1.5 }}>
              <Stat label="added" value={summary.added} testId="import-added" />
              <Stat label="unchanged" value={summary.unchanged} />
              <Stat label="moved" value={summary.moved} />
              <Stat label="labelled from folders" value={summary.labelled} />
              <Stat label="failed" value={summary.failed.length} testId="import-failed-count" color={summary.failed.length ? 'error.main' : undefined} />
            </Stack>
            {summary.failed.length > 0 && (
              <Box sx={{ maxHeight: 260, overflow: 'auto', border: 1, borderColor: 'divider', borderRadius: 1 }}>
                <Table size="small" stickyHeader data-testid="import-failures">
                  <TableHead>
                    <TableRow>
                      <TableCell>File</TableCell>
                      <TableCell>Problem</TableCell>
                      <TableCell>Why</TableCell>
                    </TableRow>
                  </TableHead>
                  <TableBody>
                    {summary.failed.map((f) => (
                      <TableRow key={f.path}>
                        <TableCell sx={{ wordBreak: 'break-all', fontFamily: 'monospace', fontSize: 12 }}>{f.path}</TableCell>
                        <TableCell>{f.code}</TableCell>
                        <TableCell>{f.message}</TableCell>
                      </TableRow>
                    ))}
                  </TableBody>
                </Table>
              </Box>
            )}
          </Box>
        )}
      </DialogContent>
      <DialogActions>
        {running && job && (
          <Button color="warning" onClick={() => client['job.cancel']({ jobId: job.jobId }).catch(() => undefined)}>
            Cancel import
          </Button>
        )}
        <Button variant="contained" disabled={running} onClick={onClose} data-testid="import-close">
          {running ? 'Importing…' : 'Done'}
        </Button>
      </DialogActions>
    </Dialog>
  );
}

function Stat({ label, value, testId, color }: { label: string; value: number; testId?: string; color?: string }) {
  return (
    <Box>
      <Typography variant="h6" sx={{ lineHeight: 1.1, color }} data-testid={testId}>
        {value}
      </Typography>
      <Typography variant="caption" color="text.secondary">
        {label}
      </Typography>
    </Box>
  );
}
