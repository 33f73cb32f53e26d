/**
 * Record identifiers: a type prefix and 20 random base32 characters (100 bits), e.g. `job_k3v9...`. The prefix
 * lets the CLI tell a job id from a media id; the randomness lets independent processes create records
 * without coordination (no autoincrement that a server database would have to share).
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** The prefixes in use. */
export type IdPrefix = 'med' | 'job' | 'scn' | 'wrk' | 'clm';

/** A new random identifier with the given prefix. */
export function newId(prefix: IdPrefix): string {
  const bytes = randomBytes(20);
  let out = `${prefix}_`;
  for (const byte of bytes) out += ALPHABET[byte & 31];
  return out;
}

/** The prefix of an identifier, or null when it has none of ours. */
export function idPrefix(id: string): IdPrefix | null {
  const match = /^(med|job|scn|wrk|clm)_[0-9a-z]+$/.exec(id);
  return match === null ? null : (match[1] as IdPrefix);
}
