import { SvgIcon, type SvgIconProps } from '@mui/material';

// Material Design icon paths (Apache 2.0), inlined: @mui/icons-material is not a dependency.
export function FolderIcon(props: SvgIconProps) {
  return (
    <SvgIcon {...props}>
      <path d="M10 4H4c-1.1 0-1.99.9-1.99 2L2 18c0 1.1.9 2 2 2h16c1.1 0 2-.9 2-2V8c0-1.1-.9-2-2-2h-8z" />
    </SvgIcon>
  );
}

export function ParentFolderIcon(props: SvgIconProps) {
  return (
    <SvgIcon {...props}>
      <path d="M20 6h-8l-2-2H4c-1.1 0-1.99.9-1.99 2L2 18c0 1.1.9 2 2 2h16c1.1 0 2-.9 2-2V8c0-1.1-.9-2-2-2m-8 3 4 4h-3v4h-2v-4H8z" />
    </SvgIcon>
  );
}
