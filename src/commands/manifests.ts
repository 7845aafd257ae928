/**
 * `egress-warden manifests`: prints the installation (or writes it as a kustomize base), with the
 * webhooks' caBundle taken from a CA file, or delegated to cert-manager.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  DEFAULT_NAME, DEFAULT_NAMESPACE, optionProblems, removalOrder, renderInstallation, renderKustomization, serviceHost, tlsSecretName,
  type FailurePolicy, type InstallOptions, type ManifestFile,
} from '../manifests/install.ts';
import { renderChart } from '../manifests/helm.ts';
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
                            the two webhook configurations, nothing that runs in the cluster
  --failure-policy P        Ignore (default) or Fail, for ServiceEntry/VirtualService/Egress validation:
                            install with Ignore, switch to Fail once \`egress-warden doctor\` passes
  --namespace-label K=V     send only namespaces labelled K=V to the webhooks (staged rollout)
  --uninstall               print the objects in removal order (webhook configurations first)
                            for \`kubectl delete -f -\`
  --write DIR               write a kustomize base into DIR instead of printing
  --helm DIR                write the Helm chart into DIR (made from the same objects; takes no other flag)

Without --ca or --cert-manager, caBundle is left out: set it before the webhooks can be called.
The serving certificate lives in Secret <name>-tls (tls.crt, tls.key, ca.crt) with the DNS name
<name>.<namespace>.svc.`;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

type Ca = { readonly pem: string; readonly notes: readonly string[] };

/** The CERTIFICATE blocks of a CA file, checked and normalized, or why they cannot be used. */
export function readCaBundle(text: string, file: string, now: Date): Ca | { readonly error: string } {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.some((b) => b[1]?.includes('PRIVATE KEY'))) return { error: `--ca ${file} holds a private key; pass the CA certificate (ca.crt)` };
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
    if (new Date(cert.validTo) < now) notes.push(`--ca ${file}: certificate ${i + 1} (${cert.subject.replace(/\n/g, ', ')}) expired on ${cert.validTo}`);
    if (!cert.ca && cert.issuer !== cert.subject) notes.push(`--ca ${file}: certificate ${i + 1} is not a CA; the API server trusts it only as the serving certificate itself`);
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
} as const;

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
  if (policy !== undefined && policy !== 'Fail' && policy !== 'Ignore') return refuse(`--failure-policy must be Fail or Ignore, got "${policy}"`);
  const label = flags['namespace-label'];
  const eq = label?.indexOf('=') ?? -1;
  if (label !== undefined && eq < 1) return refuse(`--namespace-label must be KEY=VALUE, got "${label}"`);

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
  };
  const problems = optionProblems(options);
  if (problems.length) return refuse(problems.join('\nmanifests: '));

  if (flags.uninstall) {
    if (flags.write !== undefined) return refuse('--uninstall prints for `kubectl delete -f -`; it cannot be combined with --write');
    io.out(toYaml(removalOrder(renderInstallation(options))));
    return 0;
  }
  if (options.url !== undefined && caPem === undefined) {
    io.err(`manifests: note: no --ca, so the API server verifies ${options.url} against its system roots\n`);
  }
  if (options.url === undefined && caPem === undefined && !options.certManager) {
    const name = options.name ?? DEFAULT_NAME;
    const ns = options.namespace ?? DEFAULT_NAMESPACE;
    io.err(`manifests: note: caBundle is left out; pass --ca or --cert-manager, and create Secret ${ns}/${tlsSecretName(name)} for ${serviceHost(name, ns)}\n`);
  }

  if (flags.write === undefined) {
    io.out(toYaml(renderInstallation(options)));
    return 0;
  }
  return writeFiles(renderKustomization(options), flags.write, io, refuse);
};

async function writeFiles(files: readonly ManifestFile[], dir: string, io: CommandIo, refuse: (message: string) => number): Promise<number> {
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
