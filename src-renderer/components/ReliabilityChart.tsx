import { Box, Typography } from '@mui/material';
import { LineChart } from '@mui/x-charts/LineChart';
import type { ModelVersionInfoT } from '../../src-main/service/contract.ts';

/**
 * Reliability diagram of one model version on its held-out labels: accuracy within each confidence
 * bin against the bin's mean confidence; the dashed diagonal is perfect calibration.
 */
export function ReliabilityChart({ version }: { version: ModelVersionInfoT | null }) {
  const bins = (version?.metrics?.reliability ?? []).filter((b) => b.count > 0).sort((a, b) => a.confidence - b.confidence);
  const xs = [0, ...bins.map((b) => b.confidence), 1];
  const observed: (number | null)[] = [null, ...bins.map((b) => b.accuracy), null];
  return (
    <Box data-testid="reliability-diagram" data-bins={bins.length}>
      <Typography variant="subtitle2" sx={{ mb: 1 }}>
        Reliability {version ? `of v${version.id}` : ''}
        {version?.metrics ? (
          <Typography component="span" variant="caption" color="text.secondary" sx={{ ml: 1 }}>
            ECE {version.metrics.ece.toFixed(3)} · {version.metrics.heldOut} held-out images
          </Typography>
        ) : null}
      </Typography>
      {bins.length === 0 ? (
        <Typography variant="body2" color="text.secondary" sx={{ height: 260, display: 'grid', placeItems: 'center' }}>
          {version ? 'This version has no held-out metrics.' : 'Select a model version.'}
        </Typography>
      ) : (
        <LineChart
          height={260}
          skipAnimation
          grid={{ horizontal: true, vertical: true }}
          xAxis={[{ data: xs, scaleType: 'linear', min: 0, max: 1, label: 'confidence', valueFormatter: (v: number) => v.toFixed(2) }]}
          yAxis={[{ min: 0, max: 1, label: 'accuracy' }]}
          series={[
            { id: 'ideal', data: xs, label: 'perfectly calibrated', color: '#9aa5b1', showMark: false, curve: 'linear', valueFormatter: () => '' },
            {
              id: 'observed',
              data: observed,
              label: 'model',
              color: '#d9822b',
              showMark: true,
              curve: 'linear',
              valueFormatter: (v: number | null, ctx) => {
                const bin = bins[ctx.dataIndex - 1];
                return v === null || !bin ? '' : `${v.toFixed(3)} (${bin.count} images, bin ${bin.binLower.toFixed(1)}–${bin.binUpper.toFixed(1)})`;
              },
            },
          ]}
          sx={{ '& [data-series="ideal"]': { strokeDasharray: '5 4' } }}
          margin={{ left: 10, right: 20, top: 10, bottom: 10 }}
        />
      )}
    </Box>
  );
}
