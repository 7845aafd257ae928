/**
 * What `egress-warden doctor` asks the API server, beyond what the cluster view reads: single
 * objects, dry-run creates, access reviews, and the certificate a URL-registered server presents.
 * Everything here reads or is a dry run: the doctor changes nothing in the cluster. kube.ts
 * implements it on @kubernetes/client-node (adminApi).
 */
import { connect, type DetailedPeerCertificate } from 'node:tls';
import type { KubeObject } from '../admission/types.ts';
import type { ClusterApi } from './api.ts';

/** One question for an access review: a verb on a resource, optionally in a namespace or by name. */
export type AccessQuestion = {
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
  readonly namespace?: string;
  readonly name?: string;
};

export type AccessAnswer = { readonly allowed: boolean; readonly reason: string };

export type AdminApi = {
  /** how the cluster was selected, for the report */
  readonly source: string;
  /** the kubeconfig context's namespace (where a locally run server sends its dry-run probe) */
  readonly namespace: string;
  /** the cluster view's reads, for CIDR detection in `namespace` */
  readonly cluster: (namespace: string) => ClusterApi;
  /** an object, or undefined when it does not exist; throws ApiError on other failures */
  readonly get: (apiVersion: string, kind: string, name: string, namespace?: string) => Promise<KubeObject | undefined>;
  readonly listNamespaces: () => Promise<KubeObject[]>;
  /** a dry-run create: undefined when the API server accepted it, else its error message */
  readonly dryRunCreate: (obj: KubeObject) => Promise<string | undefined>;
  /** SelfSubjectAccessReview without `user`, SubjectAccessReview for `user` */
  readonly canI: (q: AccessQuestion, user?: string) => Promise<AccessAnswer>;
  /** the PEM certificate chain a TLS server presents (leaf first), whatever it is signed by */
  readonly servedChain: (host: string, port: number) => Promise<string[]>;
};

const pem = (raw: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${raw
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END CERTIFICATE-----\n`;

/** The PEM chain a TLS server presents; kube.ts's adminApi uses it for URL-registered webhooks. */
export function servedChain(host: string, port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ip = /^[\d.]+$|:/.test(host);
    const socket = connect({ host, port, rejectUnauthorized: false, ...(ip ? {} : { servername: host }), timeout: 5000 }, () => {
      const chain: string[] = [];
      const seen = new Set<string>();
      let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (c?.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        chain.push(pem(c.raw));
        c = c.issuerCertificate;
      }
      socket.end();
      resolve(chain);
    });
    socket.once('timeout', () => socket.destroy(new Error(`no TLS handshake with ${host}:${port} within 5 s`)));
    socket.once('error', reject);
  });
}
