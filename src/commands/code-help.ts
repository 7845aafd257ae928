/**
 * `egress-warden help EWnnn`: a finding code's page, printed from the catalogue the binary carries,
 * so the pointer every denial and warning ends with works without a network or a checkout.
 */
import { categoryOf } from '../catalogue/docs.ts';
import { CODES, FINDINGS, type Code } from '../catalogue/findings.ts';
import type { CommandIo } from './io.ts';

export const isCode = (word: string): boolean => (CODES as readonly string[]).includes(word.toUpperCase());

/** Markdown as a terminal shows it: links reduced to their text. */
const plain = (md: string): string => md.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1');

export function codeHelp(word: string, io: CommandIo): number {
  const code = word.toUpperCase() as Code;
  const f = FINDINGS[code];
  io.out(
    `${code} (${f.severity}, ${categoryOf(code)}): ${f.title}\n\n${plain(f.meaning)}\n\nFix: ${plain(f.fix)}\n\n` +
      `Online: docs/codes.md#${code.toLowerCase()} in the egress-warden repository, or the docs site serve --docs-url names.\n`,
  );
  return 0;
}
