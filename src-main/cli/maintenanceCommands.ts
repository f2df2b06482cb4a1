import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { findImageByPath } from '../db/images.ts';
import { openProject } from '../db/project.ts';
import { cachePath } from '../import/cache.ts';
import { backupProject, restoreProject } from '../maintenance/backup.ts';
import { checkProject } from '../maintenance/check.ts';
import { printResult } from './output.ts';

export function registerMaintenanceCommands(program: Command): void {
  program
    .command('backup <dir> [file]')
    .description('online backup of the project database (default: <dir>/backups/)')
    .option('--json', 'print JSON')
    .action(async (dir: string, file: string | undefined, opts: { json?: boolean }) => {
      const project = openProject(dir);
      try {
        const target = await backupProject(project, file);
        printResult(!!opts.json, { backup: target }, () => `backed up to ${target}`);
      } finally {
        project.close();
      }
    });

  program
    .command('restore <dir> <file>')
    .description('replace the project database with a backup (the current one is backed up first)')
    .option('--json', 'print JSON')
    .action(async (dir: string, file: string, opts: { json?: boolean }) => {
      if (!fs.existsSync(file)) throw new Error(`no backup file ${file}`);
      const result = await restoreProject(dir, path.resolve(file), () => openProject(dir));
      openProject(dir).close();
      printResult(!!opts.json, { restored: path.resolve(file), ...result }, () => `restored ${file}; the database it replaced is in ${result.safetyCopy}`);
    });

  program
    .command('check <dir>')
    .description('integrity_check of the database, cached images verified against their hashes')
    .option('--repair', 'rebuild damaged or missing cache entries from the source files')
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { repair?: boolean; json?: boolean }) => {
      const project = openProject(dir);
      try {
        let report = checkProject(project);
        if (opts.repair && (report.damagedCache.length || report.missingCache.length)) {
          const broken = [...report.damagedCache, ...report.missingCache].filter((p) => fs.existsSync(p));
          for (const file of broken) fs.rmSync(cachePath(project, findImageByPath(project.db, file)!.sha256, 'input'), { force: true });
          const { importPaths } = await import('../import/importer.ts');
          await importPaths(project, broken);
          report = checkProject(project);
        }
        printResult(!!opts.json, report, () =>
          [
            `database: ${report.integrity.length ? `DAMAGED: ${report.integrity.slice(0, 5).join('; ')}` : 'ok'}`,
            `images: ${report.images}; cache missing ${report.missingCache.length}, damaged ${report.damagedCache.length}; source files missing ${report.missingSources.length}`,
            ...report.damagedCache.map((p) => `  damaged cache: ${p}`),
            ...report.missingCache.map((p) => `  missing cache: ${p}`),
            ...report.missingSources.slice(0, 20).map((p) => `  source missing (moved?): ${p}`),
            report.ok ? 'ok' : 'problems found' + (opts.repair ? '' : ' (try --repair)'),
          ].join('\n'),
        );
        if (!report.ok) process.exitCode = 1;
      } finally {
        project.close();
      }
    });
}
