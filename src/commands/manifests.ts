/**
 * `egress-warden manifests`: prints the installation (or writes it as a kustomize base), with the
 * webhooks' caBundle taken from a CA file, or delegated to cert-manager.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TOKEN_FILE_NAME } from '../catalogue/endpoints.ts';
import {
  DEFAULT_NAME,
  DEFAULT_NAMESPACE,
  optionProblems,
  removalOrder,
  renderInstallation,
  renderKustomization,
  servicePathTokenProblem,
  serviceHost,
  tlsSecretName,
  tokenSecretName,
  type FailurePolicy,
  type InstallOptions,
  type ManifestFile,
} from '../manifests/install.ts';
import { renderChart } from '../manifests/helm.ts';
import { newToken, parseTokens, readTokens, tokenProblem } from '../token.ts';
import { toYaml } from '../yaml.ts';
import { parseCommand } from './flags.ts';
import type { Command, CommandIo } from './io.ts';

const HELP = `usage: egress-warden manifests [options]

Prints the installation as YAML for \`kubectl apply -f -\`.

  --namespace NS            namespace to install into (default ${DEFAULT_NAMESPACE})
  --name NAME               name of every object and of the webhook configurations (default ${DEFAULT_NAME});
                            must sort before istio-sidecar-injector
  --image IMG               container image (default: this version's tag)
  --ca FILE                 PEM CA that signed the serving certificate; fills every caBundle
  --cert-manager            issue the certificate with cert-manager; its cainjector fills caBundle
  --url https://HOST:PORT   register the webhooks by URL (a server outside the cluster): prints only
                            the two webhook configurations, nothing that runs in the cluster; needs
                            --token-file (or --no-token)
  --token-file FILE         caller tokens, one per line (\`egress-warden certs\` writes certs/token): the
                            first goes into every webhook path, all of them into Secret <name>-token
  --no-token                register bare paths, for a server run with \`serve --insecure-no-token\`
                            (in the cluster: no token Secret, and the Deployment passes that flag)
  --allow-from CIDR[,CIDR]  the only sources the NetworkPolicy admits (default: anywhere, because the
                            API server's address differs by platform; docs/install.md)
  --failure-policy P        Ignore (default) or Fail, for ServiceEntry/VirtualService/Egress validation:
                            install with Ignore, switch to Fail once \`egress-warden doctor\` passes
  --namespace-label K=V     send only namespaces labelled K=V to the webhooks (staged rollout)
  --uninstall               print the objects in removal order (webhook configurations first)
                            for \`kubectl delete -f -\`
  --write DIR               write a kustomize base into DIR instead of printing
  --helm DIR                write the Helm chart into DIR (made from the same objects; takes no other flag)

Without --ca or --cert-manager, caBundle is left out: set it before the webhooks can be called.
The serving certificate lives in Secret <name>-tls (tls.crt, tls.key, ca.crt) with the DNS name
<name>.<namespace>.svc.

In the cluster, the API server calls /validate/<token> and /mutate/<token>; the server reads the
tokens from Secret <name>-token. Without --token-file each rendering makes a new random token, so
re-rendering an install without it rotates the token at once: pass --token-file to keep it.
--write reads the token from DIR/base/token instead (created when missing, never overwritten, never
in the YAML).`;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

type Ca = { readonly pem: string; readonly notes: readonly string[] };

/** The CERTIFICATE blocks of a CA file, checked and normalized, or why they cannot be used. */
export function readCaBundle(text: string, file: string, now: Date): Ca | { readonly error: string } {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.some((b) => b[1]?.includes('PRIVATE KEY')))
    return { error: `--ca ${file} holds a private key; pass the CA certificate (ca.crt)` };
  const certs = blocks.filter((b) => b[1] === 'CERTIFICATE').map((b) => b[0]);
  if (certs.length === 0) return { error: `--ca ${file} holds no PEM certificate` };
  const notes: string[] = [];
  for (const [i, pem] of certs.entries()) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch {
      return { error: `--ca ${file}: certificate ${i + 1} does not parse` };
    }
    if (new Date(cert.validTo) < now)
      notes.push(`--ca ${file}: certificate ${i + 1} (${cert.subject.replace(/\n/g, ', ')}) expired on ${cert.validTo}`);
    if (!cert.ca && cert.issuer !== cert.subject)
      notes.push(`--ca ${file}: certificate ${i + 1} is not a CA; the API server trusts it only as the serving certificate itself`);
  }
  return { pem: `${certs.join('\n')}\n`, notes };
}

const OPTIONS = {
  namespace: { type: 'string' },
  name: { type: 'string' },
  image: { type: 'string' },
  ca: { type: 'string' },
  'cert-manager': { type: 'boolean' },
  url: { type: 'string' },
  'failure-policy': { type: 'string' },
  'namespace-label': { type: 'string' },
  uninstall: { type: 'boolean' },
  helm: { type: 'string' },
  write: { type: 'string' },
  'token-file': { type: 'string' },
  'no-token': { type: 'boolean' },
  'allow-from': { type: 'string', multiple: true },
} as const;

const URL_NEEDS_TOKEN =
  '--url registers a server outside the cluster, and the API server must call it with its caller token: ' +
  'pass --token-file certs/token (written by `egress-warden certs`, read by `serve --token-file`), ' +
  'or --no-token for a server run with `serve --insecure-no-token`';

/** The tokens of --token-file, or why they cannot be used. */
async function tokensOf(file: string | undefined): Promise<readonly string[] | { readonly error: string } | undefined> {
  if (file === undefined) return undefined;
  try {
    return await readTokens(file);
  } catch (e) {
    return { error: `--token-file: ${tokenProblem(e)}` };
  }
}

export const runManifests: Command = async (argv, io) => {
  const run = parseCommand(argv, io, { name: 'manifests', help: HELP, options: OPTIONS, positionals: false });
  if (typeof run === 'number') return run;
  const { values: flags, refuse } = run;

  if (flags.helm !== undefined) {
    const others = Object.keys(flags).filter((k) => k !== 'helm');
    if (others.length) return refuse(`--helm writes the chart, whose values replace the other flags; drop --${others.join(', --')}`);
    return writeFiles(renderChart(), flags.helm, io, refuse);
  }

  const policy = flags['failure-policy'];
  if (policy !== undefined && policy !== 'Fail' && policy !== 'Ignore')
    return refuse(`--failure-policy must be Fail or Ignore, got "${policy}"`);
  const label = flags['namespace-label'];
  const eq = label?.indexOf('=') ?? -1;
  if (label !== undefined && eq < 1) return refuse(`--namespace-label must be KEY=VALUE, got "${label}"`);
  if (flags['token-file'] !== undefined && flags['no-token']) return refuse('--token-file and --no-token exclude each other');
  const tokens = await tokensOf(flags['token-file']);
  if (tokens !== undefined && 'error' in tokens) return refuse(tokens.error);

  let caPem: string | undefined;
  if (flags.ca !== undefined) {
    let text: string;
    try {
      text = await readFile(flags.ca, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return refuse(`cannot read --ca ${flags.ca}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    const ca = readCaBundle(text, flags.ca, new Date());
    if ('error' in ca) return refuse(ca.error);
    for (const n of ca.notes) io.err(`manifests: warning: ${n}\n`);
    caPem = ca.pem;
  }

  const options: InstallOptions = {
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    ...(flags.image !== undefined ? { image: flags.image } : {}),
    ...(caPem !== undefined ? { caPem } : {}),
    ...(flags['cert-manager'] ? { certManager: true } : {}),
    ...(flags.url !== undefined ? { url: flags.url } : {}),
    ...(policy !== undefined ? { failurePolicy: policy as FailurePolicy } : {}),
    ...(label !== undefined ? { onlyLabelled: { key: label.slice(0, eq), value: label.slice(eq + 1) } } : {}),
    ...(tokens !== undefined ? { tokens } : {}),
    ...(flags['no-token'] ? { noToken: true } : {}),
    ...(flags['allow-from'] !== undefined ? { allowFrom: flags['allow-from'].flatMap((v) => v.split(',')).map((c) => c.trim()) } : {}),
  };
  const problems = optionProblems(options);
  if (problems.length) return refuse(problems.join('\nmanifests: '));
  if (options.url !== undefined && !options.tokens && !options.noToken && !flags.uninstall) return refuse(URL_NEEDS_TOKEN);

  if (flags.uninstall) {
    if (flags.write !== undefined) return refuse('--uninstall prints for `kubectl delete -f -`; it cannot be combined with --write');
    // deletion goes by name: any token names the same Secret
    const named = options.tokens || options.noToken ? options : { ...options, tokens: [newToken()] };
    io.out(toYaml(removalOrder(renderInstallation(named))));
    return 0;
  }
  if (options.url !== undefined && caPem === undefined) {
    io.err(`manifests: note: no --ca, so the API server verifies ${options.url} against its system roots\n`);
  }
  if (options.url === undefined && caPem === undefined && !options.certManager) {
    const name = options.name ?? DEFAULT_NAME;
    const ns = options.namespace ?? DEFAULT_NAMESPACE;
    io.err(
      `manifests: note: caBundle is left out; pass --ca or --cert-manager, and create Secret ${ns}/${tlsSecretName(name)} for ${serviceHost(name, ns)}\n`,
    );
  }

  if (flags.write === undefined) {
    if (options.url === undefined && !options.tokens && !options.noToken) {
      const name = options.name ?? DEFAULT_NAME;
      const ns = options.namespace ?? DEFAULT_NAMESPACE;
      io.err(
        `manifests: note: a new caller token was made for Secret ${ns}/${tokenSecretName(name)} and the webhook paths; ` +
          'applied over a running install it replaces the token at once, and calls are refused until the pods see the new Secret: ' +
          'pass --token-file to keep the token (docs/install.md#the-caller-token)\n',
      );
    }
    io.out(toYaml(renderInstallation(options.tokens || options.noToken ? options : { ...options, tokens: [newToken()] })));
    return 0;
  }
  const tokenFile = join(flags.write, 'base', TOKEN_FILE_NAME);
  const kept = options.noToken ? undefined : await keptToken(tokenFile, options.tokens?.[0], options.url === undefined);
  if (typeof kept === 'string') return refuse(kept);
  const written = await writeFiles(renderKustomization(options), flags.write, io, refuse);
  if (written !== 0 || options.noToken || kept?.exists) return written;
  try {
    // no newline: kustomize copies the file's bytes into the webhook paths
    await writeFile(tokenFile, options.tokens?.[0] ?? newToken(), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    return refuse(`cannot write ${tokenFile}: ${(e as Error).message}`);
  }
  io.out(`${tokenFile}\n`);
  return 0;
};

/**
 * Whether the kustomize token file exists and can be used as it is, or why not. It is never
 * overwritten: it is the running installation's token.
 */
async function keptToken(file: string, wanted: string | undefined, inServicePath: boolean): Promise<{ readonly exists: boolean } | string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { exists: false };
  }
  let tokens: string[];
  try {
    tokens = parseTokens(text, file);
  } catch (e) {
    return `${tokenProblem(e)}; remove it to get a new one`;
  }
  if (tokens.length !== 1 || text !== tokens[0]) {
    return (
      `${file} must hold exactly one token and no newline, because kustomize copies the whole file into the webhook paths: ` +
      `rewrite it with printf '%s' TOKEN > ${file}`
    );
  }
  const refused = inServicePath ? servicePathTokenProblem(tokens[0]!) : undefined;
  if (refused) return `${file}: ${refused} (or remove the file: --write then makes a new token)`;
  if (wanted !== undefined && wanted !== tokens[0]) {
    return `${file} holds another token than --token-file; it is never overwritten: remove it to take the one from --token-file, or drop --token-file`;
  }
  return { exists: true };
}

async function writeFiles(
  files: readonly ManifestFile[],
  dir: string,
  io: CommandIo,
  refuse: (message: string) => number,
): Promise<number> {
  try {
    for (const f of files) {
      const path = join(dir, f.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, f.text);
      io.out(`${path}\n`);
    }
  } catch (e) {
    return refuse(`cannot write ${dir}: ${(e as Error).message}`);
  }
  return 0;
}
