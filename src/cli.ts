#!/usr/bin/env node
/** The `egress-warden` command: dispatches to one command module, loaded on demand. */
import { readFileSync } from 'node:fs';
import type { Command, CommandIo } from './commands/io.ts';

const COMMANDS: Record<string, { readonly about: string; readonly load: () => Promise<Command> }> = {
  serve: { about: 'run the admission webhook over HTTPS', load: async () => (await import('./commands/serve.ts')).runServe },
  check: { about: "validate manifests offline with the webhook's rules", load: async () => (await import('./commands/check.ts')).runCheck },
  audit: {
    about: 'judge what a live cluster stores and list pods whose capture went stale',
    load: async () => (await import('./commands/audit.ts')).runAudit,
  },
  explain: {
    about: 'say whether a pod reaches a destination through its mesh, and if not, why',
    load: async () => (await import('./commands/explain.ts')).runExplain,
  },
  cidrs: {
    about: 'print the detected pod and service CIDRs and where they came from',
    load: async () => (await import('./commands/cidrs.ts')).runCidrs,
  },
  manifests: {
    about: 'render the installation (RBAC, Deployment, webhook configurations)',
    load: async () => (await import('./commands/manifests.ts')).runManifests,
  },
  certs: { about: 'write a CA and a serving certificate', load: async () => (await import('./commands/certs.ts')).runCerts },
  doctor: {
    about: 'check an installation (or a cluster before one) and say what to fix',
    load: async () => (await import('./commands/doctor.ts')).runDoctor,
  },
};

const HELP = `egress-warden: admission webhook for Istio and OSM egress objects and sidecar capture ranges

usage: egress-warden <command> [flags]   (egress-warden help <command> for its flags)
       egress-warden help EWnnn            (what a finding code means and how to fix it)
       egress-warden --version
       egress-warden completion bash|zsh|fish   (a shell completion script)

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.about}`)
  .join('\n')}
`;

const io: CommandIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  readStdin: async (maxBytes = Number.POSITIVE_INFINITY) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const c of process.stdin) {
      chunks.push(c as Buffer);
      bytes += (c as Buffer).length;
      // leaving the loop closes stdin: the writer gets EPIPE instead of filling memory here
      if (bytes > maxBytes) break;
    }
    return Buffer.concat(chunks).toString('utf8');
  },
  env: process.env,
};

const [first, ...operands] = process.argv.slice(2);
if (first === 'help' && operands[0] !== undefined && /^EW\d{3}$/i.test(operands[0])) {
  const { codeHelp, isCode } = await import('./commands/code-help.ts');
  if (isCode(operands[0])) process.exit(codeHelp(operands[0], io));
  io.err(`egress-warden: no finding code ${operands[0]}\n`);
  process.exit(2);
}
if (first === 'completion') {
  const { runCompletion } = await import('./commands/completion.ts');
  process.exit(await runCompletion(operands, io, COMMANDS));
}
// `help CMD` is `CMD --help`: the command prints its own flags
const [name, rest] = first === 'help' && operands[0] !== undefined ? [operands[0], ['--help']] : [first, operands];
if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
  io.out(HELP);
  process.exitCode = name === undefined ? 2 : 0;
} else if (name === 'version' || name === '--version') {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  io.out(`${pkg.version}\n`);
} else if (!COMMANDS[name]) {
  io.err(`egress-warden: unknown command "${name}"\n\n${HELP}`);
  process.exitCode = 2;
} else {
  try {
    process.exitCode = await (await COMMANDS[name].load())(rest, io);
  } catch (e) {
    io.err(`egress-warden ${name}: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
  // A command is over when it returns (serve returns after its drain): no timer or socket left
  // behind may keep the process alive past that.
  process.exit();
}
