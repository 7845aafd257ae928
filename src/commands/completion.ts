/**
 * `egress-warden completion bash|zsh|fish`: a completion script for the shell. Each command's flags
 * are read from its own --help, so the script cannot name a flag the command does not take; finding
 * codes complete after `help`.
 */
import { CODES } from '../catalogue/findings.ts';
import { captureIo, type Command, type CommandIo } from './io.ts';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

export type CommandTable = Readonly<Record<string, { readonly about: string; readonly load: () => Promise<Command> }>>;

/** The long flags a command's usage text names, in order, once each. */
export function flagsOf(help: string): string[] {
  return [...new Set([...help.matchAll(/(?:^|[\s[|,])(--[a-z][a-z0-9-]*)/g)].map((m) => m[1]!))];
}

async function flagTable(commands: CommandTable): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const [name, c] of Object.entries(commands)) {
    const io = captureIo();
    await (await c.load())(['--help'], io);
    out.set(name, flagsOf(io.stdout() + io.stderr()));
  }
  return out;
}

const bash = (
  names: string[],
  flags: Map<string, string[]>,
): string => `# egress-warden completion for bash: source <(egress-warden completion bash)
_egress_warden() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]}
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=($(compgen -W "${[...names, 'help', '--version'].join(' ')}" -- "$cur")); return; fi
  case "$cmd" in
${[...flags].map(([n, f]) => `    ${n}) COMPREPLY=($(compgen -W "${f.join(' ')}" -f -- "$cur")) ;;`).join('\n')}
    help) COMPREPLY=($(compgen -W "${[...names, ...CODES].join(' ')}" -- "$cur")) ;;
  esac
}
complete -o default -F _egress_warden egress-warden
`;

const zsh = (names: string[], flags: Map<string, string[]>): string => `#compdef egress-warden
# egress-warden completion for zsh: egress-warden completion zsh > "\${fpath[1]}/_egress-warden"
_egress_warden() {
  if (( CURRENT == 2 )); then compadd -- ${[...names, 'help', '--version'].join(' ')}; return; fi
  case $words[2] in
${[...flags].map(([n, f]) => `    ${n}) compadd -- ${f.join(' ')}; _files ;;`).join('\n')}
    help) compadd -- ${[...names, ...CODES].join(' ')} ;;
  esac
}
compdef _egress_warden egress-warden
`;

const fish = (names: string[], flags: Map<string, string[]>): string =>
  [
    '# egress-warden completion for fish: egress-warden completion fish > ~/.config/fish/completions/egress-warden.fish',
    'complete -c egress-warden -f',
    ...[...names, 'help'].map((n) => `complete -c egress-warden -n __fish_use_subcommand -a ${n}`),
    ...[...flags].flatMap(([n, f]) =>
      f.map((flag) => `complete -c egress-warden -n '__fish_seen_subcommand_from ${n}' -l ${flag.slice(2)} -F`),
    ),
    `complete -c egress-warden -n '__fish_seen_subcommand_from help' -a '${[...names, ...CODES].join(' ')}'`,
    '',
  ].join('\n');

export async function runCompletion(argv: readonly string[], io: CommandIo, commands: CommandTable): Promise<number> {
  const shell = argv[0];
  if (argv.length !== 1 || !(SHELLS as readonly string[]).includes(shell!)) {
    io.err(`usage: egress-warden completion ${SHELLS.join('|')}\nprints a completion script for the shell\n`);
    return argv[0] === '--help' || argv[0] === '-h' ? 0 : 2;
  }
  const names = Object.keys(commands);
  const flags = await flagTable(commands);
  io.out({ bash, zsh, fish }[shell as Shell](names, flags));
  return 0;
}
