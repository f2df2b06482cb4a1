import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { parseIntOption } from './main.ts';

export const RENDERER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/renderer');

export function registerAppCommands(program: Command): void {
  program
    .command('serve [dir]')
    .description('browser mode: serve the app on 127.0.0.1 (optionally opening one project) and print its URL')
    .option('--port <n>', 'port (default: a free one)', parseIntOption(0, 65535), 0)
    .action(async (dir: string | undefined, opts: { port: number }) => {
      const [{ createApp }, { startServer }] = await Promise.all([import('../service/app.ts'), import('../server/http.ts')]);
      const app = createApp({ mode: 'browser' });
      const opened = dir ? app.openProjectDir(dir) : null;
      const server = await startServer(app, { port: opts.port, rendererDir: RENDERER_DIR });
      const url = opened ? `${server.url}#/project/${opened.projectId}` : server.url;
      process.stdout.write(`Episteme is running at ${url}\n`);
      if (!fs.existsSync(path.join(RENDERER_DIR, 'index.html'))) {
        process.stderr.write(`episteme: the app is not built (${RENDERER_DIR} is missing), so the page only says so: run \`npm run build\`\n`);
      }
      const stop = async () => {
        await server.close();
        await app.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
