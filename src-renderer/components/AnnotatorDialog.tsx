import { Button, Dialog, DialogActions, DialogContent, DialogContentText, DialogTitle, TextField } from '@mui/material';
import { useEffect, useState } from 'react';

/** Asks the annotator's name (stored in settings, sent with every label). Cannot be dismissed while required. */
export function AnnotatorDialog({ open, initial, required, onSave, onClose }: {
  open: boolean;
  initial: string;
  required: boolean;
  onSave(name: string): void;
  onClose(): void;
}) {
  const [name, setName] = useState(initial);
  useEffect(() => {
    if (open) setName(initial);
  }, [open, initial]);
  const valid = name.trim().length > 0 && name.trim().length <= 100;
  return (
    <Dialog open={open} onClose={required ? undefined : onClose} maxWidth="xs" fullWidth data-testid="annotator-dialog">
      <DialogTitle>Who is labelling?</DialogTitle>
      <DialogContent>
        <DialogContentText sx={{ mb: 2 }}>Your name is recorded with every label you give, for the audit trail.</DialogContentText>
        <TextField
          autoFocus
          fullWidth
          label="Annotator name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && valid) onSave(name.trim());
          }}
          slotProps={{ htmlInput: { 'data-testid': 'annotator-name', maxLength: 100 } }}
        />
      </DialogContent>
      <DialogActions>
        {!required && <Button onClick={onClose}>Cancel</Button>}
        <Button variant="contained" disabled={!valid} onClick={() => onSave(name.trim())} data-testid="annotator-save">
          Save
        </Button>
      </DialogActions>
    </Dialog>
  );
}
