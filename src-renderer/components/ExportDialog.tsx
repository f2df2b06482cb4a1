import {
  Alert,
  Button,
  Checkbox,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  FormControl,
  FormControlLabel,
  FormLabel,
  InputAdornment,
  Radio,
  RadioGroup,
  Stack,
  TextField,
} from '@mui/material';
import { useEffect, useState } from 'react';
import type { JobStateT } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { errorMessage } from '../client/client.ts';
import { useJob } from '../hooks/useJob.ts';
import { useProject } from '../hooks/useProject.tsx';
import { FolderPickerDialog } from './FolderPickerDialog.tsx';
import { JobProgress } from './JobProgress.tsx';

type Format = 'csv' | 'folders' | 'json';
const FORMATS: { id: Format; label: string }[] = [
  { id: 'csv', label: 'CSV — one row per labelled image (path, class, annotator, …)' },
  { id: 'folders', label: 'Folders — a copy of each image in a folder named after its class' },
  { id: 'json', label: 'JSON — labels with the full event history' },
];

export function ExportDialog({ open, onClose }: { open: boolean; onClose(): void }) {
  const client = useClient();
  const { project } = useProject();
  const [format, setFormat] = useState<Format>('csv');
  const [out, setOut] = useState('');
  const [force, setForce] = useState(false);
  const [picker, setPicker] = useState(false);
  const [started, setStarted] = useState<JobStateT | null>(null);
  const [startError, setStartError] = useState<string | null>(null);
  const job = useJob(started);

  useEffect(() => {
    if (open) {
      setStarted(null);
      setStartError(null);
      setOut((o) => o || `${project.dir.replace(/[\\/]+$/, '')}/export`);
    }
  }, [open, project.dir]);

  const running = job?.status === 'running';
  const start = () => {
    setStartError(null);
    setStarted(null);
    client['job.start']({ projectId: project.projectId, job: { kind: 'export', out: out.trim(), format, force } }).then(setStarted, (e) => setStartError(errorMessage(e)));
  };
  const result = job?.result?.kind === 'export' ? job.result : null;

  return (
    <Dialog open={open} onClose={running ? undefined : onClose} fullWidth maxWidth="sm" data-testid="export-dialog">
      <DialogTitle>Export labels</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ pt: 1 }}>
          <FormControl disabled={running}>
            <FormLabel sx={{ fontSize: 13 }}>Format</FormLabel>
            <RadioGroup value={format} onChange={(e) => setFormat(e.target.value as Format)}>
              {FORMATS.map((f) => (
                <FormControlLabel key={f.id} value={f.id} control={<Radio size="small" slotProps={{ input: { 'data-testid': `export-format-${f.id}` } as object }} />} label={f.label} slotProps={{ typography: { variant: 'body2' } }} />
              ))}
            </RadioGroup>
          </FormControl>
          <TextField
            label="Output folder"
            size="small"
            value={out}
            disabled={running}
            onChange={(e) => setOut(e.target.value)}
            slotProps={{
              htmlInput: { 'data-testid': 'export-out' },
              input: { endAdornment: <InputAdornment position="end"><Button size="small" onClick={() => setPicker(true)}>Browse</Button></InputAdornment> },
            }}
          />
          <FormControlLabel
            control={<Checkbox checked={force} onChange={(e) => setForce(e.target.checked)} slotProps={{ input: { 'data-testid': 'export-force' } as object }} />}
            label="Overwrite files already in the output folder"
            disabled={running}
          />
          {startError && <Alert severity="error" data-testid="export-error">{startError}</Alert>}
          {started && <JobProgress job={job} testId="export-progress" />}
          {result && (
            <Alert severity="success" data-testid="export-result">
              Exported {result.rows} label{result.rows === 1 ? '' : 's'} ({result.files} file{result.files === 1 ? '' : 's'}) to {result.out}
            </Alert>
          )}
          {job?.status === 'failed' && <Alert severity="error">{job.error ?? job.message}</Alert>}
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose} disabled={running} data-testid="export-close">
          Close
        </Button>
        <Button variant="contained" onClick={start} disabled={running || !out.trim()} data-testid="export-start">
          Export
        </Button>
      </DialogActions>
      <FolderPickerDialog
        open={picker}
        title="Export to folder"
        start={out || undefined}
        onClose={() => setPicker(false)}
        onPick={(dir) => {
          setOut(dir);
          setPicker(false);
        }}
      />
    </Dialog>
  );
}
