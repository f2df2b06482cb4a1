import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { readMnist } from '../../src-main/bdl/data/mnist.ts';
import { formatCsv } from '../../src-main/util/csv.ts';

/** Writes MNIST digits [start, end) as PNG files plus a labels.csv (`path,label`) beside them. */
export async function writeMnistPngs(mnistDir: string, outDir: string, start: number, end: number): Promise<{ files: string[]; csv: string }> {
  const set = readMnist(mnistDir);
  const per = set.imageSize * set.imageSize;
  fs.mkdirSync(outDir, { recursive: true });
  const rows: string[][] = [];
  const files: string[] = [];
  for (let i = start; i < end; i++) {
    const name = `digit-${String(i).padStart(5, '0')}.png`;
    await sharp(Buffer.from(set.images.subarray(i * per, (i + 1) * per)), { raw: { width: set.imageSize, height: set.imageSize, channels: 1 } })
      .png()
      .toFile(path.join(outDir, name));
    rows.push([name, String(set.labels[i])]);
    files.push(path.join(outDir, name));
  }
  const csv = path.join(outDir, 'labels.csv');
  fs.writeFileSync(csv, formatCsv([['path', 'label'], ...rows]));
  return { files, csv };
}
