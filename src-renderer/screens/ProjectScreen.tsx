import { AppBar, Box, Button, Chip, Tab, Tabs, Toolbar, Tooltip, Typography } from '@mui/material';
import { useCallback, useState } from 'react';
import type { JobStateT, ProjectInfoT } from '../../src-main/service/contract.ts';
import { AnnotatorDialog } from '../components/AnnotatorDialog.tsx';
import { ExportDialog } from '../components/ExportDialog.tsx';
import { FolderPickerDialog } from '../components/FolderPickerDialog.tsx';
import { ImportDialog } from '../components/ImportDialog.tsx';
import { StatusCounts } from '../components/StatusCounts.tsx';
import { ProjectProvider, useProject } from '../hooks/useProject.tsx';
import { LabelScreen } from './LabelScreen.tsx';
import { ModelScreen } from './ModelScreen.tsx';
import { SimulateScreen } from './SimulateScreen.tsx';

type TabName = 'label' | 'model' | 'simulate';

interface Props {
  project: ProjectInfoT;
  annotator: string | null;
  initialImport: string | null;
  onSetAnnotator(name: string): Promise<void>;
  onClose(): void;
}

export function ProjectScreen(props: Props) {
  return (
    <ProjectProvider project={props.project} annotator={props.annotator}>
      <ProjectView {...props} />
    </ProjectProvider>
  );
}

function ProjectView({ project, annotator, initialImport, onSetAnnotator, onClose }: Props) {
  const { status, noteJobDone, activeJob } = useProject();
  const [tab, setTab] = useState<TabName>('label');
  const [importPaths, setImportPaths] = useState<string[] | null>(initialImport ? [initialImport] : null);
  const [picking, setPicking] = useState(false);
  const [exporting, setExporting] = useState(false);
  const [askName, setAskName] = useState(false);

  const onImported = useCallback((job: JobStateT) => noteJobDone(job), [noteJobDone]);
  const needName = annotator === null && importPaths === null && !picking;

  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', height: '100vh' }} data-testid="project-screen" data-project-id={project.projectId}>
      <AppBar position="static" elevation={0} sx={{ bgcolor: '#1d2a3a' }}>
        <Toolbar variant="dense" sx={{ gap: 2, minHeight: 56 }}>
          <Box sx={{ minWidth: 0, flexShrink: 1 }}>
            <Typography sx={{ fontWeight: 600, fontSize: 16, lineHeight: 1.2 }} noWrap data-testid="project-name">
              {project.name}
            </Typography>
            <Typography sx={{ fontSize: 11, opacity: 0.7 }} noWrap title={project.dir}>
              {project.dir}
            </Typography>
          </Box>
          <Box sx={{ flex: 1, minWidth: 0, display: 'flex', justifyContent: 'center' }}>
            <StatusCounts status={status} />
          </Box>
          {activeJob && (
            <Tooltip title={activeJob.message}>
              <Chip
                size="small"
                color="info"
                label={`${activeJob.kind === 'train' ? 'Training' : activeJob.kind === 'import' ? 'Importing' : activeJob.kind === 'simulate' ? 'Simulating' : 'Exporting'} ${Math.round(activeJob.fraction * 100)}%`}
                data-testid="active-job"
              />
            </Tooltip>
          )}
          <Tooltip title="Change the annotator name">
            <Chip
              label={annotator ? `Annotator: ${annotator}` : 'No annotator'}
              onClick={() => setAskName(true)}
              size="small"
              sx={{ color: 'inherit', borderColor: 'rgba(255,255,255,0.4)' }}
              variant="outlined"
              data-testid="annotator-chip"
            />
          </Tooltip>
          <Button color="inherit" size="small" onClick={() => setPicking(true)} data-testid="import-button">
            Import
          </Button>
          <Button color="inherit" size="small" onClick={() => setExporting(true)} data-testid="export-button">
            Export
          </Button>
          <Button color="inherit" size="small" onClick={onClose} data-testid="close-project">
            Close
          </Button>
        </Toolbar>
      </AppBar>
      <Box sx={{ borderBottom: 1, borderColor: 'divider', bgcolor: 'background.paper', px: 2 }}>
        <Tabs value={tab} onChange={(_e, v: TabName) => setTab(v)} sx={{ minHeight: 40, '& .MuiTab-root': { minHeight: 40, py: 0 } }}>
          <Tab value="label" label="Label" data-testid="tab-label" />
          <Tab value="model" label="Model" data-testid="tab-model" />
          <Tab value="simulate" label="Simulate" data-testid="tab-simulate" />
        </Tabs>
      </Box>
      <Box sx={{ flex: 1, minHeight: 0 }}>
        {tab === 'label' && <LabelScreen onNeedAnnotator={() => setAskName(true)} />}
        {tab === 'model' && <ModelScreen />}
        {tab === 'simulate' && <SimulateScreen />}
      </Box>

      <FolderPickerDialog
        open={picking}
        title="Import images from folder"
        onClose={() => setPicking(false)}
        onPick={(dir) => {
          setPicking(false);
          setImportPaths([dir]);
        }}
      />
      <ImportDialog projectId={project.projectId} paths={importPaths} onClose={() => setImportPaths(null)} onFinished={onImported} />
      <ExportDialog open={exporting} onClose={() => setExporting(false)} />
      <AnnotatorDialog
        open={needName || askName}
        required={annotator === null}
        initial={annotator ?? ''}
        onClose={() => setAskName(false)}
        onSave={(name) => {
          onSetAnnotator(name).then(() => setAskName(false), () => undefined);
        }}
      />
    </Box>
  );
}
