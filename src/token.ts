/**
 * The caller token: a shared secret that only the webhook configurations (and so the API server)
 * carry, in the path of every admission call. Files hold one token per line; every line is
 * accepted, so a rotation can put the new token beside the old one before the configurations move.
 */
import { randomInt } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TOKEN_PATTERN } from './catalogue/endpoints.ts';
import { followDirectory } from './follow.ts';
import { errorText } from './json.ts';

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * 43 random characters of a-z and 0-9 (222 bits): nothing to escape in a URL path, and accepted by
 * the API server in a webhook Service path, whose every segment must be a lowercase RFC 1123
 * subdomain (upper case, `_` and `~` are refused there). Helm's `randAlphaNum 43 | lower` makes the same.
 */
export const newToken = (): string => Array.from({ length: 43 }, () => TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)]).join('');

/** A token file that cannot be used; `problem` says why without the `token:` prefix of the message. */
export class TokenFileError extends Error {
  readonly problem: string;
  constructor(problem: string) {
    super(`token: ${problem}`);
    this.name = 'TokenFileError';
    this.problem = problem;
  }
}

/** Why a token file could not be used, for a message of the caller's own. */
export const tokenProblem = (e: unknown): string => (e instanceof TokenFileError ? e.problem : errorText(e));

/** The tokens of a file's text, one per line; throws a TokenFileError naming the file and the line. */
export function parseTokens(text: string, file: string): string[] {
  const tokens: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    if (!TOKEN_PATTERN.test(line)) {
      throw new TokenFileError(`line ${i + 1} of ${file} is not a caller token (16 to 256 characters of A-Z a-z 0-9 . _ ~ -)`);
    }
    if (!tokens.includes(line)) tokens.push(line);
  });
  if (tokens.length === 0) throw new TokenFileError(`${file} holds no token`);
  return tokens;
}

export async function readTokens(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new TokenFileError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? errorText(e)}`);
  }
  return parseTokens(text, file);
}

/** Writes one token with mode 0600 (also over an existing file of another mode). */
export async function writeToken(file: string, token: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The tokens in `file`, writing a new random one first when `generate` and the file does not exist. */
export async function ensureTokens(file: string, generate: boolean): Promise<{ tokens: string[]; generated: boolean }> {
  if (generate && !(await exists(file))) {
    await writeToken(file, newToken());
    return { tokens: await readTokens(file), generated: true };
  }
  return { tokens: await readTokens(file), generated: false };
}

/** Calls `onChange` with the file's tokens whenever they change; an unreadable file keeps the tokens known. */
export function watchTokens(
  file: string,
  current: readonly string[],
  onChange: (tokens: string[]) => void,
  onError: (e: Error) => void,
  pollMs = 10_000,
): () => void {
  const same = (a: readonly string[], b: readonly string[]) => a.join('\n') === b.join('\n');
  return followDirectory<readonly string[]>(
    dirname(file),
    current,
    () => readTokens(file),
    same,
    (t) => onChange([...t]),
    onError,
    pollMs,
  );
}
