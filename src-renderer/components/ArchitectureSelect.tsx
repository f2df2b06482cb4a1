import { FormControl, InputLabel, ListItemText, MenuItem, Select } from '@mui/material';
import { ARCHITECTURES, type Architecture, type ArchitectureSpec } from '../../src-main/bdl/architectures.ts';
import { ArchitectureName } from '../../src-main/service/contract.ts';
import { useClient } from '../client/ClientContext.tsx';
import { useNotify } from '../hooks/useNotify.tsx';
import { useProject } from '../hooks/useProject.tsx';

/**
 * The project's network, changed for the versions trained from now on (trained versions keep theirs).
 * An architecture that does not fit the project's image size is shown disabled, with the reason.
 */
export function ArchitectureSelect({ disabled }: { disabled: boolean }) {
  const client = useClient();
  const { notify, notifyError } = useNotify();
  const { project, status, refreshStatus } = useProject();
  const current = status?.project.architecture ?? project.architecture;
  const change = (architecture: Architecture) =>
    client['project.setArchitecture']({ projectId: project.projectId, architecture }).then(() => {
      refreshStatus();
      notify(`Later versions train the ${architecture} network`, 'success');
    }, notifyError);
  return (
    <FormControl size="small" sx={{ minWidth: 150 }} disabled={disabled}>
      <InputLabel id="architecture-label">Network</InputLabel>
      <Select
        labelId="architecture-label"
        label="Network"
        value={current}
        onChange={(e) => void change(e.target.value as Architecture)}
        renderValue={(a) => a}
        data-testid="train-architecture"
      >
        {ArchitectureName.options.map((a) => {
          const spec: ArchitectureSpec = ARCHITECTURES[a];
          const fits = spec.imageSizes.includes(project.imageSize);
          return (
            <MenuItem key={a} value={a} disabled={!fits}>
              <ListItemText primary={a} secondary={fits ? spec.description : `not at ${project.imageSize} px: ${spec.refusal}`} />
            </MenuItem>
          );
        })}
      </Select>
    </FormControl>
  );
}
