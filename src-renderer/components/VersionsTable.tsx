import { Table, TableBody, TableCell, TableContainer, TableHead, TableRow, Typography } from '@mui/material';
import type { ModelVersionInfoT } from '../../src-main/service/contract.ts';

const num = (v: number | undefined, digits = 3) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

/** Every model version with its held-out metrics; a row click selects it for the reliability diagram. */
export function VersionsTable({ versions, selected, onSelect }: { versions: ModelVersionInfoT[]; selected: number | null; onSelect(id: number): void }) {
  if (versions.length === 0) {
    return (
      <Typography variant="body2" color="text.secondary" sx={{ p: 2 }}>
        No model trained yet.
      </Typography>
    );
  }
  return (
    <TableContainer sx={{ maxHeight: 320 }}>
      <Table size="small" stickyHeader data-testid="versions-table">
        <TableHead>
          <TableRow>
            <TableCell>Version</TableCell>
            <TableCell>Trained</TableCell>
            <TableCell>Method</TableCell>
            <TableCell>Backend</TableCell>
            <TableCell align="right"># labels</TableCell>
            <TableCell align="right">Accuracy</TableCell>
            <TableCell align="right">NLL</TableCell>
            <TableCell align="right">ECE</TableCell>
            <TableCell align="right">Brier</TableCell>
            <TableCell align="right">Held out</TableCell>
            <TableCell align="right">Seconds</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {[...versions].reverse().map((v) => (
            <TableRow key={v.id} hover selected={v.id === selected} onClick={() => onSelect(v.id)} sx={{ cursor: 'pointer' }} data-testid="version-row" data-version-id={v.id}>
              <TableCell>v{v.id}</TableCell>
              <TableCell sx={{ whiteSpace: 'nowrap' }}>{new Date(v.createdAt).toLocaleString()}</TableCell>
              <TableCell>{v.method}{typeof v.hyper.architecture === 'string' ? ` · ${v.hyper.architecture}` : ''}</TableCell>
              <TableCell>{v.backend}</TableCell>
              <TableCell align="right">{v.nLabels}</TableCell>
              <TableCell align="right">{v.metrics ? `${(v.metrics.accuracy * 100).toFixed(1)}%` : '—'}</TableCell>
              <TableCell align="right">{num(v.metrics?.nll)}</TableCell>
              <TableCell align="right">{num(v.metrics?.ece)}</TableCell>
              <TableCell align="right">{num(v.metrics?.brier)}</TableCell>
              <TableCell align="right">{v.metrics ? v.metrics.heldOut : '—'}</TableCell>
              <TableCell align="right">{num(v.trainSeconds, 1)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
