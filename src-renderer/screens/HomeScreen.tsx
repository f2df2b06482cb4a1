import {
  Box,
  Card,
  CardActionArea,
  CardContent,
  Container,
  LinearProgress,
  List,
  ListItemButton,
  ListItemText,
  Paper,
  Stack,
  Typography,
} from '@mui/material';
import { useState } from 'react';
import type { ProjectInfoT, Response } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { NewProjectDialog } from '../components/NewProjectDialog.tsx';
import { OpenProjectDialog } from '../components/OpenProjectDialog.tsx';
import { useNotify } from '../hooks/useNotify.tsx';

type Settings = Response<'settings.get'>;
type AppInfo = Response<'app.info'>;

export function HomeScreen({ info, settings, onOpened }: {
  info: AppInfo | null;
  settings: Settings | null;
  onOpened(project: ProjectInfoT, importDir?: string | null): void;
}) {
  const client = useClient();
  const { notifyError } = useNotify();
  const [dialog, setDialog] = useState<null | 'new' | 'open'>(null);
  const [busy, setBusy] = useState(false);

  const openDir = (dir: string) => {
    setBusy(true);
    client['project.open']({ dir })
      .then((p) => onOpened(p), notifyError)
      .finally(() => setBusy(false));
  };
  const openDemo = () => {
    setBusy(true);
    client['project.openDemo']({})
      .then((p) => onOpened(p), notifyError)
      .finally(() => setBusy(false));
  };

  const recent = settings?.recentProjects ?? [];
  return (
    <Container maxWidth="md" sx={{ py: 6 }} data-testid="home-screen">
      <Typography variant="h4" sx={{ fontWeight: 600 }}>
        Episteme
      </Typography>
      <Typography color="text.secondary" sx={{ mb: 4 }}>
        Label medical images where the model is least sure. Everything stays on this computer.
      </Typography>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2} sx={{ mb: 4 }}>
        <ActionCard title="New project" text="Choose classes and import a folder of images." onClick={() => setDialog('new')} testId="home-new" />
        <ActionCard title="Open project" text="Continue labelling an existing project folder." onClick={() => setDialog('open')} testId="home-open" />
        <ActionCard title="Open demo project" text="A small ready-made project to try things out." onClick={openDemo} testId="home-demo" disabled={busy} />
      </Stack>
      {busy && <LinearProgress sx={{ mb: 2 }} data-testid="home-busy" />}
      <Paper variant="outlined">
        <Typography variant="subtitle2" sx={{ px: 2, pt: 1.5, pb: 0.5 }} color="text.secondary">
          RECENT PROJECTS
        </Typography>
        {recent.length === 0 ? (
          <Typography variant="body2" color="text.secondary" sx={{ px: 2, pb: 2 }}>
            None yet.
          </Typography>
        ) : (
          <List dense data-testid="recent-projects">
            {recent.map((r) => (
              <ListItemButton key={r.dir} onClick={() => openDir(r.dir)} disabled={busy} data-testid="recent-project">
                <ListItemText primary={r.name} secondary={`${r.dir} · opened ${new Date(r.openedAt).toLocaleString()}`} />
              </ListItemButton>
            ))}
          </List>
        )}
      </Paper>
      <Box sx={{ mt: 3 }}>
        <Typography variant="caption" color="text.secondary">
          {info ? `Episteme ${info.version} · ${info.mode} mode` : ''}
        </Typography>
      </Box>
      <NewProjectDialog
        open={dialog === 'new'}
        defaultDir={info?.defaultProjectsDir ?? ''}
        onClose={() => setDialog(null)}
        onCreated={(project, importDir) => {
          setDialog(null);
          onOpened(project, importDir);
        }}
      />
      <OpenProjectDialog
        open={dialog === 'open'}
        start={info?.defaultProjectsDir || undefined}
        onClose={() => setDialog(null)}
        onOpened={(project) => {
          setDialog(null);
          onOpened(project);
        }}
      />
    </Container>
  );
}

function ActionCard({ title, text, onClick, testId, disabled }: { title: string; text: string; onClick(): void; testId: string; disabled?: boolean }) {
  return (
    <Card variant="outlined" sx={{ flex: 1 }}>
      <CardActionArea onClick={onClick} disabled={disabled} data-testid={testId} sx={{ height: '100%' }}>
        <CardContent>
          <Typography variant="h6" sx={{ fontSize: 17, mb: 0.5 }}>
            {title}
          </Typography>
          <Typography variant="body2" color="text.secondary">
            {text}
          </Typography>
        </CardContent>
      </CardActionArea>
    </Card>
  );
}

