// API key tokens: `veil_<prefix>_<secret>`, where the secret is 256 bits from the CSPRNG and the prefix is
// 8 public characters to find the key by. Only SHA-256 of the whole token is stored: the secret has full
// entropy, so a fast hash is as strong as a slow one and keeps authentication cheap.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_TOKEN_PREFIX = 'veil_';
const PREFIX_LENGTH = 8;
const SECRET_BYTES = 32;
/** base64url of 32 bytes, unpadded. */
const SECRET_LENGTH = 43;
/** Lower-case letters and digits without look-alikes (0/o, 1/l/i): 31 symbols. */
const PREFIX_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const PREFIX_PATTERN = /^[a-hjkmnp-z2-9]{8}$/;

export interface NewToken {
  token: string;
  prefix: string;
  hash: Buffer;
}

export function newToken(): NewToken {
  const prefix = randomPrefix();
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const token = `${API_KEY_TOKEN_PREFIX}${prefix}_${secret}`;
  return { token, prefix, hash: hashToken(token) };
}

function randomPrefix(): string {
  // A modulo over 31 symbols would be biased: draw 5-bit values and reject 31.
  let out = '';
  while (out.length < PREFIX_LENGTH) {
    for (const byte of randomBytes(PREFIX_LENGTH)) {
      const value = byte & 31;
      if (value < 31 && out.length < PREFIX_LENGTH) out += PREFIX_ALPHABET[value];
    }
  }
  return out;
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Splits a presented token into its public prefix, or null when it is not shaped like a Veil API key. */
export function parseApiKeyToken(token: string): { prefix: string } | null {
  if (typeof token !== 'string' || token.length !== API_KEY_TOKEN_PREFIX.length + PREFIX_LENGTH + 1 + SECRET_LENGTH) return null;
  if (!token.startsWith(API_KEY_TOKEN_PREFIX)) return null;
  const prefix = token.slice(API_KEY_TOKEN_PREFIX.length, API_KEY_TOKEN_PREFIX.length + PREFIX_LENGTH);
  const separator = token[API_KEY_TOKEN_PREFIX.length + PREFIX_LENGTH];
  const secret = token.slice(API_KEY_TOKEN_PREFIX.length + PREFIX_LENGTH + 1);
  if (!PREFIX_PATTERN.test(prefix) || separator !== '_' || !/^[A-Za-z0-9_-]+$/.test(secret)) return null;
  return { prefix };
}

/** Whether `token` hashes to `storedHash`, compared in constant time. */
export function tokenMatches(token: string, storedHash: Uint8Array): boolean {
  const presented = hashToken(token);
  return storedHash.length === presented.length && timingSafeEqual(presented, storedHash);
}

export function isValidPrefix(prefix: string): boolean {
  return PREFIX_PATTERN.test(prefix);
}
