/**
 * Client certificates for tests: a CA of its own and a leaf it signs for TLS client authentication,
 * the pair an API server presents to a webhook (or an intruder presents with a CA nobody trusts).
 */
import { randomBytes } from 'node:crypto';
import { generate } from 'selfsigned';

export type ClientPems = {
  /** the CA that signed `cert`: what a server given --client-ca trusts */
  readonly caCert: string;
  /** the CA's key, to sign more client certificates with (another name, same CA) */
  readonly caKey: string;
  readonly cert: string;
  readonly key: string;
  readonly name: string;
};

/**
 * A client certificate with `name` as its CN (no SANs: what kubeadm-style client certificates look
 * like), signed by `ca` or by a new CA. ECDSA P-256 and SHA-256, which Go's and Node's TLS stacks
 * both accept.
 */
export async function clientCertificates(
  name: string,
  opts: { readonly ca?: { readonly cert: string; readonly key: string }; readonly days?: number } = {},
): Promise<ClientPems> {
  // backdated: the test machine and a server's clock need not agree to the second
  const notBeforeDate = new Date(Date.now() - 5 * 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + (opts.days ?? 2) * 86_400_000);
  const ca = opts.ca
    ? { cert: opts.ca.cert, private: opts.ca.key }
    : await generate([{ name: 'commonName', value: `${name}-ca-${randomBytes(4).toString('hex')}` }], {
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
  const leaf = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  return { caCert: ca.cert, caKey: ca.private, cert: leaf.cert, key: leaf.private, name };
}
