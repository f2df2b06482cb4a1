// The long durability run (npm run soak): 100 kill -9 trials while labelling, then the totals.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killTrial, makeKillProject } from '../test/reliability/killTrials.ts';

const trials = Number(process.argv[2] ?? 100);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'episteme-soak-'));
const projectDir = path.join(root, 'p');
makeKillProject(projectDir);
const totals = { trials: 0, acknowledged: 0, lost: 0, mismatched: 0, integrityFailures: 0 };
try {
  for (let trial = 0; trial < trials; trial++) {
    const outcome = await killTrial(projectDir, path.join(root, 'home'), 50 + Math.floor(Math.random() * 950));
    totals.trials++;
    totals.acknowledged += outcome.acknowledged;
    totals.lost += outcome.lost;
    totals.mismatched += outcome.mismatched;
    if (outcome.integrity !== 'ok') totals.integrityFailures++;
    process.stderr.write(`\rtrial ${trial + 1}/${trials}: ${totals.acknowledged} acknowledged, ${totals.lost} lost`);
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
process.stderr.write('\n');
console.log(JSON.stringify(totals));
process.exitCode = totals.lost || totals.mismatched || totals.integrityFailures ? 1 : 0;
