/** Shared helpers for the simulator tests (not a test file itself). */
import fs from 'node:fs';
import path from 'node:path';
import { formatCsv } from '../../src-main/util/csv.ts';
import { writeTwoClassPngs } from '../helpers/images.ts';

/** 120 generated 28×28 PNGs of two classes ("bars", "rings") and their labels.csv (paths relative to the CSV). */
export async function writeSyntheticFolder(dir: string): Promise<string> {
  const images = await writeTwoClassPngs(dir, 60, 5, 28);
  fs.writeFileSync(path.join(dir, 'labels.csv'), formatCsv([['path', 'label'], ...images.map((i) => [path.basename(i.file), i.label])]));
  return dir;
}
