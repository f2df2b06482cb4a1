import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { eventNames, type Envelope } from '../service/contract.ts';
import { dispatch } from '../service/dispatch.ts';
import type { EpistemeApp } from '../service/app.ts';

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** What `/` shows when the renderer bundle was never built (e.g. the install's build step failed). */
export const RENDERER_MISSING_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Episteme: app not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>The Episteme app is not built</h1>
<p>This server runs, but the app's page (<code>dist/renderer</code>) is missing. In the Episteme folder run</p>
<pre>npm run build</pre>
<p>then reload this page.</p>
</body></html>
`;

const MAX_BODY_BYTES = 2 * 1024 * 1024;
const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
};

export interface RunningServer {
  /** The address to open: it carries the launch's token, which the page swaps for a cookie. */
  url: string;
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, cacheControl = 'no-store', extra: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, {
    ...extra,
    'Content-Type': type,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cache-Control': cacheControl,
  });
  res.end(body);
}

/** Envelopes carry their own error code, so they go out as 200: a refused call is not a failed load. */
function sendEnvelope(res: http.ServerResponse, envelope: Envelope<unknown>): void {
  send(res, 200, 'application/json', JSON.stringify(envelope));
}

class BodyTooLarge extends Error {}

/**
 * The body as text. One above MAX_BODY_BYTES is read on without being kept, so the client gets its 413
 * instead of a reset connection; only a body far above that is cut off.
 */
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (size > 16 * MAX_BODY_BYTES) req.destroy();
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new BodyTooLarge(`request body above ${MAX_BODY_BYTES} bytes`)) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/** decodeURIComponent without its URIError on a malformed escape such as "%E0%A4%A" (a 500 otherwise). */
function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Browser mode: the renderer, the service contract as `POST /api/<method>`, its events as
 * server-sent events on `/api/events`, and image assets — on 127.0.0.1 only. Requests naming another
 * Host (DNS rebinding) or coming from another Origin are refused, and the API, events and assets
 * answer only requests carrying this launch's token: as `?token=`, `Authorization: Bearer`, or the
 * cookie that `/?token=` sets (other local users' processes can reach the port, not the token).
 */
export function startServer(app: EpistemeApp, options: { port?: number; rendererDir: string }): Promise<RunningServer> {
  const rendererDir = path.resolve(options.rendererDir);
  const token = crypto.randomBytes(32).toString('base64url');
  const expected = Buffer.from(token);
  let allowedHosts = new Set<string>();
  let origin = '';
  let allowedOrigins = new Set<string>();
  // Cookies are not kept apart by port, so the name is: two servers on one host do not overwrite each other's.
  let cookieName = '';

  const matches = (candidate: string | null | undefined): boolean => {
    const given = Buffer.from(candidate ?? '');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  };
  const authenticated = (req: http.IncomingMessage, url: URL): boolean =>
    matches(url.searchParams.get('token')) ||
    matches(/^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]) ||
    matches(cookieValue(req.headers.cookie, cookieName));

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!allowedHosts.has(req.headers.host ?? '')) return send(res, 421, 'text/plain', 'unknown Host header; use the printed 127.0.0.1 address');
    if (req.headers.origin && !allowedOrigins.has(req.headers.origin)) return send(res, 403, 'text/plain', 'cross-origin requests are refused');
    const url = new URL(req.url ?? '/', origin);
    const isIndex = url.pathname === '/' || url.pathname === '/index.html';
    if (isIndex && url.searchParams.has('token')) {
      if (!matches(url.searchParams.get('token'))) return send(res, 401, 'text/plain', 'this token is not the one of this launch; open the address printed in the terminal');
      // The fragment (#/project/…) survives the redirect; the token leaves the address bar and history.
      const cookie = `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`;
      return send(res, 303, 'text/plain', '', 'no-store', { Location: '/', 'Set-Cookie': cookie });
    }
    const guarded = url.pathname.startsWith('/api/') || url.pathname.startsWith('/asset/');
    if ((guarded || isIndex) && !authenticated(req, url)) {
      return send(res, 401, 'text/plain', 'Episteme: open the address printed in the terminal where it was started (it carries the access token).');
    }
    if (url.pathname.startsWith('/api/')) {
      if (url.pathname === '/api/events' && req.method === 'GET') return streamEvents(app, req, res);
      if (req.method !== 'POST') return send(res, 405, 'text/plain', 'use POST');
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
        return sendEnvelope(res, { ok: false, error: { code: 'bad-request', message: 'Content-Type must be application/json' } });
      }
      let payload: unknown;
      try {
        payload = JSON.parse(await readBody(req));
      } catch (error) {
        if (error instanceof BodyTooLarge) return send(res, 413, 'application/json', JSON.stringify({ ok: false, error: { code: 'bad-request', message: error.message } }));
        return sendEnvelope(res, { ok: false, error: { code: 'bad-request', message: `body is not valid JSON: ${(error as Error).message}` } });
      }
      return sendEnvelope(res, await dispatch(app.service, safeDecode(url.pathname.slice('/api/'.length)), payload));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed');
    if (url.pathname.startsWith('/asset/')) {
      const asset = await app.readAsset(url.pathname);
      // An asset URL names an image id whose content never changes (images are stored by hash).
      return asset ? send(res, 200, asset.mime, asset.body, 'private, max-age=86400, immutable') : send(res, 404, 'text/plain', 'no such asset');
    }
    const relative = url.pathname === '/' ? 'index.html' : safeDecode(url.pathname)?.slice(1);
    const file = relative === undefined ? '' : path.resolve(rendererDir, relative);
    if (!file.startsWith(rendererDir + path.sep)) return send(res, 404, 'text/plain', 'not found');
    fs.readFile(file, (error, body) => {
      if (error && relative === 'index.html') return send(res, 503, 'text/html; charset=utf-8', RENDERER_MISSING_PAGE);
      if (error) return send(res, 404, 'text/plain', 'not found');
      send(res, 200, STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream', body);
    });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('[episteme] request failed:', error);
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error');
      else res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
      origin = `http://127.0.0.1:${port}`;
      allowedOrigins = new Set([...allowedHosts].map((host) => `http://${host}`));
      cookieName = `episteme-token-${port}`;
      resolve({
        url: `${origin}/?token=${token}`,
        origin,
        port,
        token,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

function streamEvents(app: EpistemeApp, req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Content-Type-Options': 'nosniff' });
  res.write(`: events ${eventNames.join(',')}\n\n`);
  const unsubscribe = app.subscribe((name, payload) => res.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`));
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
}
