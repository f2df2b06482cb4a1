import { Box, Button, List, ListItemButton, ListItemIcon, ListItemText, Stack, TextField, Typography } from '@mui/material';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Response } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { errorMessage } from '../client/client.ts';
import { FolderIcon, ParentFolderIcon } from './icons.tsx';

type Listing = Response<'fs.listDir'>;

function join(dir: string, name: string): string {
  const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
  return dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`;
}

/** A small folder browser over fs.listDir: the current folder, its parent, its sub-folders, its image count. */
export function FolderBrowser({ start, onChange }: { start?: string; onChange(dir: string, listing: Listing): void }) {
  const client = useClient();
  const [listing, setListing] = useState<Listing | null>(null);
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  const go = useCallback(
    (dir?: string) => {
      client['fs.listDir'](dir ? { dir } : {}).then(
        (next) => {
          setListing(next);
          setTyped(next.dir);
          setError(null);
          onChangeRef.current(next.dir, next);
        },
        (e) => setError(errorMessage(e)),
      );
    },
    [client],
  );

  useEffect(() => go(start || undefined), [go, start]);

  return (
    <Stack spacing={1} sx={{ pt: 1 }} data-testid="folder-browser">
      <Stack direction="row" spacing={1}>
        <TextField
          size="small"
          fullWidth
          label="Folder"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              go(typed);
            }
          }}
          slotProps={{ htmlInput: { 'data-testid': 'folder-path' } }}
        />
        <Button variant="outlined" onClick={() => go(typed)}>
          Go
        </Button>
      </Stack>
      {error && (
        <Typography color="error" variant="body2">
          {error}
        </Typography>
      )}
      <Box sx={{ border: 1, borderColor: 'divider', borderRadius: 1, height: 260, overflow: 'auto' }}>
        <List dense disablePadding>
          {listing?.parent && (
            <ListItemButton onClick={() => go(listing.parent ?? undefined)} data-testid="folder-up">
              <ListItemIcon sx={{ minWidth: 34 }}>
                <ParentFolderIcon fontSize="small" color="action" />
              </ListItemIcon>
              <ListItemText primary=".." secondary={listing.parent} />
            </ListItemButton>
          )}
          {listing?.dirs.map((name) => (
            <ListItemButton key={name} onClick={() => go(join(listing.dir, name))} data-testid="folder-entry">
              <ListItemIcon sx={{ minWidth: 34 }}>
                <FolderIcon fontSize="small" sx={{ color: '#c9a227' }} />
              </ListItemIcon>
              <ListItemText primary={name} />
            </ListItemButton>
          ))}
          {listing && listing.dirs.length === 0 && (
            <Typography variant="body2" color="text.secondary" sx={{ p: 1.5 }}>
              No sub-folders.
            </Typography>
          )}
        </List>
      </Box>
      <Typography variant="body2" color="text.secondary" data-testid="folder-image-count">
        {listing ? `${listing.imageFiles} image file${listing.imageFiles === 1 ? '' : 's'} in this folder` : 'Loading…'}
      </Typography>
    </Stack>
  );
}
