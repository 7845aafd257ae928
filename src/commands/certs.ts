/** `egress-warden certs`: a CA and a serving certificate for the webhook Service, and the caller token. */
import { join } from 'node:path';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { TOKEN_FILE_NAME } from '../catalogue/endpoints.ts';
import { caBundle, FILES, generateCertificates, loadCa, subjectAltNames, writeCertificates } from '../tls.ts';
import { newToken, readTokens, writeToken, tokenProblem } from '../token.ts';
import { parseCommand } from './flags.ts';
import type { Command } from './io.ts';

const HELP = `usage: egress-warden certs [--dir certs] [--service egress-warden] [--namespace egress-warden]
                          [--days 365] [--san NAME_OR_IP ...] [--force] [--keep-ca] [--bundle] [--new-token]
Writes ca.crt, ca.key, tls.crt and tls.key (the keys with mode 0600), and the caller token in
token (mode 0600) when there is none: the API server calls /validate/<token> and /mutate/<token>
(\`serve --token-file\`, \`manifests --token-file\`). If tls.crt exists, stops with status 2 unless
--force or --keep-ca is given; an existing token is kept either way.
  --keep-ca    renew only the serving certificate, signed by the CA already in --dir (ca.crt and
               ca.key): the webhooks' caBundle stays valid, so nothing else has to change
  --bundle     also write ca-bundle.crt: the CA that was in --dir before (if any) followed by the new
               one, for caBundle while a new CA is rolled out
  --new-token  replace the token too; the webhook configurations must then be rendered again
               (rotation without refused calls: docs/install.md#rotate-the-caller-token)`;

const OPTIONS = {
  dir: { type: 'string', default: 'certs' },
  service: { type: 'string', default: 'egress-warden' },
  namespace: { type: 'string', default: 'egress-warden' },
  days: { type: 'string', default: '365' },
  san: { type: 'string', multiple: true, default: [] as string[] },
  force: { type: 'boolean', default: false },
  'keep-ca': { type: 'boolean', default: false },
  bundle: { type: 'boolean', default: false },
  'new-token': { type: 'boolean', default: false },
} as const;

/**
 * Whether to write a new token or keep the one in the file: a token already registered in webhook
 * configurations must survive a certificate renewal. An unusable file is not silently replaced.
 */
async function tokenPlan(file: string, renew: boolean): Promise<'write' | 'keep' | { readonly error: string }> {
  if (
    renew ||
    !(await stat(file).then(
      () => true,
      () => false,
    ))
  )
    return 'write';
  try {
    await readTokens(file);
    return 'keep';
  } catch (e) {
    return { error: `${tokenProblem(e)}; pass --new-token to replace it` };
  }
}

export const runCerts: Command = async (argv, io) => {
  const run = parseCommand(argv, io, { name: 'certs', help: HELP, options: OPTIONS, positionals: false });
  if (typeof run === 'number') return run;
  const { values, refuse } = run;
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    return refuse(`--days must be a whole number from 1 to 3650, got "${values.days}"`);
  const existing = await stat(join(values.dir, FILES.cert)).then(
    () => true,
    () => false,
  );
  if (existing && !values.force && !values['keep-ca'])
    return refuse(`${join(values.dir, FILES.cert)} already exists; pass --force to replace it, or --keep-ca to renew it under the same CA`);
  const ca = values['keep-ca'] ? await loadCa(values.dir) : undefined;
  if (typeof ca === 'string') return refuse(`--keep-ca: ${ca}`);
  const previousCa = await readFile(join(values.dir, FILES.ca), 'utf8').catch(() => undefined);
  const tokenFile = join(values.dir, TOKEN_FILE_NAME);
  // decided before anything is written, so a refusal leaves the directory as it was
  const token = await tokenPlan(tokenFile, values['new-token']);
  if (typeof token === 'object') return refuse(token.error);
  const opts = { service: values.service, namespace: values.namespace, days, sans: values.san };
  const pems = await generateCertificates(opts, ca);
  await writeCertificates(values.dir, pems);
  const written = [FILES.ca, FILES.caKey, FILES.cert, FILES.key].map((f) => join(values.dir, f));
  if (values.bundle) {
    await writeFile(join(values.dir, FILES.bundle), caBundle([...(previousCa ? [previousCa] : []), pems.caCert]));
    written.push(join(values.dir, FILES.bundle));
  }
  if (token === 'write') {
    await writeToken(tokenFile, newToken());
    written.push(tokenFile);
  }
  const kept = [...(ca ? ['the CA was kept'] : []), ...(token === 'keep' ? [`the token in ${tokenFile} was kept`] : [])];
  io.out(`wrote ${written.join(', ')} (valid ${days} days${kept.map((k) => `; ${k}`).join('')})\n`);
  io.out(`names: ${subjectAltNames(opts).join(', ')}\n`);
  return 0;
};
