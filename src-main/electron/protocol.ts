/**
 * The `episteme://` scheme: the renderer is served from it (never from file://), and so are the images
 * it shows. `episteme://app/<file>` reads the bundled renderer (dist/renderer); `episteme://app/asset/…`
 * goes to `EpistemeApp.readAsset`. Every response carries the Content-Security-Policy.
 *
 * Only `import type` from 'electron': main.ts passes the real `protocol` in, the tests pass fakes.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CustomScheme, Protocol } from 'electron';

export const SCHEME = 'episteme';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${SCHEME}://${APP_HOST}`;
export const START_URL = `${APP_ORIGIN}/index.html`;

/**
 * standard: origin, relative URLs and 'self' work as for https; secure: a secure context, no mixed
 * content; supportFetchAPI: the page may fetch() its own origin. Not corsEnabled, not bypassCSP, no
 * service workers: no other origin may read from the scheme.
 */
export const PRIVILEGED_SCHEMES: CustomScheme[] = [
  { scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
];

/**
 * The renderer's policy. style-src needs 'unsafe-inline' because MUI/emotion inserts <style> elements;
 * scripts come only from the app's own origin, nothing is fetched from anywhere else.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
};

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

/** True for URLs of the app's own origin, parsed (never compared as strings). */
export function isAppUrl(url: string | null | undefined): boolean {
  if (!url) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '' && parsed.port === '';
  } catch {
    return false;
  }
}

/**
 * The decoded path segments of a URL path, or null if any of them could leave the folder it is
 * resolved in: '.', '..', empty segments, separators or NUL hidden behind percent-encoding, or a
 * drive / stream colon.
 */
export function safeSegments(urlPath: string): string[] | null {
  if (!urlPath.startsWith('/')) return null;
  const segments: string[] = [];
  for (const raw of urlPath.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '' || segment === '.' || segment === '..' || /[/\\\0:]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments;
}

/** A file inside `root` for a URL path, or null if it would be outside (path traversal). */
export function resolveInside(root: string, urlPath: string): string | null {
  const segments = safeSegments(urlPath);
  if (!segments || segments.length === 0) return null;
  const resolvedRoot = path.resolve(root);
  const file = path.resolve(resolvedRoot, ...segments);
  const relative = path.relative(resolvedRoot, file);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return null;
  return file;
}

export interface ProtocolOptions {
  /** The built renderer: dist/renderer (index.html, app.js, …). */
  rendererDir: string;
  /** `EpistemeApp.readAsset`: urlPath like '/asset/p1/12/preview.png'. */
  readAsset(urlPath: string): Promise<{ mime: string; body: Buffer } | null>;
}

type RequestLike = Pick<Request, 'url' | 'method'>;

function respond(status: number, body: BodyInit | null, contentType: string, method: string, extra: Record<string, string> = {}): Response {
  const headers = { ...SECURITY_HEADERS, 'content-type': contentType, ...extra };
  return new Response(method === 'HEAD' ? null : body, { status, headers });
}

function refuse(status: number, message: string, method: string): Response {
  return respond(status, message, 'text/plain; charset=utf-8', method);
}

/** The `protocol.handle` handler, independent of Electron (Fetch API Request → Response). */
export function createProtocolHandler(options: ProtocolOptions): (request: RequestLike) => Promise<Response> {
  return async (request) => {
    const method = request.method.toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') return refuse(405, 'method not allowed', method);
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return refuse(400, 'bad url', method);
    }
    if (url.protocol !== `${SCHEME}:` || url.host !== APP_HOST) return refuse(404, 'not found', method);
    const urlPath = url.pathname;

    if (urlPath === '/asset' || urlPath.startsWith('/asset/')) {
      if (!safeSegments(urlPath)) return refuse(400, 'bad asset path', method);
      let asset: { mime: string; body: Buffer } | null;
      try {
        asset = await options.readAsset(urlPath);
      } catch (error) {
        console.error(`[episteme] asset ${urlPath} failed:`, error);
        return refuse(500, 'asset failed', method);
      }
      if (!asset) return refuse(404, 'not found', method);
      return respond(200, new Uint8Array(asset.body), asset.mime, method, { 'cache-control': 'no-cache' });
    }

    const file = resolveInside(options.rendererDir, urlPath === '/' ? '/index.html' : urlPath);
    if (!file) return refuse(400, 'bad path', method);
    let body: Buffer;
    try {
      body = await fs.readFile(file);
    } catch {
      return refuse(404, 'not found', method);
    }
    const contentType = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    return respond(200, new Uint8Array(body), contentType, method, { 'cache-control': 'no-cache' });
  };
}

/** Must run before the app's 'ready' event. */
export function registerPrivilegedSchemes(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged(PRIVILEGED_SCHEMES);
}

/** After 'ready': serves episteme://app/… on the default session. */
export function registerAppProtocol(protocol: Pick<Protocol, 'handle'>, options: ProtocolOptions): void {
  const handler = createProtocolHandler(options);
  protocol.handle(SCHEME, (request) => handler(request));
}
