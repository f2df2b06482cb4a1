import { Button, Dialog, DialogActions, DialogContent, DialogTitle } from '@mui/material';
import { useState } from 'react';
import { FolderBrowser } from './FolderBrowser.tsx';

export function FolderPickerDialog({
  open,
  title,
  start,
  onClose,
  onPick,
}: {
  open: boolean;
  title: string;
  start?: string;
  onClose(): void;
  onPick(dir: string): void;
}) {
  const [dir, setDir] = useState('');
  return (
    <Dialog open={open} onClose={onClose} fullWidth maxWidth="sm" data-testid="folder-picker">
      <DialogTitle>{title}</DialogTitle>
      <DialogContent>{open && <FolderBrowser start={start} onChange={(d) => setDir(d)} />}</DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="contained" disabled={!dir} onClick={() => onPick(dir)} data-testid="folder-pick">
          Choose this folder
        </Button>
      </DialogActions>
    </Dialog>
  );
}
