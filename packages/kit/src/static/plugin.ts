// kitStatic: the files of one folder, read and hashed at registration, served
// from memory under a prefix at two URLs each:
//
//   /static/app.3f9a1c2b.css  Cache-Control: public, max-age=31536000, immutable
//   /static/app.css           Cache-Control: no-cache
//
// Both with the same strong ETag and 304 on If-None-Match (RFC 9110
// §13.1.2). The fingerprinted URL changes whenever the bytes do, so a
// browser or CDN may keep it for a year without asking (RFC 8246
// immutable); pages link to it through fastify.assetUrl(name). The plain URL
// keeps old links working and is revalidated on every use.
//
// App-wide (fastify-plugin): the decorator is visible everywhere; the route is
// `<prefix>/*`, HEAD included.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KitError } from '../errors.ts';
import { ifNoneMatchMatches, toNotModified } from '../validators/conditional.ts';
import { contentTypes, loadAssets, splitExtension, type Assets } from './assets.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The fingerprinted URL of a file of kitStatic's folder, by its path in
     * the folder: assetUrl('app.css') → '/static/app.3f9a1c2b.css'. An
     * unknown name throws RAMPART_ERR_STATIC_UNKNOWN, so a typo fails the
     * first test that renders the page.
     */
    assetUrl(name: string): string;
  }
}

export interface KitStaticOptions {
  /** The folder. Read once, at registration; files added later are not served. */
  root: string;
  /** URL path the files are served under. Default '/static'. */
  prefix?: string;
  /** Hex digits of the SHA-256 in fingerprinted names. Default 8 (32 bits: enough to tell versions apart). */
  hashLength?: number;
  /** Most bytes read into memory, all files together. Default 64 MiB. */
  maxBytes?: number;
  /** Most files. Default 10 000. */
  maxFiles?: number;
  /** Extension (no dot, lower case) → Content-Type, merged over the built-in table. */
  types?: Record<string, string>;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const PREFIX = /^(\/[A-Za-z0-9._~-]+)+$/;

function invalid(message: string): never {
  throw new KitError('RAMPART_ERR_STATIC_OPTIONS', `kitStatic: ${message}`);
}

function positiveInteger(name: string, value: unknown, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) invalid(`${name} must be a whole number from ${min} to ${max}, got ${typeof value === 'number' ? value : typeof value}`);
  return value;
}

/**
 * A fingerprinted URL whose hash is not the current one (`app.0badcafe.css`
 * after app.css changed) → the current fingerprinted URL, or null.
 */
function currentUrlFor(assets: Assets, requestPath: string, hashLength: number): string | null {
  const slash = requestPath.lastIndexOf('/');
  const last = requestPath.slice(slash + 1);
  const [stem, ext] = splitExtension(last);
  const [base, hash] = splitExtension(stem);
  if (base === '' || !new RegExp(`^\\.[0-9a-f]{${hashLength}}$`).test(hash)) return null;
  const plain = assets.byUrl.get(`${requestPath.slice(0, slash + 1)}${base}${ext}`);
  return plain !== undefined && !plain.fingerprinted ? plain.asset.fingerprintedUrl : null;
}

async function kitStaticPlugin(fastify: FastifyInstance, options: KitStaticOptions): Promise<void> {
  if (typeof options?.root !== 'string' || options.root === '') invalid('give the folder to serve: { root: path.join(import.meta.dirname, "public") }');
  const prefix = options.prefix ?? '/static';
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) invalid(`prefix must be a path like "/static" (no trailing slash, unreserved characters only), got ${JSON.stringify(prefix)}`);
  const hashLength = positiveInteger('hashLength', options.hashLength, 8, 6, 64);
  const assets = await loadAssets({
    root: options.root,
    prefix,
    hashLength,
    maxBytes: positiveInteger('maxBytes', options.maxBytes, 64 * 1024 * 1024),
    maxFiles: positiveInteger('maxFiles', options.maxFiles, 10_000),
    types: contentTypes(options.types),
  });
  if (fastify.hasDecorator('assetUrl')) invalid('registered twice: serve one folder (subfolders are served too)');

  fastify.decorate('assetUrl', function assetUrl(name: string): string {
    const asset = typeof name === 'string' ? assets.byName.get(name.startsWith('/') ? name.slice(1) : name) : undefined;
    if (asset === undefined) throw new KitError('RAMPART_ERR_STATIC_UNKNOWN', `assetUrl: no file ${JSON.stringify(name)} in the static folder (names are paths inside it, like "app.css" or "img/logo.svg")`);
    return asset.fingerprintedUrl;
  });

  fastify.get(`${prefix}/*`, function serveAsset(request: FastifyRequest, reply: FastifyReply) {
    // The path as sent: no decoding, so `%2e%2e`, `%2F` and `%00` are just
    // names that are not in the Map.
    const raw = request.url;
    const query = raw.indexOf('?');
    const requestPath = query === -1 ? raw : raw.slice(0, query);
    const found = assets.byUrl.get(requestPath);
    if (found === undefined) {
      // An old fingerprint: during a rolling restart a page from a new
      // instance can ask an old one for a file it does not have yet (and the
      // reverse). A temporary redirect to the version this instance has keeps
      // the page styled; it is never stored (no-store), so no cache maps the
      // old URL to the new bytes for longer than this one request.
      const current = currentUrlFor(assets, requestPath, hashLength);
      if (current !== null) return reply.code(307).header('cache-control', 'no-store').header('location', current).send();
      return reply.callNotFound();
    }
    const { asset, fingerprinted } = found;
    reply.header('etag', asset.etag).header('cache-control', fingerprinted ? IMMUTABLE : 'no-cache').type(asset.type);
    if (ifNoneMatchMatches(request.headers['if-none-match'], asset.etag)) return reply.send(toNotModified(request, reply, asset.body) ?? undefined);
    return reply.send(asset.body);
  });
}

/** Fingerprinted static files with immutable caching, plus fastify.assetUrl(name). App-wide. */
export const kitStatic = fp(kitStaticPlugin, { fastify: '5.x', name: '@rampart/kit/static' });
