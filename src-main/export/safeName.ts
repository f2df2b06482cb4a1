const RESERVED_DEVICE_NAMES = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * A single path component that is safe on Linux, macOS and Windows: no separators, no NUL or other
 * control characters, none of Windows' reserved characters or device names, no leading dots (so
 * never "." or ".."), and not too long.
 */
export function safeName(name: string, maxLength = 120): string {
  let safe = name
    .normalize('NFC')
    .replace(/[\p{Cc}/\\:*?"<>|]/gu, '_')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  if (RESERVED_DEVICE_NAMES.test(safe)) safe = `_${safe}`;
  if (safe.length > maxLength) {
    const dot = safe.lastIndexOf('.');
    const ext = dot > 0 && safe.length - dot <= 10 ? safe.slice(dot) : '';
    safe = safe.slice(0, maxLength - ext.length) + ext;
  }
  return safe || '_';
}
