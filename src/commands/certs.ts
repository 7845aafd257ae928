/** `egress-warden certs`: a CA and a serving certificate for the webhook Service. */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { FILES, generateCertificates, subjectAltNames, writeCertificates } from '../tls.ts';
import { parseCommand } from './flags.ts';
import type { Command } from './io.ts';

const HELP = `usage: egress-warden certs [--dir certs] [--service egress-warden] [--namespace egress-warden]
                          [--days 365] [--san NAME_OR_IP ...] [--force]
Writes ca.crt, tls.crt and tls.key (the key with mode 0600). If tls.crt exists, stops with status 2
unless --force is given.`;

const OPTIONS = {
  dir: { type: 'string', default: 'certs' }, service: { type: 'string', default: 'egress-warden' },
  namespace: { type: 'string', default: 'egress-warden' }, days: { type: 'string', default: '365' },
  san: { type: 'string', multiple: true, default: [] as string[] }, force: { type: 'boolean', default: false },
} as const;

export const runCerts: Command = async (argv, io) => {
  const run = parseCommand(argv, io, { name: 'certs', help: HELP, options: OPTIONS, positionals: false });
  if (typeof run === 'number') return run;
  const { values, refuse } = run;
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650) return refuse(`--days must be a whole number from 1 to 3650, got "${values.days}"`);
  const existing = await stat(join(values.dir, FILES.cert)).then(() => true, () => false);
  if (existing && !values.force) return refuse(`${join(values.dir, FILES.cert)} already exists; pass --force to replace it`);
  const opts = { service: values.service, namespace: values.namespace, days, sans: values.san };
  await writeCertificates(values.dir, await generateCertificates(opts));
  io.out(`wrote ${join(values.dir, FILES.ca)}, ${join(values.dir, FILES.cert)}, ${join(values.dir, FILES.key)} (valid ${days} days)\n`);
  io.out(`names: ${subjectAltNames(opts).join(', ')}\n`);
  return 0;
};
