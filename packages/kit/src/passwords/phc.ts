// Argon2 hashes in the PHC string format
// (https://github.com/P-H-C/phc-string-format/blob/master/phc-sf-spec.md):
//   $argon2id$v=19$m=19456,t=2,p=1$<salt, B64 unpadded>$<hash, B64 unpadded>
// Written in libargon2's own order (m, t, p) because its decoder, and those of
// libraries built on it, accept no other. Read in any order, strictly
// otherwise: anything unexpected is "malformed", and a stored hash is trusted
// no further than its parameters' bounds, so a corrupt row cannot make one
// login allocate gigabytes.

export type Argon2Type = 'argon2d' | 'argon2i' | 'argon2id';

export interface Argon2Parameters {
  /** KiB of memory. */
  readonly memoryCost: number;
  /** Passes over the memory. */
  readonly timeCost: number;
  /** Lanes. */
  readonly parallelism: number;
}

export interface Argon2Hash extends Argon2Parameters {
  readonly type: Argon2Type;
  /** 0x13 (19) or 0x10 (16). */
  readonly version: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** Bounds on what a stored hash (or a hasher's options) may ask for. */
export const LIMITS = {
  memoryCost: { min: 8, max: 1024 * 1024 }, // 1 GiB
  timeCost: { min: 1, max: 64 },
  parallelism: { min: 1, max: 64 },
  saltBytes: { min: 8, max: 64 },
  hashBytes: { min: 16, max: 64 },
} as const;

const B64 = /^[A-Za-z0-9+/]+$/;
const DIGITS = /^[1-9][0-9]{0,9}$/;

function decodeB64(text: string): Buffer | null {
  // Unpadded standard base64 (PHC "B64"); a length of 1 mod 4 cannot occur.
  if (!B64.test(text) || text.length % 4 === 1) return null;
  return Buffer.from(text, 'base64');
}

function inRange(value: number, range: { readonly min: number; readonly max: number }): boolean {
  return Number.isSafeInteger(value) && value >= range.min && value <= range.max;
}

/** The parts of an Argon2 PHC string, or null when it is anything else (another algorithm, corrupt, out of bounds). */
export function parseArgon2(encoded: unknown): Argon2Hash | null {
  if (typeof encoded !== 'string' || encoded.length > 512) return null;
  const fields = encoded.split('$');
  // '', id, [v=..], params, salt, hash
  if (fields.length !== 5 && fields.length !== 6) return null;
  const [empty, id] = fields;
  if (empty !== '' || (id !== 'argon2id' && id !== 'argon2i' && id !== 'argon2d')) return null;
  let version = 0x10; // PHC: an absent version means the original 1.0
  let rest = fields.slice(2);
  if (fields.length === 6) {
    const v = /^v=(16|19)$/.exec(fields[2] ?? '');
    if (v === null) return null;
    version = Number(v[1]);
    rest = fields.slice(3);
  }
  const [paramText = '', saltText = '', hashText = ''] = rest;
  const params = new Map<string, number>();
  for (const pair of paramText.split(',')) {
    const [key = '', value = '', extra] = pair.split('=');
    if (extra !== undefined || !DIGITS.test(value) || params.has(key)) return null;
    params.set(key, Number(value));
  }
  const memoryCost = params.get('m');
  const timeCost = params.get('t');
  const parallelism = params.get('p');
  if (params.size !== 3 || memoryCost === undefined || timeCost === undefined || parallelism === undefined) return null;
  if (!inRange(memoryCost, LIMITS.memoryCost) || !inRange(timeCost, LIMITS.timeCost) || !inRange(parallelism, LIMITS.parallelism)) return null;
  // RFC 9106 §3.1: the memory must hold at least 8 blocks per lane.
  if (memoryCost < 8 * parallelism) return null;
  const salt = decodeB64(saltText);
  const hash = decodeB64(hashText);
  if (salt === null || hash === null) return null;
  if (!inRange(salt.length, LIMITS.saltBytes) || !inRange(hash.length, LIMITS.hashBytes)) return null;
  return { type: id, version, memoryCost, timeCost, parallelism, salt, hash };
}

export function formatArgon2(parts: Argon2Hash): string {
  const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');
  return `$${parts.type}$v=${parts.version}$m=${parts.memoryCost},t=${parts.timeCost},p=${parts.parallelism}$${b64(parts.salt)}$${b64(parts.hash)}`;
}
