import { Box, Paper, Stack, Typography } from '@mui/material';
import { useCallback, useEffect, useState } from 'react';
import type { Response } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { CLASSIFICATION_METRICS, MetricCurveChart, REGRESSION_METRICS } from '../components/MetricCurveChart.tsx';
import { ReliabilityChart } from '../components/ReliabilityChart.tsx';
import { EvaluatePanel } from '../components/EvaluatePanel.tsx';
import { GpVersionFacts } from '../components/GpVersionFacts.tsx';
import { PriorCheckPanel } from '../components/PriorCheckPanel.tsx';
import { TrainPanel } from '../components/TrainPanel.tsx';
import { VersionsTable } from '../components/VersionsTable.tsx';
import { StoppingBanner } from '../components/StoppingBanner.tsx';
import { useNotify } from '../hooks/useNotify.tsx';
import { useProject } from '../hooks/useProject.tsx';

type Models = Response<'model.list'>;

export function ModelScreen() {
  const client = useClient();
  const { notifyError } = useNotify();
  const { project, dataRevision, status } = useProject();
  const [models, setModels] = useState<Models | null>(null);
  const [selected, setSelected] = useState<number | null>(null);

  const load = useCallback(() => {
    client['model.list']({ projectId: project.projectId }).then((m) => {
      setModels(m);
      setSelected((s) => (s !== null && m.versions.some((v) => v.id === s) ? s : (m.versions.at(-1)?.id ?? null)));
    }, notifyError);
  }, [client, project.projectId, notifyError]);
  useEffect(load, [load, dataRevision]);

  // The new version is selected once model.list is read again (dataRevision changes with the job).
  const onTrained = useCallback(() => setSelected(null), []);

  const version = models?.versions.find((v) => v.id === selected) ?? null;
  return (
    <Box sx={{ p: 2, height: '100%', overflow: 'auto', boxSizing: 'border-box' }} data-testid="model-screen">
      <Stack spacing={2} sx={{ maxWidth: 1280, mx: 'auto' }}>
        <StoppingBanner stopping={status?.stopping} />
        <TrainPanel onTrained={onTrained} />
        <Paper variant="outlined">
          <Stack direction="row" spacing={1} sx={{ px: 2, pt: 1.5, alignItems: 'center' }}>
            <Typography variant="subtitle2">Model versions</Typography>
            <StoppingBanner stopping={status?.stopping} variant="chip" />
          </Stack>
          <VersionsTable versions={models?.versions ?? []} selected={selected} onSelect={setSelected} />
        </Paper>
        <Stack direction={{ xs: 'column', md: 'row' }} spacing={2}>
          <Paper variant="outlined" sx={{ p: 2, flex: 1, minWidth: 0 }}>
            {project.task === 'regression' ? (
              <MetricCurveChart points={models?.regressionCurve ?? []} metrics={REGRESSION_METRICS} emptyText="Versions trained on 10 or more values add a point (a fifth is held out to measure them)." />
            ) : (
              <MetricCurveChart points={models?.learningCurve ?? []} metrics={CLASSIFICATION_METRICS} emptyText="Train models as you label: each version adds a point." />
            )}
          </Paper>
          <Paper variant="outlined" sx={{ p: 2, flex: 1, minWidth: 0 }}>
            {project.task === 'regression' ? <GpVersionFacts version={version} /> : <ReliabilityChart version={version} />}
          </Paper>
        </Stack>
        {project.task === 'classification' && (models?.versions.length ?? 0) > 0 && (
          <Paper variant="outlined" sx={{ p: 2 }}>
            <EvaluatePanel />
          </Paper>
        )}
        <Paper variant="outlined" sx={{ p: 2 }}>
          <PriorCheckPanel />
        </Paper>
      </Stack>
    </Box>
  );
}
