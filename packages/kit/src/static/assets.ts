// The files kitStatic serves, read once when the plugin is registered: each
// with its bytes, its SHA-256, a strong ETag and two URLs, the plain one and
// the fingerprinted one. Requests are answered by looking their path up in a
// Map built here, so a URL never becomes a file system path: `..`, encoded
// slashes, NUL or a symlink cannot reach a file that was not listed.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { KitError } from '../errors.ts';
import { CONTENT_TYPES, DEFAULT_CONTENT_TYPE } from './content-types.ts';

export interface Asset {
  /** Path relative to the folder, with `/` separators: 'app.css', 'img/logo.svg'. */
  readonly name: string;
  readonly body: Buffer;
  readonly type: string;
  /** Strong: `"<hash prefix, base64url>"`. */
  readonly etag: string;
  /** `<prefix>/app.css` */
  readonly url: string;
  /** `<prefix>/app.<hex>.css` */
  readonly fingerprintedUrl: string;
}

export interface AssetOptions {
  root: string;
  prefix: string;
  hashLength: number;
  maxBytes: number;
  maxFiles: number;
  types: Readonly<Record<string, string>>;
}

export interface Assets {
  readonly byName: ReadonlyMap<string, Asset>;
  /** Request path (as sent, percent-encoding and all) → the asset and whether that URL is the fingerprinted one. */
  readonly byUrl: ReadonlyMap<string, { asset: Asset; fingerprinted: boolean }>;
}

const MAX_DEPTH = 16;

function invalid(message: string): never {
  throw new KitError('RAMPART_ERR_STATIC_OPTIONS', `kitStatic: ${message}`);
}

/** `app.css` → ['app', '.css']; `LICENSE` → ['LICENSE', '']; `jquery.min.js` → ['jquery.min', '.js']. */
export function splitExtension(file: string): [string, string] {
  const dot = file.lastIndexOf('.');
  return dot <= 0 ? [file, ''] : [file.slice(0, dot), file.slice(dot)];
}

function urlOf(prefix: string, segments: readonly string[]): string {
  return `${prefix}/${segments.map(encodeURIComponent).join('/')}`;
}

export async function loadAssets(options: AssetOptions): Promise<Assets> {
  const root = path.resolve(options.root);
  let info;
  try {
    info = await stat(root);
  } catch {
    invalid(`root ${JSON.stringify(root)} does not exist`);
  }
  if (!info.isDirectory()) invalid(`root ${JSON.stringify(root)} is not a folder`);

  const byName = new Map<string, Asset>();
  const byUrl = new Map<string, { asset: Asset; fingerprinted: boolean }>();
  let bytes = 0;

  async function walk(dir: string, segments: string[]): Promise<void> {
    if (segments.length > MAX_DEPTH) invalid(`${JSON.stringify(dir)} is more than ${MAX_DEPTH} folders deep`);
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      // Dotfiles (.env, .git, .DS_Store) are never public by accident.
      // Symlinks are skipped: one could point outside the folder.
      if (entry.name.startsWith('.') || entry.isSymbolicLink()) continue;
      const here = [...segments, entry.name];
      if (entry.isDirectory()) {
        await walk(path.join(dir, entry.name), here);
        continue;
      }
      if (!entry.isFile()) continue;
      if (byName.size >= options.maxFiles) invalid(`more than ${options.maxFiles} files under ${JSON.stringify(root)} (maxFiles)`);
      const body = await readFile(path.join(dir, entry.name));
      bytes += body.length;
      if (bytes > options.maxBytes) invalid(`the files under ${JSON.stringify(root)} are more than ${options.maxBytes} bytes (maxBytes); they are held in memory`);
      const digest = createHash('sha256').update(body).digest();
      const [base, ext] = splitExtension(entry.name);
      const fingerprinted = [...segments, `${base}.${digest.toString('hex').slice(0, options.hashLength)}${ext}`];
      const asset: Asset = {
        name: here.join('/'),
        body,
        type: options.types[ext.slice(1).toLowerCase()] ?? DEFAULT_CONTENT_TYPE,
        etag: `"${digest.subarray(0, 16).toString('base64url')}"`,
        url: urlOf(options.prefix, here),
        fingerprintedUrl: urlOf(options.prefix, fingerprinted),
      };
      byName.set(asset.name, asset);
      for (const [url, isFingerprinted] of [[asset.url, false], [asset.fingerprintedUrl, true]] as const) {
        const taken = byUrl.get(url);
        if (taken !== undefined) invalid(`${asset.name} and ${taken.asset.name} would both be served at ${url}; rename one`);
        byUrl.set(url, { asset, fingerprinted: isFingerprinted });
      }
    }
  }

  await walk(root, []);
  return { byName, byUrl };
}

export function contentTypes(extra: Record<string, string> | undefined): Readonly<Record<string, string>> {
  if (extra === undefined) return CONTENT_TYPES;
  if (typeof extra !== 'object' || extra === null) invalid('types must be an object: extension → Content-Type');
  const types: Record<string, string> = { ...CONTENT_TYPES };
  for (const [ext, type] of Object.entries(extra)) {
    if (!/^[a-z0-9]+$/.test(ext)) invalid(`types: ${JSON.stringify(ext)} is not a lower-case extension without its dot`);
    if (typeof type !== 'string' || type === '' || /[\r\n\0]/.test(type)) invalid(`types.${ext} must be a Content-Type value`);
    types[ext] = type;
  }
  return types;
}
