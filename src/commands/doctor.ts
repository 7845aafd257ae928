/**
 * `egress-warden doctor`: checks an installation (or, with --preflight, a cluster about to get one)
 * the way the API server will use it, and says what to do about each problem. It only reads and
 * makes dry-run writes.
 */
import { X509Certificate } from 'node:crypto';
import type { KubeObject } from '../admission/types.ts';
import { ENDPOINT_NAMES, ENDPOINTS, type EndpointName } from '../catalogue/endpoints.ts';
import { BYPASS, IGNORE_LABEL, MODE_LABEL } from '../catalogue/keys.ts';
import { JUDGED_KINDS } from '../catalogue/kinds.ts';
import { isMode } from '../catalogue/modes.ts';
import { apiMessage, apiStatus } from '../cluster/api.ts';
import type { AccessQuestion, AdminApi } from '../cluster/admin.ts';
import { detectCidrs, rangeRows, usesDefaults } from '../cluster/detect.ts';
import { gatherAll } from '../cluster/gather.ts';
import { ACCESS, resourceName } from '../cluster/resources.ts';
import {
  DEFAULT_NAME,
  DEFAULT_NAMESPACE,
  NAMESPACES_WEBHOOK,
  renderInstallation,
  scopeSelector,
  serviceHost,
  tlsSecretName,
  tokenSecretName,
  VALIDATE_WEBHOOK,
} from '../manifests/install.ts';
import { newToken, parseTokens, readTokens, tokenProblem } from '../token.ts';
import { parseCommand } from './flags.ts';
import type { Command, CommandIo } from './io.ts';

export const DOCTOR_USAGE = `usage: egress-warden doctor [--name egress-warden] [--namespace egress-warden] [--cert-manager]
                           [--token-file FILE] [--preflight] [--kubeconfig FILE] [--output text|json]

Checks, against the cluster: the mesh CRDs; cert-manager (with --cert-manager, or when the webhook
configurations ask for its CA injection); both webhook configurations and their caBundle; the
served certificate against that caBundle; the caller token in every webhook path against the
server's (Secret <name>-token, or --token-file: the file \`serve --token-file\` reads); a dry-run
write through the webhook, as the API server makes it; the permissions egress-warden needs (for the ServiceAccount <name> of an in-cluster
install, else for you, who run \`serve --url\`; with --preflight, yours to create the installation);
the namespaces the webhooks see and their modes;
the detected pod and service CIDRs and where each came from.

  --preflight   before installing: missing webhook configurations are expected, not a failure
exit status: 0 no check failed (warnings may be shown); 1 a check failed or the cluster could not be
reached; 2 bad usage`;

export type Status = 'ok' | 'warn' | 'fail' | 'skip';

export type Check = {
  readonly name: string;
  readonly status: Status;
  readonly summary: string;
  readonly details?: readonly string[];
  /** what to do about it */
  readonly fix?: string;
};

export type DoctorReport = { readonly cluster: string; readonly checks: readonly Check[] };

type Webhook = {
  readonly name?: string;
  readonly failurePolicy?: string;
  readonly clientConfig?: {
    readonly caBundle?: string;
    readonly url?: string;
    readonly service?: { readonly name?: string; readonly namespace?: string; readonly path?: string };
  };
  readonly namespaceSelector?: Selector;
  readonly objectSelector?: Selector;
};
type Selector = {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
};
type Configuration = KubeObject & { readonly webhooks?: readonly Webhook[] };

const CERT_MANAGER_CRD = 'certificates.cert-manager.io';
const INJECT_CA_FROM = 'cert-manager.io/inject-ca-from';

/** A label selector as the API server evaluates it. */
export function selects(selector: Selector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  return (
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const has = Object.hasOwn(labels, key);
      switch (operator) {
        case 'In':
          return has && values.includes(labels[key]!);
        case 'NotIn':
          return !has || !values.includes(labels[key]!);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          return false;
      }
    })
  );
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, skipping any that do not parse. */
export function bundleCertificates(text: string): X509Certificate[] {
  return [...text.matchAll(PEM_CERT)].flatMap((m) => {
    try {
      return [new X509Certificate(m[0])];
    } catch {
      return [];
    }
  });
}

/**
 * Whether a served chain (leaf first) leads to a CA of the bundle, as the API server checks it:
 * each certificate issued by the next, until one is in the bundle or signed by one of it.
 */
export function chainTrusted(chain: readonly X509Certificate[], bundle: readonly X509Certificate[]): boolean {
  const byBundle = (c: X509Certificate) =>
    bundle.some((ca) => ca.fingerprint256 === c.fingerprint256 || (c.checkIssued(ca) && c.verify(ca.publicKey)));
  for (const [i, cert] of chain.entries()) {
    if (byBundle(cert)) return true;
    const next = chain[i + 1];
    if (!next || !(cert.checkIssued(next) && cert.verify(next.publicKey))) return false;
  }
  return false;
}

const describe = (c: X509Certificate) =>
  `${c.subject.replace(/\n/g, ', ')}, issued by ${c.issuer.replace(/\n/g, ', ')}, valid until ${c.validTo}`;

type Context = {
  readonly api: AdminApi;
  readonly name: string;
  readonly namespace: string;
  readonly certManager: boolean;
  readonly preflight: boolean;
  /** the server's token file, for an install whose Secret cannot be read (a --url server) */
  readonly tokenFile?: string | undefined;
};

async function crdCheck(ctx: Context): Promise<Check> {
  const crds = JUDGED_KINDS.filter((k) => k.group !== '');
  const present = await Promise.all(
    crds.map((k) => ctx.api.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', `${k.plural}.${k.group}`)),
  );
  const missing = crds.filter((_, i) => !present[i]).map((k) => `${k.plural}.${k.group}`);
  if (missing.length === 0) return { name: 'CRDs', status: 'ok', summary: `${crds.map((k) => k.kind).join(', ')} are served` };
  const status: Status = missing.length === crds.length ? 'warn' : 'ok';
  return {
    name: 'CRDs',
    status,
    summary:
      missing.length === crds.length
        ? 'no Istio or OSM CRD is installed: only pods and namespaces will be reviewed'
        : `not installed: ${missing.join(', ')} (their objects cannot exist, so nothing is lost)`,
    ...(status === 'warn'
      ? { fix: 'install the mesh first (istioctl install, osm install); egress-warden judges its objects once their CRDs exist' }
      : {}),
  };
}

async function certManagerCheck(ctx: Context, wanted: boolean): Promise<Check | undefined> {
  if (!wanted) return undefined;
  const crd = await ctx.api.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', CERT_MANAGER_CRD);
  if (!crd) {
    return {
      name: 'cert-manager',
      status: 'fail',
      summary: `cert-manager is not installed (no CRD ${CERT_MANAGER_CRD})`,
      fix: 'install cert-manager (https://cert-manager.io/docs/installation/) before `kubectl apply -k manifests/cert-manager`, or install with your own CA (docs/install.md#2b-install-with-your-own-certificate)',
    };
  }
  if (ctx.preflight) return { name: 'cert-manager', status: 'ok', summary: 'cert-manager is installed' };
  const cert = await ctx.api.get('cert-manager.io/v1', 'Certificate', tlsSecretName(ctx.name), ctx.namespace);
  const ready = (
    (cert?.status as { conditions?: { type?: string; status?: string; message?: string }[] } | undefined)?.conditions ?? []
  ).find((c) => c.type === 'Ready');
  if (ready?.status === 'True')
    return { name: 'cert-manager', status: 'ok', summary: `Certificate ${ctx.namespace}/${tlsSecretName(ctx.name)} is Ready` };
  return {
    name: 'cert-manager',
    status: 'fail',
    summary: cert
      ? `Certificate ${ctx.namespace}/${tlsSecretName(ctx.name)} is not Ready${ready?.message ? `: ${ready.message}` : ''}`
      : `no Certificate ${ctx.namespace}/${tlsSecretName(ctx.name)}`,
    fix: `kubectl -n ${ctx.namespace} describe certificate ${tlsSecretName(ctx.name)}`,
  };
}

function configurationCheck(ctx: Context, configs: readonly (Configuration | undefined)[]): Check {
  const [validating, mutating] = configs;
  const missing = [!validating && 'ValidatingWebhookConfiguration', !mutating && 'MutatingWebhookConfiguration'].filter(Boolean);
  if (missing.length === 0) {
    const policy = validating?.webhooks?.find((w) => w.name === VALIDATE_WEBHOOK)?.failurePolicy ?? 'Fail';
    return {
      name: 'webhooks',
      status: 'ok',
      summary: `both configurations ${ctx.name} are registered; egress-object validation fails ${policy === 'Ignore' ? 'open (Ignore)' : 'closed (Fail)'}`,
      ...(policy === 'Ignore'
        ? {
            details: [
              'once this report shows no failure, make validation fail closed: egress-warden manifests … --failure-policy Fail | kubectl apply -f -',
            ],
          }
        : {}),
    };
  }
  if (ctx.preflight) return { name: 'webhooks', status: 'ok', summary: `not installed yet (${missing.join(', ')} ${ctx.name} absent)` };
  return {
    name: 'webhooks',
    status: 'fail',
    summary: `${missing.join(' and ')} ${ctx.name} not found`,
    fix: 'apply the installation (docs/install.md), or pass the --name it was installed with',
  };
}

function caBundleCheck(webhooks: readonly Webhook[], injected: string | undefined): Check {
  const bundles = new Set(webhooks.map((w) => w.clientConfig?.caBundle ?? ''));
  const without = webhooks.filter((w) => !w.clientConfig?.caBundle).map((w) => w.name);
  const byUrl = webhooks.every((w) => w.clientConfig?.url);
  if (without.length) {
    if (byUrl)
      return {
        name: 'caBundle',
        status: 'warn',
        summary: `${without.join(', ')}: no caBundle, so the API server trusts only its system roots for the URL`,
        fix: 'pass the CA of your server: egress-warden manifests --url … --ca FILE',
      };
    return {
      name: 'caBundle',
      status: 'fail',
      summary: `no caBundle in ${without.join(', ')}: the API server cannot trust the server`,
      fix: injected
        ? `cert-manager's cainjector fills it from ${injected}: check that cert-manager's cainjector runs and the Certificate is Ready`
        : 'render with --ca FILE (or --cert-manager) and apply again',
    };
  }
  if (bundles.size > 1)
    return {
      name: 'caBundle',
      status: 'warn',
      summary: 'the webhooks carry different caBundles',
      fix: 'apply both configurations from one rendering',
    };
  const certs = bundleCertificates(Buffer.from([...bundles][0]!, 'base64').toString('utf8'));
  if (certs.length === 0)
    return {
      name: 'caBundle',
      status: 'fail',
      summary: 'caBundle holds no PEM certificate',
      fix: 'render with --ca FILE holding the CA certificate',
    };
  return {
    name: 'caBundle',
    status: 'ok',
    summary: `set on every webhook (${certs.length} certificate${certs.length > 1 ? 's' : ''}${injected ? `, injected from ${injected}` : ''})`,
  };
}

async function servedCheck(ctx: Context, w: Webhook): Promise<Check> {
  const bundle = bundleCertificates(Buffer.from(w.clientConfig?.caBundle ?? '', 'base64').toString('utf8'));
  let chain: X509Certificate[];
  let host: string;
  let where: string;
  try {
    if (w.clientConfig?.url) {
      const u = new URL(w.clientConfig.url);
      host = u.hostname.replace(/^\[|\]$/g, '');
      where = `${u.host}`;
      chain = (await ctx.api.servedChain(host, Number(u.port || 443))).map((p) => new X509Certificate(p));
    } else {
      const svc = w.clientConfig?.service;
      host = serviceHost(svc?.name ?? ctx.name, svc?.namespace ?? ctx.namespace);
      where = `Secret ${ctx.namespace}/${tlsSecretName(ctx.name)}`;
      const secret = await ctx.api.get('v1', 'Secret', tlsSecretName(ctx.name), ctx.namespace);
      const crt = (secret?.data as Record<string, string> | undefined)?.['tls.crt'];
      if (!crt) {
        return {
          name: 'certificate',
          status: 'fail',
          summary: `${where} holds no tls.crt`,
          fix: 'create the Secret (docs/install.md#2b-install-with-your-own-certificate) or check the cert-manager Certificate',
        };
      }
      chain = bundleCertificates(Buffer.from(crt, 'base64').toString('utf8'));
    }
  } catch (e) {
    if (apiStatus(e) === 403)
      return { name: 'certificate', status: 'skip', summary: `cannot read the served certificate: ${apiMessage(e)}` };
    return {
      name: 'certificate',
      status: 'fail',
      summary: `cannot read the served certificate: ${apiMessage(e)}`,
      fix: 'start the server, or check the address in the webhook configuration',
    };
  }
  const leaf = chain[0];
  if (!leaf) return { name: 'certificate', status: 'fail', summary: `${where}: no certificate` };
  const named = /^[\d.]+$|:/.test(host) ? leaf.checkIP(host) !== undefined : leaf.checkHost(host) !== undefined;
  const problems = [
    ...(bundle.length && !chainTrusted(chain, bundle)
      ? [`it is not signed by a CA in caBundle (the API server refuses it: "x509: certificate signed by unknown authority")`]
      : []),
    ...(!named ? [`it does not name ${host}, the name the API server dials`] : []),
    ...(new Date(leaf.validTo) < new Date() ? ['it has expired'] : []),
  ];
  if (problems.length) {
    return {
      name: 'certificate',
      status: 'fail',
      summary: `the certificate served at ${where}: ${problems.join('; ')}`,
      details: [describe(leaf)],
      fix: 'serve a certificate from the CA in caBundle with that name (egress-warden certs --san …), or render caBundle from the serving CA (--ca)',
    };
  }
  const soon = new Date(leaf.validTo).getTime() - Date.now() < 14 * 86_400_000;
  return {
    name: 'certificate',
    status: soon ? 'warn' : 'ok',
    summary: `served at ${where}, trusted by caBundle, names ${host}`,
    details: [describe(leaf)],
    ...(soon ? { fix: 'it expires within 14 days: renew it (the server reloads the files without a restart)' } : {}),
  };
}

/** What a registered path asks for: the admission endpoint and the caller token after it (none for a bare path). */
export function registeredPath(w: Webhook): { readonly path: string; readonly endpoint?: EndpointName; readonly token?: string } {
  const url = w.clientConfig?.url;
  const path = url !== undefined ? (URL.canParse(url) ? new URL(url).pathname : '') : (w.clientConfig?.service?.path ?? '');
  for (const endpoint of ENDPOINT_NAMES) {
    const bare = ENDPOINTS[endpoint].path;
    if (path.endsWith(bare)) return { path, endpoint };
    const at = path.lastIndexOf(`${bare}/`);
    const token = at < 0 ? '' : path.slice(at + bare.length + 1);
    if (token !== '' && !token.includes('/')) return { path, endpoint, token };
  }
  return { path };
}

type ServerTokens =
  | { readonly tokens: readonly string[]; readonly from: string }
  /** the server has no token to accept (its Secret is missing), or its token file cannot be used */
  | { readonly broken: string }
  /** nothing to compare with, and why */
  | { readonly unknown: string };

/** The tokens the server accepts: --token-file, else Secret <name>-token of an in-cluster install. */
async function serverTokens(ctx: Context, inCluster: boolean): Promise<ServerTokens> {
  if (ctx.tokenFile !== undefined) {
    try {
      return { tokens: await readTokens(ctx.tokenFile), from: ctx.tokenFile };
    } catch (e) {
      return { broken: tokenProblem(e) };
    }
  }
  const where = `Secret ${ctx.namespace}/${tokenSecretName(ctx.name)}`;
  if (!inCluster)
    return { unknown: 'the server runs outside the cluster: pass --token-file FILE (the file `serve --token-file` reads) to compare' };
  let secret: KubeObject | undefined;
  try {
    secret = await ctx.api.get('v1', 'Secret', tokenSecretName(ctx.name), ctx.namespace);
  } catch (e) {
    return { unknown: `cannot read ${where}: ${apiMessage(e)} (or pass --token-file FILE with its token)` };
  }
  if (!secret) return { broken: `no ${where}: the server has no token to accept` };
  const data = (secret.data as Record<string, string> | undefined)?.token;
  try {
    return { tokens: parseTokens(Buffer.from(data ?? '', 'base64').toString('utf8'), `${where} key token`), from: where };
  } catch (e) {
    return { broken: tokenProblem(e) };
  }
}

const tokenFromSecret = (ctx: Context) =>
  `kubectl -n ${ctx.namespace} get secret ${tokenSecretName(ctx.name)} -o jsonpath='{.data.token}' | base64 -d > token`;

/**
 * Whether the API server calls with the token the server accepts. A path without one means caller
 * authentication is off (anyone who reaches the port is answered, and read-your-writes is off);
 * a token the server does not hold means every call is refused, which failurePolicy Ignore hides.
 */
async function tokenCheck(ctx: Context, webhooks: readonly Webhook[], inCluster: boolean): Promise<Check> {
  const paths = webhooks.map((w) => ({ name: w.name ?? '(unnamed)', ...registeredPath(w) }));
  const names = (list: readonly { readonly name: string }[]) => list.map((p) => p.name).join(', ');
  const rerender = `render the configurations with the server's token and apply them: egress-warden manifests --token-file token … | kubectl apply -f -${inCluster ? ` (the token: ${tokenFromSecret(ctx)})` : ''}`;
  const unknownPath = paths.filter((p) => p.endpoint === undefined);
  if (unknownPath.length) {
    return {
      name: 'token',
      status: 'fail',
      summary: `${unknownPath.map((p) => `${p.name} calls ${p.path || 'no path'}`).join('; ')}: not an admission path of the server`,
      fix: 'apply the configurations from one `egress-warden manifests` rendering',
    };
  }
  const bare = paths.filter((p) => p.token === undefined);
  const server = await serverTokens(ctx, inCluster);
  if (bare.length === paths.length) {
    if ('tokens' in server) {
      return {
        name: 'token',
        status: 'fail',
        summary: `no webhook path carries a caller token, but the server holds one (${server.from}): it refuses every call`,
        fix: rerender,
      };
    }
    return {
      name: 'token',
      status: 'warn',
      summary: `caller authentication is off: no webhook path carries a token (${names(bare)}), so the server answers anyone who reaches it and read-your-writes is off`,
      fix: inCluster
        ? `render the installation without --no-token (Secret ${ctx.namespace}/${tokenSecretName(ctx.name)} and the token paths come together) and apply it`
        : 'run `serve --token-file certs/token` and register it with `egress-warden manifests --url … --token-file certs/token`',
    };
  }
  if (bare.length) {
    return {
      name: 'token',
      status: 'fail',
      summary: `${names(bare)} call without a caller token while the others carry one: the server refuses one or the other`,
      fix: 'apply both configurations from one rendering with --token-file',
    };
  }
  if ('unknown' in server)
    return {
      name: 'token',
      status: 'ok',
      summary: 'every webhook path carries a caller token',
      details: [`not compared with the server's: ${server.unknown}`],
    };
  if ('broken' in server)
    return {
      name: 'token',
      status: 'fail',
      summary: `the webhook paths carry a token, but ${server.broken}`,
      fix: 'apply the whole rendering (the Secret comes with it), or pass --token-file with the file the server reads',
    };
  const refused = paths.filter((p) => !server.tokens.includes(p.token!));
  if (refused.length) {
    return {
      name: 'token',
      status: 'fail',
      summary: `${names(refused)} call${refused.length === 1 ? 's' : ''} with a token that ${server.from} does not hold: the server refuses ${refused.length === 1 ? 'it' : 'them'}`,
      fix: rerender,
    };
  }
  const details = [
    ...(server.tokens.length > 1
      ? [
          `${server.from} holds ${server.tokens.length} tokens, a rotation in progress: once the webhooks carry the new one and the server has reloaded, remove the others (docs/install.md#rotate-the-caller-token)`,
        ]
      : []),
    ...(new Set(paths.map((p) => p.token)).size > 1
      ? ['the webhooks carry different tokens: apply both configurations from one rendering']
      : []),
  ];
  return {
    name: 'token',
    status: 'ok',
    summary: `every webhook path carries a token the server holds (${server.from})`,
    ...(details.length ? { details } : {}),
  };
}

/** The label a --namespace-label install selects on, from the namespace webhook's objectSelector. */
function requiredLabels(w: Webhook | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of w?.objectSelector?.matchExpressions ?? [])
    if (e.operator === 'In' && e.values?.[0] !== undefined) out[e.key] = e.values[0];
  return { ...out, ...w?.objectSelector?.matchLabels };
}

async function reachCheck(ctx: Context, namespaces: Webhook | undefined): Promise<Check> {
  const probe: KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: `${ctx.name}-doctor-probe`, labels: requiredLabels(namespaces), annotations: { [BYPASS]: 'not-a-cidr' } },
  };
  let answer: string | undefined;
  try {
    answer = await ctx.api.dryRunCreate(probe);
  } catch (e) {
    return { name: 'reachable', status: 'skip', summary: `the dry-run write could not be made: ${apiMessage(e)}` };
  }
  if (answer?.includes(`admission webhook "${NAMESPACES_WEBHOOK}" denied the request`)) {
    return {
      name: 'reachable',
      status: 'ok',
      summary:
        'the API server called the webhook and got its answer (a dry-run Namespace create with an invalid bypass annotation was denied)',
    };
  }
  if (answer === undefined) {
    return {
      name: 'reachable',
      status: 'fail',
      summary:
        'the API server did not get an answer from the webhook: a dry-run write it must deny went through (failurePolicy Ignore let it pass)',
      fix: `check that the server is ready (kubectl -n ${ctx.namespace} rollout status deployment/${ctx.name}), that the Service has endpoints, that a NetworkPolicy admits the API server, and the certificate and token checks above`,
    };
  }
  return { name: 'reachable', status: 'skip', summary: `the dry-run write was refused before the webhook: ${answer}` };
}

/** The resource of each kind the installation creates, for the installer's own access review. */
const RESOURCE_OF: Readonly<Record<string, { readonly group: string; readonly resource: string }>> = {
  Namespace: { group: '', resource: 'namespaces' },
  ServiceAccount: { group: '', resource: 'serviceaccounts' },
  ClusterRole: { group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
  Role: { group: 'rbac.authorization.k8s.io', resource: 'roles' },
  RoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
  Issuer: { group: 'cert-manager.io', resource: 'issuers' },
  Certificate: { group: 'cert-manager.io', resource: 'certificates' },
  Secret: { group: '', resource: 'secrets' },
  Deployment: { group: 'apps', resource: 'deployments' },
  Service: { group: '', resource: 'services' },
  PodDisruptionBudget: { group: 'policy', resource: 'poddisruptionbudgets' },
  NetworkPolicy: { group: 'networking.k8s.io', resource: 'networkpolicies' },
  ValidatingWebhookConfiguration: { group: 'admissionregistration.k8s.io', resource: 'validatingwebhookconfigurations' },
  MutatingWebhookConfiguration: { group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations' },
};

/** Before an install: may you create every object of it? */
async function installerAccessCheck(ctx: Context): Promise<Check> {
  const objects = renderInstallation({ name: ctx.name, namespace: ctx.namespace, certManager: ctx.certManager, tokens: [newToken()] });
  const questions = [
    ...new Map(
      objects.flatMap((o) => {
        const r = RESOURCE_OF[o.kind ?? ''];
        if (!r) return [];
        const q: AccessQuestion = { ...r, verb: 'create', ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}) };
        return [[JSON.stringify(q), q] as const];
      }),
    ).values(),
  ];
  try {
    const answers = await Promise.all(questions.map((q) => ctx.api.canI(q)));
    const denied = questions
      .filter((_, i) => !answers[i]!.allowed)
      .map((q) => `create ${resourceName(q)}${q.namespace ? ` in ${q.namespace}` : ''}`);
    if (denied.length === 0)
      return {
        name: 'RBAC',
        status: 'ok',
        summary: `you may create every object of the installation (${questions.length} kinds and namespaces)`,
      };
    return {
      name: 'RBAC',
      status: 'fail',
      summary: `you may not create ${denied.length} of the installation's ${questions.length} kinds`,
      details: denied,
      fix: 'install as a cluster administrator',
    };
  } catch (e) {
    return { name: 'RBAC', status: 'skip', summary: `cannot ask: ${apiMessage(e)} (needs create on selfsubjectaccessreviews)` };
  }
}

async function accessCheck(ctx: Context, inCluster: boolean): Promise<Check> {
  const user = inCluster ? `system:serviceaccount:${ctx.namespace}:${ctx.name}` : undefined;
  const own = inCluster ? ctx.namespace : ctx.api.namespace;
  const questions: AccessQuestion[] = ACCESS.flatMap((a) =>
    a.verbs.flatMap((verb) =>
      (a.resourceNames ?? [undefined]).map((name) => ({
        group: a.group,
        resource: a.resource,
        verb,
        ...(a.namespace === 'kube-system' ? { namespace: 'kube-system' } : a.namespace === 'self' ? { namespace: own } : {}),
        ...(name ? { name } : {}),
      })),
    ),
  );
  const who = user ?? 'you (the identity `serve` uses with this kubeconfig)';
  try {
    const answers = await Promise.all(questions.map((q) => ctx.api.canI(q, user)));
    const denied = questions
      .filter((_, i) => !answers[i]!.allowed)
      .map((q) => `${q.verb} ${resourceName(q)}${q.name ? `/${q.name}` : ''}${q.namespace ? ` in ${q.namespace}` : ''}`);
    if (denied.length === 0) return { name: 'RBAC', status: 'ok', summary: `${who}: all ${questions.length} permissions granted` };
    return {
      name: 'RBAC',
      status: 'fail',
      summary: `${who}: ${denied.length} of ${questions.length} permissions missing`,
      details: denied,
      fix: inCluster
        ? 'apply the ClusterRole, Roles and bindings from the same rendering as the Deployment'
        : 'grant them to your user, or run against a kubeconfig that has them',
    };
  } catch (e) {
    return {
      name: 'RBAC',
      status: 'skip',
      summary: `cannot ask for ${who}: ${apiMessage(e)} (needs create on ${user ? 'subjectaccessreviews' : 'selfsubjectaccessreviews'})`,
    };
  }
}

async function namespaceCheck(ctx: Context, validate: Webhook | undefined): Promise<Check> {
  let all: KubeObject[];
  try {
    all = await ctx.api.listNamespaces();
  } catch (e) {
    return { name: 'namespaces', status: 'skip', summary: `cannot list namespaces: ${apiMessage(e)}` };
  }
  const labelsOf = (n: KubeObject) => (n.metadata?.labels ?? {}) as Record<string, string>;
  // Before an installation (--preflight), the selector it would be given: the control plane, the
  // meshes' namespaces, its own and those labelled to be ignored are never sent.
  const selector = validate ? validate.namespaceSelector : scopeSelector(ctx.namespace);
  const seen = all.filter((n) => selects(selector, labelsOf(n)));
  const modes = new Map<string, number>();
  const unknown: string[] = [];
  for (const n of seen) {
    const mode = labelsOf(n)[MODE_LABEL];
    if (mode !== undefined && !isMode(mode)) unknown.push(`${n.metadata?.name}: ${MODE_LABEL}=${mode} is not a mode; enforced`);
    const m = mode !== undefined && isMode(mode) ? mode : 'enforce';
    modes.set(m, (modes.get(m) ?? 0) + 1);
  }
  const ignored = all.filter((n) => Object.hasOwn(labelsOf(n), IGNORE_LABEL)).map((n) => n.metadata?.name ?? '');
  const summary = `${all.length} namespaces, ${seen.length} ${validate ? 'sent' : 'would be sent'} to the webhooks (${[...modes].map(([m, k]) => `${k} ${m}`).join(', ') || 'none'})`;
  const details = [...unknown, ...(ignored.length ? [`opted out with ${IGNORE_LABEL}: ${ignored.join(', ')}`] : [])];
  return {
    name: 'namespaces',
    status: unknown.length ? 'warn' : 'ok',
    summary,
    ...(details.length ? { details } : {}),
    ...(unknown.length ? { fix: `label them ${MODE_LABEL}=enforce, warn or audit` } : {}),
  };
}

async function cidrCheck(ctx: Context, probeNamespace: string): Promise<Check> {
  const g = await gatherAll(ctx.api.cluster(probeNamespace), {});
  const d = detectCidrs(g.inputs);
  const rows = rangeRows(d).map((r) => `${r.kind.padEnd(7)} ${r.cidr.padEnd(20)} ${r.source}: ${r.origin}`);
  const guessed = usesDefaults(d);
  return {
    name: 'CIDRs',
    status: guessed || g.failed.length ? 'warn' : 'ok',
    summary: guessed ? 'some ranges are guessed defaults, not detected' : 'pod and service ranges detected',
    details: [...rows, ...g.failed.map((f) => `could not read: ${f}`)],
    ...(guessed ? { fix: 'set EW_POD_CIDRS / EW_SERVICE_CIDRS on the Deployment (docs/cluster-state.md)' } : {}),
  };
}

export async function diagnose(ctx: Context): Promise<Check[]> {
  const configs = (await Promise.all([
    ctx.api.get('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', ctx.name),
    ctx.api.get('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', ctx.name),
  ])) as (Configuration | undefined)[];
  const webhooks = configs.flatMap((c) => c?.webhooks ?? []);
  const injected = configs.map((c) => c?.metadata?.annotations?.[INJECT_CA_FROM]).find(Boolean);
  const validate = webhooks.find((w) => w.name === VALIDATE_WEBHOOK);
  const inCluster = webhooks.length ? webhooks.every((w) => w.clientConfig?.service) : true;
  const checks: (Check | undefined)[] = [
    await crdCheck(ctx),
    await certManagerCheck(ctx, ctx.certManager || injected !== undefined),
    configurationCheck(ctx, configs),
  ];
  if (webhooks.length) {
    checks.push(caBundleCheck(webhooks, injected));
    if (validate) checks.push(await servedCheck(ctx, validate));
    checks.push(await tokenCheck(ctx, webhooks, inCluster));
    checks.push(
      await reachCheck(
        ctx,
        webhooks.find((w) => w.name === NAMESPACES_WEBHOOK),
      ),
    );
  }
  const access = ctx.preflight && !webhooks.length ? installerAccessCheck(ctx) : accessCheck(ctx, inCluster);
  checks.push(
    await access,
    await namespaceCheck(ctx, validate),
    await cidrCheck(ctx, webhooks.length && inCluster ? ctx.namespace : ctx.api.namespace),
  );
  return checks.filter((c): c is Check => c !== undefined);
}

const MARK: Readonly<Record<Status, string>> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

export function formatDoctorText(r: DoctorReport): string {
  const lines = [`cluster: ${r.cluster}`, ''];
  const width = Math.max(...r.checks.map((c) => c.name.length));
  for (const c of r.checks) {
    lines.push(`${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.summary}`);
    for (const d of c.details ?? []) lines.push(`${' '.repeat(width + 8)}${d}`);
    if (c.fix) lines.push(`${' '.repeat(width + 8)}fix: ${c.fix}`);
  }
  const count = (s: Status) => r.checks.filter((c) => c.status === s).length;
  lines.push(
    '',
    `${r.checks.length} checks: ${count('ok')} ok, ${count('warn')} warnings, ${count('fail')} failed, ${count('skip')} skipped`,
  );
  return `${lines.join('\n')}\n`;
}

const OPTIONS = {
  name: { type: 'string' },
  namespace: { type: 'string' },
  'cert-manager': { type: 'boolean' },
  preflight: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'token-file': { type: 'string' },
} as const;

type Connect = (opts: {
  readonly kubeconfig?: string | undefined;
  readonly env: CommandIo['env'];
}) => Promise<AdminApi | { readonly none: string }>;

export function doctorCommand(connect: Connect): Command {
  return async (argv, io) => {
    const run = parseCommand(argv, io, { name: 'doctor', help: DOCTOR_USAGE, options: OPTIONS, positionals: false });
    if (typeof run === 'number') return run;
    const { values, usage } = run;
    const output = values.output ?? 'text';
    if (output !== 'text' && output !== 'json') return usage(`--output must be text or json, got "${output}"`);
    let api: AdminApi | { readonly none: string };
    try {
      api = await connect({ kubeconfig: values.kubeconfig, env: io.env });
    } catch (e) {
      io.err(`doctor: ${(e as Error).message}\n`);
      return 1;
    }
    if ('none' in api) {
      io.err(`doctor: no cluster to check: ${api.none}\n`);
      return 1;
    }
    const checks = await diagnose({
      api,
      name: values.name ?? DEFAULT_NAME,
      namespace: values.namespace ?? DEFAULT_NAMESPACE,
      certManager: values['cert-manager'] ?? false,
      preflight: values.preflight ?? false,
      tokenFile: values['token-file'],
    });
    const report: DoctorReport = { cluster: api.source, checks };
    io.out(output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorText(report));
    return checks.some((c) => c.status === 'fail') ? 1 : 0;
  };
}

export const runDoctor: Command = doctorCommand(async ({ kubeconfig, env }) => {
  const { adminApi, selectKubeConfig } = await import('../cluster/kube.ts');
  const found = selectKubeConfig({ kubeconfig, env });
  return 'none' in found ? found : adminApi(found.kc, found.namespace, found.source);
});
