// Builds what the app and the command line run: the renderer bundle, the Electron main and preload
// bundles, and the CLI bundle (dist/cli, what bin/episteme runs). Also run by `npm install` (postinstall).
import { buildCli } from './build-cli.mjs';
import { buildElectron } from './build-electron.mjs';
import { buildRenderer } from './build-renderer.mjs';

await buildRenderer();
await Promise.all([buildElectron(), buildCli()]);
