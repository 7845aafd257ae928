/**
 * Serving certificates: generation (a CA plus a leaf signed by it), loading, and reloading when the
 * files change (a rotated Secret or cert-manager renewal). The only module that imports selfsigned.
 */
import { createSecureContext } from 'node:tls';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { followDirectory } from './follow.ts';
import { errorText } from './json.ts';
import { generate } from 'selfsigned';
import { isIp } from './net/cidr.ts';

export type Pems = {
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
  /** the CA's private key, kept so a later serving certificate can be signed by the same CA */
  readonly caKey?: string;
};

/** A CA to sign with instead of generating one. */
export type CaPair = { readonly cert: string; readonly key: string };

export const FILES = { ca: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key', bundle: 'ca-bundle.crt' } as const;

export type CertOptions = {
  readonly service: string;
  readonly namespace: string;
  readonly days: number;
  /** extra DNS names or IP addresses */
  readonly sans?: readonly string[];
};

/** The names the API server may dial: the Service in every spelling, plus local development. */
export function subjectAltNames({ service, namespace, sans = [] }: CertOptions): string[] {
  const names = [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
    'localhost',
    '127.0.0.1',
    ...sans,
  ];
  return [...new Set(names)];
}

/**
 * A CA and a serving certificate it signs. SHA-256 and ECDSA P-256: the API server is a Go client,
 * which rejects SHA-1 signatures and ignores the CN, so every name it dials must be a SAN.
 * Given `ca`, the serving certificate is signed by it and no CA is made: a renewal that leaves
 * the webhook's caBundle as it is.
 */
export async function generateCertificates(opts: CertOptions, existing?: CaPair): Promise<Pems> {
  const notBeforeDate = new Date(Date.now() - 5 * 60_000); // tolerate clock skew between nodes
  const notAfterDate = new Date(notBeforeDate.getTime() + opts.days * 86_400_000);
  const ca = existing ? { cert: existing.cert, private: existing.key } : await generateCa(opts, notBeforeDate, notAfterDate);
  const altNames = subjectAltNames(opts).map((n) => (isIp(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }));
  const leaf = await generate([{ name: 'commonName', value: `${opts.service}.${opts.namespace}.svc` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { caCert: ca.cert, cert: leaf.cert, key: leaf.private, caKey: ca.private };
}

async function generateCa(opts: CertOptions, notBeforeDate: Date, notAfterDate: Date) {
  // A distinct CA name per generation: selfsigned writes no key identifiers, so clients that trust
  // the old and the new CA during a rotation tell them apart by issuer name alone.
  const caName = `${opts.service}-ca-${randomBytes(4).toString('hex')}`;
  return generate([{ name: 'commonName', value: caName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
}

/**
 * The CA in `dir` (ca.crt and ca.key), proven to be a CA whose key matches, or a message saying
 * what is missing or wrong.
 */
export async function loadCa(dir: string): Promise<CaPair | string> {
  const [cert, key] = await Promise.all([
    readFile(join(dir, FILES.ca), 'utf8').catch(() => undefined),
    readFile(join(dir, FILES.caKey), 'utf8').catch(() => undefined),
  ]);
  if (cert === undefined || key === undefined) {
    return `${join(dir, cert === undefined ? FILES.ca : FILES.caKey)} is missing: only a CA made by egress-warden certs (which keeps ca.key) can be kept`;
  }
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.ca) return `${join(dir, FILES.ca)} is not a CA certificate`;
    if (!x509.checkPrivateKey(createPrivateKey(key))) return `${join(dir, FILES.caKey)} is not the key of ${join(dir, FILES.ca)}`;
    if (new Date(x509.validTo).getTime() < Date.now()) return `${join(dir, FILES.ca)} expired on ${x509.validTo}`;
  } catch (e) {
    return `${join(dir, FILES.ca)} and ${FILES.caKey} cannot be read: ${(e as Error).message}`;
  }
  return { cert, key };
}

/** A PEM file ends with a newline, so `cat old/ca.crt new/ca.crt` is a valid bundle. */
const pemFile = (pem: string): string => (pem.endsWith('\n') ? pem : `${pem}\n`);

/** Private keys are written with mode 0600, also over an existing file of another mode. */
async function writeSecret(path: string, pem: string): Promise<void> {
  await writeFile(path, pemFile(pem), { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function writeCertificates(dir: string, pems: Pems): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, FILES.ca), pemFile(pems.caCert));
  if (pems.caKey !== undefined) await writeSecret(join(dir, FILES.caKey), pems.caKey);
  await writeFile(join(dir, FILES.cert), pemFile(pems.cert));
  await writeSecret(join(dir, FILES.key), pems.key);
}

/** Several CA certificates as one PEM bundle, each ending with a newline; duplicates dropped. */
export const caBundle = (cas: readonly string[]): string => [...new Set(cas.map((c) => pemFile(c.trim())))].join('');

export type ServingPair = { readonly cert: string; readonly key: string; readonly notAfter: Date; readonly fingerprint: string };

/** Reads tls.crt/tls.key and proves they form a usable pair before anyone serves them. */
export async function loadServingPair(dir: string): Promise<ServingPair> {
  const [cert, key] = await Promise.all([readFile(join(dir, FILES.cert), 'utf8'), readFile(join(dir, FILES.key), 'utf8')]);
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new Error(`tls: ${join(dir, FILES.cert)} and ${FILES.key} do not form a usable pair: ${(e as Error).message}`);
  }
  const x509 = new X509Certificate(cert);
  return { cert, key, notAfter: new Date(x509.validTo), fingerprint: x509.fingerprint256 };
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** Loads the pair, generating a development CA and certificate first when the directory has none. */
export async function ensureServingPair(dir: string, opts: CertOptions): Promise<{ pair: ServingPair; generated: boolean }> {
  if ((await exists(join(dir, FILES.cert))) || (await exists(join(dir, FILES.key))))
    return { pair: await loadServingPair(dir), generated: false };
  const pems = await generateCertificates(opts);
  // A served directory gets no CA key: whoever can read the serving key should not be able to mint more.
  await writeCertificates(dir, { caCert: pems.caCert, cert: pems.cert, key: pems.key });
  return { pair: await loadServingPair(dir), generated: true };
}

/** The CA whose client certificates the admission paths accept, checked to be one before serving. */
export async function loadClientCa(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`tls: cannot read --client-ca ${file}: ${(e as NodeJS.ErrnoException).code ?? errorText(e)}`);
  }
  try {
    new X509Certificate(pem);
  } catch (e) {
    throw new Error(`tls: --client-ca ${file} is not a PEM certificate: ${errorText(e)}`);
  }
  return pem;
}

/**
 * Calls `onChange` with the new pair whenever the files in `dir` change to a different, valid pair;
 * a half-written pair goes to `onError` and the old one keeps being served until the next change.
 */
export function watchServingPair(
  dir: string,
  current: ServingPair,
  onChange: (pair: ServingPair) => void,
  onError: (e: Error) => void,
  pollMs = 10_000,
): () => void {
  return followDirectory(
    dir,
    current,
    () => loadServingPair(dir),
    (a, b) => a.fingerprint === b.fingerprint,
    onChange,
    onError,
    pollMs,
  );
}
