import { Paper, Table, TableBody, TableCell, TableRow, Typography } from '@mui/material';
import type { AcquisitionNameT, QueueItemT } from '../../src-main/service/contract.ts';
import type { LoadedImage } from '../client/imageCache.ts';

/** A few facts about the current image: file, size, DICOM window and modality, acquisition score. */
export function ImageFacts({ image, item, acquisition }: { image: LoadedImage; item: QueueItemT; acquisition: AcquisitionNameT }) {
  const d = image.detail;
  const rows: [string, string][] = [
    ['File', d.path],
    ['Size', `${d.width} × ${d.height}`],
    ['Type', d.kind === 'dicom' ? `DICOM${d.dicom?.modality ? ` · ${d.dicom.modality}` : ''}` : 'raster'],
    [`Score (${acquisition})`, item.score === null ? '—' : item.score.toFixed(4)],
  ];
  if (d.dicom) rows.push(['File window', `W ${Math.round(d.dicom.windowWidth)} · L ${Math.round(d.dicom.windowCenter)}`]);
  if (d.dicom?.note) rows.push(['Note', d.dicom.note]);
  if (d.currentLabel) rows.push(['Current label', `${d.currentLabel.kind} by ${d.currentLabel.annotator}`]);
  return (
    <Paper variant="outlined" sx={{ p: 1.5 }} data-testid="image-facts">
      <Typography variant="overline" color="text.secondary">
        Image
      </Typography>
      <Table size="small">
        <TableBody>
          {rows.map(([k, v]) => (
            <TableRow key={k} sx={{ '& td': { border: 0, py: 0.25, px: 0.5, verticalAlign: 'top' } }}>
              <TableCell sx={{ color: 'text.secondary', whiteSpace: 'nowrap', fontSize: 12 }}>{k}</TableCell>
              <TableCell sx={{ wordBreak: 'break-all', fontSize: 12 }}>{v}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Paper>
  );
}
