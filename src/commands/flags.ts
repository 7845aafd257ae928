/** The preamble every command shares: strict flags, --help, and bad usage refused with status 2. */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { USAGE, type CommandIo } from './io.ts';

const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;

export type CommandSpec<O extends ParseArgsOptionsConfig, P extends boolean> = {
  /** the command's name, which starts every message it prints */
  readonly name: string;
  /** printed for --help, and after a usage error */
  readonly help: string;
  readonly options: O;
  /** whether operands (files, "-") follow the flags */
  readonly positionals: P;
};

type Parsed<O extends ParseArgsOptionsConfig, P extends boolean> = ReturnType<
  typeof parseArgs<{ options: O & typeof HELP_FLAG; strict: true; allowPositionals: P }>
>;

export type Invocation<O extends ParseArgsOptionsConfig, P extends boolean> = {
  readonly values: Parsed<O, P>['values'];
  readonly positionals: readonly string[];
  /** prints "name: message" and the help on stderr; returns the usage exit status */
  readonly usage: (message: string) => number;
  /** prints "name: message" on stderr; returns the usage exit status */
  readonly refuse: (message: string) => number;
};

/** The parsed invocation, or the exit status when the command is already over (--help, bad flags). */
export function parseCommand<const O extends ParseArgsOptionsConfig, const P extends boolean>(
  argv: readonly string[],
  io: CommandIo,
  spec: CommandSpec<O, P>,
): Invocation<O, P> | number {
  const refuse = (message: string) => {
    io.err(`${spec.name}: ${message}\n`);
    return USAGE;
  };
  const usage = (message: string) => refuse(`${message}\n${spec.help}`);
  let parsed: Parsed<O, P>;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...spec.options, ...HELP_FLAG }, strict: true, allowPositionals: spec.positionals });
  } catch (e) {
    return usage((e as Error).message);
  }
  if ((parsed.values as { readonly help?: boolean }).help) {
    io.out(`${spec.help}\n`);
    return 0;
  }
  return { values: parsed.values, positionals: parsed.positionals, usage, refuse };
}
