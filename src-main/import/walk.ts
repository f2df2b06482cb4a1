import fs from 'node:fs';
import path from 'node:path';

/** Extensions picked up when walking a folder; files named explicitly are always tried. */
export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp', '.gif', '.avif', '.dcm', '.dicom', '.dic']);

export interface WalkResult {
  files: string[];
  unreadable: { path: string; message: string }[];
}

function hasDicomMagic(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const magic = Buffer.alloc(4);
    return fs.readSync(fd, magic, 0, 4, 128) === 4 && magic.toString('latin1') === 'DICM';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Expands files and folders (recursively, hidden entries and `skipDirs` skipped) into
 * absolute file paths, sorted so that imports are reproducible. Extension-less files are kept when
 * they carry the DICOM magic, as PACS exports often do.
 */
export function collectImageFiles(inputs: string[], skipDirs: string[] = []): WalkResult {
  const skipped = new Set(skipDirs.map((d) => path.resolve(d)));
  const files = new Set<string>();
  const unreadable: WalkResult['unreadable'] = [];
  const visit = (entry: string, explicit: boolean) => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(entry);
    } catch (error) {
      unreadable.push({ path: entry, message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : String(error) });
      return;
    }
    if (stat.isDirectory()) {
      if (skipped.has(path.resolve(entry))) return;
      let names: string[];
      try {
        names = fs.readdirSync(entry).sort();
      } catch (error) {
        unreadable.push({ path: entry, message: `cannot list folder: ${(error as Error).message}` });
        return;
      }
      for (const name of names) if (!name.startsWith('.')) visit(path.join(entry, name), false);
    } else if (stat.isFile()) {
      const ext = path.extname(entry).toLowerCase();
      if (explicit || IMAGE_EXTENSIONS.has(ext) || (ext === '' && hasDicomMagic(entry))) files.add(path.resolve(entry));
    }
  };
  for (const input of inputs) visit(input, true);
  return { files: [...files].sort(), unreadable };
}
