// Child of badInput.test.ts: ONE importPaths call over the corpus folder, one line per file done, so the
// parent can tell which file was in flight if this process dies or stops making progress.
import fs from 'node:fs';
import { openProject } from '../../src-main/db/project.ts';
import { importPaths } from '../../src-main/import/importer.ts';

const [projectDir, inputDir, logFile] = process.argv.slice(2);
const project = openProject(projectDir);
const rssStart = process.memoryUsage().rss;
let last = performance.now();
const summary = await importPaths(project, [inputDir], {
  concurrency: 1, // one file at a time, so the time between two progress calls is that file's
  onProgress: (p) => {
    const now = performance.now();
    fs.appendFileSync(logFile, `${JSON.stringify({ file: p.current, ms: now - last, rss: process.memoryUsage().rss })}\n`);
    last = now;
  },
});
project.close();
fs.appendFileSync(logFile, `${JSON.stringify({ summary, rssStart, maxRss: process.resourceUsage().maxRSS * 1024 })}\n`);
