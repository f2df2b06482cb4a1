import { Box, Chip, Typography } from '@mui/material';
import { List, type RowComponentProps } from 'react-window';
import type { QueueItemT } from '../../src-main/service/contract.ts';

const ROW_HEIGHT = 60;

interface RowProps {
  items: QueueItemT[];
  /** Without a model the service lists the pool in a stable random order: no score worth showing. */
  ranked: boolean;
  currentId: number | null;
  onPick(item: QueueItemT): void;
}

/** The ranked pool as a virtualised list of thumbnails with their acquisition scores. */
export function QueueList({ items, ranked, currentId, onPick, onNearEnd }: RowProps & { onNearEnd(): void }) {
  return (
    <Box sx={{ flex: 1, minHeight: 0 }} data-testid="queue-list" data-count={items.length}>
      <List
        rowComponent={QueueRow}
        rowCount={items.length}
        rowHeight={ROW_HEIGHT}
        rowProps={{ items, ranked, currentId, onPick }}
        overscanCount={6}
        onRowsRendered={(visible) => {
          if (visible.stopIndex >= items.length - 15) onNearEnd();
        }}
        style={{ height: '100%' }}
      />
    </Box>
  );
}

function QueueRow({ index, style, items, ranked, currentId, onPick, ariaAttributes }: RowComponentProps<RowProps>) {
  const item = items[index];
  const current = item.imageId === currentId;
  return (
    <Box
      {...ariaAttributes}
      style={style}
      onClick={() => onPick(item)}
      data-testid="queue-row"
      data-image-id={item.imageId}
      data-score={item.score ?? ''}
      data-current={current ? 'true' : 'false'}
      sx={{
        display: 'flex',
        alignItems: 'center',
        gap: 1.25,
        px: 1,
        cursor: 'pointer',
        borderBottom: 1,
        borderColor: 'divider',
        bgcolor: current ? 'rgba(21, 101, 192, 0.10)' : 'transparent',
        borderLeft: 3,
        borderLeftColor: current ? 'primary.main' : 'transparent',
        '&:hover': { bgcolor: current ? 'rgba(21, 101, 192, 0.14)' : 'action.hover' },
      }}
    >
      <Typography variant="caption" color="text.secondary" sx={{ width: 26, textAlign: 'right', fontVariantNumeric: 'tabular-nums', flexShrink: 0 }}>
        {index + 1}
      </Typography>
      <Thumbnail src={item.previewAsset} />
      <Box sx={{ minWidth: 0, flex: 1 }}>
        <Typography variant="body2" noWrap title={item.name} sx={{ fontSize: 13 }}>
          {item.name}
        </Typography>
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 0.75 }}>
          <Typography variant="caption" color="text.secondary" sx={{ fontVariantNumeric: 'tabular-nums' }} data-testid="queue-score">
            {!ranked ? 'not ranked yet' : item.score === null ? 'not scored (new)' : `score ${item.score.toFixed(3)}`}
          </Typography>
          {item.skipped && <Chip label="skipped" size="small" sx={{ height: 16, fontSize: 10 }} />}
          {item.kind === 'dicom' && <Chip label="DICOM" size="small" sx={{ height: 16, fontSize: 10 }} />}
        </Box>
      </Box>
    </Box>
  );
}

function Thumbnail({ src }: { src: string }) {
  return (
    <Box sx={{ width: 44, height: 44, flexShrink: 0, bgcolor: '#0b0d10', borderRadius: 0.5, overflow: 'hidden', display: 'grid', placeItems: 'center' }}>
      {<img src={src} alt="" loading="lazy" draggable={false} style={{ maxWidth: '100%', maxHeight: '100%', imageRendering: 'auto' }} />}
    </Box>
  );
}
