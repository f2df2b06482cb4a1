import { Button, Dialog, DialogActions, DialogContent, DialogTitle, Stack } from '@mui/material';
import { useState } from 'react';
import type { ProjectInfoT } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { useNotify } from '../hooks/useNotify.tsx';
import { FolderBrowser } from './FolderBrowser.tsx';

/** Open an existing project: a path, chosen by typing or with the folder browser. */
export function OpenProjectDialog({ open, start, onClose, onOpened }: {
  open: boolean;
  start?: string;
  onClose(): void;
  onOpened(project: ProjectInfoT): void;
}) {
  const client = useClient();
  const { notifyError } = useNotify();
  const [dir, setDir] = useState('');
  const [busy, setBusy] = useState(false);
  const openIt = async () => {
    setBusy(true);
    try {
      onOpened(await client['project.open']({ dir }));
    } catch (error) {
      notifyError(error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onClose={onClose} fullWidth maxWidth="sm" data-testid="open-project-dialog">
      <DialogTitle>Open project</DialogTitle>
      <DialogContent>
        <Stack spacing={1} sx={{ pt: 1 }}>
          {open && <FolderBrowser start={start} onChange={(d) => setDir(d)} />}
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="contained" disabled={!dir || busy} onClick={openIt} data-testid="open-project-submit">
          Open this folder
        </Button>
      </DialogActions>
    </Dialog>
  );
}
