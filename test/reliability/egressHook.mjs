// Preloaded with --import (plain JS, so it needs no loader) into every process the egress test starts:
// records each outgoing connection attempt, name lookup, UDP send, listening socket and spawned program
// as one JSON line in $EPISTEME_EGRESS_LOG. Records only; the call then proceeds unchanged.
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { isMainThread } from 'node:worker_threads';

const LOG = process.env.EPISTEME_EGRESS_LOG;

function record(kind, detail) {
  if (!LOG) return;
  try {
    fs.appendFileSync(LOG, `${JSON.stringify({ pid: process.pid, thread: isMainThread ? 'main' : 'worker', kind, ...detail })}\n`);
  } catch {
    /* never change the behaviour of the process under test */
  }
}

/** connect(options[, cb]) | connect(port[, host][, cb]) | connect(path[, cb]), as net normalises them. */
function destination(args) {
  const [first, second] = args;
  if (first && typeof first === 'object') return first.path ? { path: String(first.path) } : { host: first.host ?? 'localhost', port: first.port };
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
  return { host: typeof second === 'string' ? second : 'localhost', port: Number(first) };
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = args[0];
  // http and net hand connect() an array of [options, cb] internally.
  record('connect', destination(Array.isArray(first) ? first : args));
  return connect.apply(this, args);
};

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [first, second] = args;
  const detail = first && typeof first === 'object' ? { host: first.host ?? first.path ?? '(all interfaces)', port: first.port } : typeof first === 'string' && !/^\d+$/.test(first) ? { host: first } : { host: typeof second === 'string' ? second : '(all interfaces)', port: first };
  record('listen', detail);
  return listen.apply(this, args);
};

for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'reverse']) {
  const original = dns[name];
  dns[name] = function (host, ...rest) {
    record('dns', { host: String(host), via: name });
    return original.call(this, host, ...rest);
  };
  const promised = dns.promises[name];
  dns.promises[name] = function (host, ...rest) {
    record('dns', { host: String(host), via: `promises.${name}` });
    return promised.call(this, host, ...rest);
  };
}

for (const [module, scheme] of [[http, 'http'], [https, 'https']]) {
  for (const name of ['request', 'get']) {
    const original = module[name];
    module[name] = function (...args) {
      const [target] = args;
      const url = target instanceof URL || typeof target === 'string' ? String(target) : `${scheme}://${target?.hostname ?? target?.host ?? 'localhost'}:${target?.port ?? ''}${target?.path ?? ''}`;
      record(`${scheme}.${name}`, { url });
      return original.apply(this, args);
    };
  }
}

const send = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function (...args) {
  const host = args.find((a, i) => i > 0 && typeof a === 'string');
  record('udp', { host: host ?? '(connected)', port: args.find((a, i) => i > 0 && typeof a === 'number' && a > 0 && a < 65536) });
  return send.apply(this, args);
};

if (typeof globalThis.fetch === 'function') {
  const fetch = globalThis.fetch;
  globalThis.fetch = function (input, init) {
    record('fetch', { url: input instanceof Request ? input.url : String(input) });
    return fetch.call(this, input, init);
  };
}

const spawn = childProcess.ChildProcess.prototype.spawn;
childProcess.ChildProcess.prototype.spawn = function (options) {
  record('spawn', { file: options?.file, args: options?.args?.slice(0, 4) });
  return spawn.call(this, options);
};

syncBuiltinESMExports();
