// Builds what the app serves: the renderer bundle, and the Electron main and preload bundles.
import { buildElectron } from './build-electron.mjs';
import { buildRenderer } from './build-renderer.mjs';

await buildRenderer();
await buildElectron();
