import { createHash } from 'node:crypto';
import type { ImportFormat } from '../../shared/import-export.ts';
import type { Keyring } from '../keys/keyring.ts';

/**
 * The id an imported record gets: derived from its source format and its id there, so a re-run of
 * the same file (or of a newer export of the same site) finds it stored and adds nothing twice, and a
 * reply finds its parent's id without a lookup. 21 characters of the comment-id alphabet.
 */
export function importedCommentId(format: Exclude<ImportFormat, 'native'>, sourceId: string): string {
  return createHash('sha256').update(`${format}\0${sourceId}`).digest('base64url').slice(0, 21);
}

/**
 * The ban key of an imported author, derived from the source's identity of the author (username, else
 * e-mail, else name; see authorIdentity), so a moderator can ban an imported author and every comment of
 * that author carries the same key. Keyed with the server secret (server/keys/keyring.ts): neither the
 * identity nor a guess at it (an e-mail address) can be checked against the key without the secret.
 */
export function importAuthorKey(keys: Keyring, format: Exclude<ImportFormat, 'native'>, identity: string): string {
  return keys.deriveKey('author', `import:${format}:${identity}`);
}

/** Who an imported author is, as stably as the source says: a username, else an e-mail, else a name; lower-cased. */
export function authorIdentity(parts: {
  username?: string | null;
  email?: string | null;
  name?: string | null;
}): string | null {
  const clean = (value: string | null | undefined): string => (value ?? '').normalize('NFKC').trim().toLowerCase();
  const username = clean(parts.username);
  if (username !== '') return `user:${username}`;
  const email = clean(parts.email);
  if (email !== '') return `email:${email}`;
  const name = clean(parts.name).replace(/\s+/g, ' ');
  return name === '' ? null : `name:${name}`;
}
