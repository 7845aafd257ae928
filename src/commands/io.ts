/**
 * What a CLI command may touch. Commands take this instead of `process`, so tests run them
 * in-process and read what they printed.
 */
export type CommandIo = {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /**
   * All of stdin, or, given `maxBytes`, as much as shows it is longer than that: reading stops
   * there, so input over a limit is refused without being held in memory.
   */
  readonly readStdin: (maxBytes?: number) => Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
};

/** A command: parses its own argv (after the command name), returns the exit status. */
export type Command = (argv: readonly string[], io: CommandIo) => Promise<number>;

/** Exit status for bad usage or unreadable input, as for `check`. */
export const USAGE = 2;

/** An io that records what a command printed (tests, and programmatic use). */
export function captureIo(
  stdin = '',
  env: Record<string, string | undefined> = {},
): CommandIo & { readonly stdout: () => string; readonly stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    readStdin: async (maxBytes) => (maxBytes !== undefined && Buffer.byteLength(stdin) > maxBytes ? stdin.slice(0, maxBytes + 1) : stdin),
    env,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
