import {
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  FormControl,
  FormLabel,
  InputAdornment,
  Stack,
  TextField,
  ToggleButton,
  ToggleButtonGroup,
} from '@mui/material';
import { useEffect, useState } from 'react';
import type { ProjectInfoT } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { useNotify } from '../hooks/useNotify.tsx';
import { ClassChipsInput, withPending } from './ClassChipsInput.tsx';
import { FolderPickerDialog } from './FolderPickerDialog.tsx';

const SIZES = [28, 64, 128, 224] as const;
type Size = (typeof SIZES)[number];

function slug(name: string): string {
  return name.trim().replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^-+|-+$/g, '') || 'project';
}
function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') || dir.endsWith('\\') ? `${dir}${name}` : `${dir}/${name}`;
}

export function NewProjectDialog({ open, defaultDir, onClose, onCreated }: {
  open: boolean;
  defaultDir: string;
  onClose(): void;
  onCreated(project: ProjectInfoT, importDir: string | null): void;
}) {
  const client = useClient();
  const { notifyError } = useNotify();
  const [name, setName] = useState('');
  const [dir, setDir] = useState('');
  const [dirEdited, setDirEdited] = useState(false);
  const [task, setTask] = useState<'classification' | 'regression'>('classification');
  const [target, setTarget] = useState({ name: '', unit: '', min: '', max: '' });
  const [classes, setClasses] = useState<string[]>([]);
  const [pending, setPending] = useState('');
  const [size, setSize] = useState<Size>(64);
  const [channels, setChannels] = useState<1 | 3>(1);
  const [importDir, setImportDir] = useState('');
  const [picker, setPicker] = useState<null | 'dir' | 'import'>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!dirEdited) setDir(defaultDir ? joinPath(defaultDir, slug(name || 'new-project')) : '');
  }, [name, defaultDir, dirEdited]);

  const allClasses = withPending(classes, pending);
  // An empty bound is no bound; anything else must be a number.
  const bound = (text: string) => (text.trim() === '' ? undefined : Number(text.trim()));
  const boundsValid = [target.min, target.max].every((t) => t.trim() === '' || Number.isFinite(Number(t.trim())));
  const rangeValid = boundsValid && !(bound(target.min)! >= bound(target.max)!);
  const taskReady = task === 'classification' ? allClasses.length >= 2 : target.name.trim().length > 0 && rangeValid;
  const canCreate = dir.trim().length > 0 && taskReady && !busy;

  const create = async () => {
    setBusy(true);
    try {
      const project = await client['project.create']({
        dir: dir.trim(),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(task === 'classification'
          ? { classes: allClasses }
          : {
              task,
              target: {
                name: target.name.trim(),
                ...(target.unit.trim() ? { unit: target.unit.trim() } : {}),
                ...(bound(target.min) !== undefined ? { min: bound(target.min) } : {}),
                ...(bound(target.max) !== undefined ? { max: bound(target.max) } : {}),
              },
            }),
        imageSize: size,
        channels,
      });
      onCreated(project, importDir.trim() || null);
    } catch (error) {
      notifyError(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onClose={onClose} fullWidth maxWidth="sm" data-testid="new-project-dialog">
      <DialogTitle>New project</DialogTitle>
      <DialogContent>
        <Stack spacing={2.5} sx={{ pt: 1 }}>
          <TextField label="Name" size="small" autoFocus value={name} onChange={(e) => setName(e.target.value)} slotProps={{ htmlInput: { 'data-testid': 'np-name' } }} />
          <TextField
            label="Project folder"
            size="small"
            value={dir}
            helperText="Created if missing; holds the project's database and cache."
            onChange={(e) => {
              setDir(e.target.value);
              setDirEdited(true);
            }}
            slotProps={{
              htmlInput: { 'data-testid': 'np-dir' },
              input: { endAdornment: <InputAdornment position="end"><Button size="small" onClick={() => setPicker('dir')}>Browse</Button></InputAdornment> },
            }}
          />
          <FormControl>
            <FormLabel sx={{ mb: 0.5, fontSize: 13 }}>The label of an image is</FormLabel>
            <ToggleButtonGroup size="small" exclusive value={task} onChange={(_e, v: 'classification' | 'regression' | null) => v && setTask(v)}>
              <ToggleButton value="classification" data-testid="np-task-classification">a class</ToggleButton>
              <ToggleButton value="regression" data-testid="np-task-regression">a number (regression)</ToggleButton>
            </ToggleButtonGroup>
          </FormControl>
          {task === 'classification' ? (
            <ClassChipsInput value={classes} onChange={setClasses} pending={pending} onPendingChange={setPending} />
          ) : (
            <Stack direction="row" spacing={1.5}>
              <TextField
                label="Target"
                size="small"
                placeholder="e.g. severity"
                value={target.name}
                onChange={(e) => setTarget({ ...target, name: e.target.value })}
                sx={{ flex: 2 }}
                slotProps={{ htmlInput: { 'data-testid': 'np-target' } }}
              />
              <TextField label="Unit" size="small" placeholder="optional" value={target.unit} onChange={(e) => setTarget({ ...target, unit: e.target.value })} sx={{ flex: 1 }} slotProps={{ htmlInput: { 'data-testid': 'np-unit' } }} />
              <TextField
                label="Min"
                size="small"
                placeholder="optional"
                value={target.min}
                error={!rangeValid}
                onChange={(e) => setTarget({ ...target, min: e.target.value })}
                sx={{ flex: 1 }}
                slotProps={{ htmlInput: { 'data-testid': 'np-min', inputMode: 'decimal' } }}
              />
              <TextField
                label="Max"
                size="small"
                placeholder="optional"
                value={target.max}
                error={!rangeValid}
                onChange={(e) => setTarget({ ...target, max: e.target.value })}
                sx={{ flex: 1 }}
                slotProps={{ htmlInput: { 'data-testid': 'np-max', inputMode: 'decimal' } }}
              />
            </Stack>
          )}
          <Stack direction="row" spacing={4}>
            <FormControl>
              <FormLabel sx={{ mb: 0.5, fontSize: 13 }}>Model input size (px)</FormLabel>
              <ToggleButtonGroup size="small" exclusive value={size} onChange={(_e, v: Size | null) => v && setSize(v)}>
                {SIZES.map((s) => (
                  <ToggleButton key={s} value={s} data-testid={`np-size-${s}`}>
                    {s}
                  </ToggleButton>
                ))}
              </ToggleButtonGroup>
            </FormControl>
            <FormControl>
              <FormLabel sx={{ mb: 0.5, fontSize: 13 }}>Channels</FormLabel>
              <ToggleButtonGroup size="small" exclusive value={channels} onChange={(_e, v: 1 | 3 | null) => v && setChannels(v)}>
                <ToggleButton value={1} data-testid="np-channels-1">1 · grey</ToggleButton>
                <ToggleButton value={3} data-testid="np-channels-3">3 · RGB</ToggleButton>
              </ToggleButtonGroup>
            </FormControl>
          </Stack>
          <TextField
            label="Import images from (optional)"
            size="small"
            value={importDir}
            onChange={(e) => setImportDir(e.target.value)}
            helperText="A folder of PNG, JPEG, TIFF or DICOM files, searched recursively."
            slotProps={{
              htmlInput: { 'data-testid': 'np-import' },
              input: { endAdornment: <InputAdornment position="end"><Button size="small" onClick={() => setPicker('import')}>Browse</Button></InputAdornment> },
            }}
          />
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="contained" disabled={!canCreate} onClick={create} data-testid="np-create">
          Create project
        </Button>
      </DialogActions>
      <FolderPickerDialog
        open={picker !== null}
        title={picker === 'dir' ? 'Parent folder of the new project' : 'Folder of images to import'}
        start={picker === 'import' ? importDir || undefined : defaultDir || undefined}
        onClose={() => setPicker(null)}
        onPick={(picked) => {
          if (picker === 'dir') {
            setDir(joinPath(picked, slug(name || 'new-project')));
            setDirEdited(true);
          } else setImportDir(picked);
          setPicker(null);
        }}
      />
    </Dialog>
  );
}
