/**
 * One finding on one line of at most `max` characters (admission warnings: 120) that keeps what the
 * reader needs: the code and field at the start, the other object's name and the fix at the end.
 * Long words (hosts, CIDR lists) are cut in their middle first, so each stays recognisable by its
 * start and end; the field and names of objects (`namespace/name`) only when nothing else is left
 * to cut. Pure.
 */

const CUT = '…';
/** Words are cut to this many characters first (enough of their start and end to recognise them), then to WORD_FLOOR. */
const WORD_MIN = 12;
const WORD_FLOOR = 8;
/** What the last resort keeps of the text before the other object's name and the fix. */
const HEAD_MIN = 24;

/** "shop/second", "db/postgres,": how the rules name another object. */
const OBJECT_REF = /^\(?[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?[),;:]*$/;

/** `text` cut to `length` characters by replacing its middle with "…". */
function cutMiddle(text: string, length: number): string {
  if (text.length <= length) return text;
  if (length <= 1) return CUT.slice(0, length);
  const head = Math.ceil((length - 1) / 2);
  const tail = length - 1 - head;
  return `${text.slice(0, head)}${CUT}${tail ? text.slice(-tail) : ''}`;
}

export function shortenLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  const original = line.split(' ');
  const words = [...original];
  // `[CODE] field:` open the line; names of objects say what the finding is about
  const kept = original.map((w, i) => i < 2 || OBJECT_REF.test(w));
  let length = line.length;

  /** Cuts the longest words of one kind in their middle, down to `floor`; true once the line fits. */
  const cutWords = (protectedOnes: boolean, floor: number): boolean => {
    for (;;) {
      const excess = length - max;
      if (excess <= 0) return true;
      let longest = -1;
      words.forEach((w, i) => {
        if (kept[i] === protectedOnes && w.length > floor && (longest < 0 || w.length > words[longest]!.length)) longest = i;
      });
      if (longest < 0) return false;
      const before = words[longest]!.length;
      words[longest] = cutMiddle(original[longest]!, Math.max(floor, before - excess));
      length -= before - words[longest]!.length;
    }
  };

  /**
   * Cuts the middle of the text before the word at `at`, keeping that word and every word after it
   * whole, and `[CODE] field:` too when `keepField` (a field cut in its middle no longer says where
   * the finding is, so that is tried first).
   */
  const cutBefore = (at: number, keepField: boolean): string | undefined => {
    const from = keepField ? 2 : 0;
    if (at <= from) return undefined;
    const lead = keepField ? `${original[0]} ${original[1]} ` : '';
    const tail = ` ${words.slice(at).join(' ')}`;
    const room = max - lead.length - tail.length;
    return room >= HEAD_MIN ? `${lead}${cutMiddle(original.slice(from, at).join(' '), room)}${tail}` : undefined;
  };

  if (cutWords(false, WORD_MIN) || cutWords(false, WORD_FLOOR)) return words.join(' ');
  // Many short words: lose the middle of the text before the first object's name, else before the
  // fix (the words after the last "; ").
  const firstRef = kept.findIndex((k, i) => k && i >= 2);
  const fix = words.findLastIndex((_, i) => i > 0 && words[i - 1]!.endsWith(';'));
  const cut = cutBefore(firstRef, true) ?? cutBefore(firstRef, false) ?? cutBefore(fix, true) ?? cutBefore(fix, false);
  if (cut !== undefined) return cut;
  if (cutWords(true, WORD_MIN)) return words.join(' ');
  return cutMiddle(words.join(' '), max);
}
