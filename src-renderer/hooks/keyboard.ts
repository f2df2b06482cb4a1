/** True when a key press belongs to a text field, a dialog or an open menu rather than to the labelling shortcuts. */
export function isForeignKeyTarget(event: KeyboardEvent): boolean {
  const target = event.target;
  if (!(target instanceof Element)) return false;
  if (target.closest('input, textarea, select, [contenteditable="true"], [role="dialog"], [role="listbox"], [role="menu"]')) return true;
  return document.querySelector('.MuiDialog-root, .MuiPopover-root, .MuiMenu-root') !== null;
}
