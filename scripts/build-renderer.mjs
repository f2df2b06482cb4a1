#!/usr/bin/env node
/**
 * Bundles the renderer: src-renderer/main.tsx → dist/renderer/app.js (ESM, minified, with a source map)
 * and copies src-renderer/index.html (which carries the CSP meta tag) beside it. Nothing in the bundle
 * reaches outside the page's own origin; there are no web fonts, no CDN and no inline scripts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** @param {{ outDir?: string, minify?: boolean, quiet?: boolean }} [options] */
export async function buildRenderer(options = {}) {
  const outDir = options.outDir ?? path.join(root, 'dist', 'renderer');
  const started = Date.now();
  await fs.mkdir(outDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'src-renderer', 'main.tsx')],
    outfile: path.join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome120'],
    minify: options.minify ?? true,
    sourcemap: true,
    jsx: 'automatic',
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
    metafile: true,
  });
  const html = await fs.readFile(path.join(root, 'src-renderer', 'index.html'), 'utf8');
  if (!html.includes('Content-Security-Policy')) throw new Error('src-renderer/index.html lost its CSP meta tag');
  await fs.writeFile(path.join(outDir, 'index.html'), html);
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  if (!options.quiet) console.log(`renderer built into ${path.relative(root, outDir) || outDir} (${(bytes / 1024 / 1024).toFixed(1)} MB incl. map) in ${Date.now() - started} ms`);
  return { outDir, errors: result.errors, warnings: result.warnings };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildRenderer().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
