/**
 * The whole installation as plain objects, built in one place: `egress-warden manifests` prints it,
 * and the kustomize base in manifests/ is this function's output with the default options. Pure.
 * Permissions come from ACCESS, the same list the informers and CIDR detection read, so RBAC and
 * code cannot drift apart.
 */
import type { KubeObject } from '../admission/types.ts';
import { DOCS_URL_ENV } from '../catalogue/docs.ts';
import { callerPath, endpointOf, TOKEN_FILE_NAME, TOKEN_PATTERN, WEBHOOK_TIMEOUT_SECONDS } from '../catalogue/endpoints.ts';
import { IGNORE_LABEL, NAMESPACE_NAME_LABEL } from '../catalogue/keys.ts';
import { webhookMatchConditions, webhookRules, type Webhook } from '../catalogue/kinds.ts';
import { CONTROL_PLANE_NAMESPACES, MESH_CONTROL_PLANE_NAMESPACES, MESH_OBJECTS, SHARED_NAMESPACES } from '../catalogue/namespaces.ts';
import { ACCESS, type Access } from '../cluster/resources.ts';
import { parseCidrDetailed } from '../net/cidr.ts';
import { toYaml } from '../yaml.ts';

export const DEFAULT_NAME = 'egress-warden';
export const DEFAULT_NAMESPACE = 'egress-warden';
/** Tag follows package.json's version (a test keeps them equal). */
export const DEFAULT_IMAGE = 'egress-warden:0.1.0';
export const SERVER_PORT = 8443;
export const CERT_DIR = '/etc/egress-warden/certs';
/** Where the Deployment mounts Secret <name>-token: a directory, so that a rotated token reaches the file. */
export const TOKEN_DIR = '/etc/egress-warden/token';
export const TOKEN_FILE = `${TOKEN_DIR}/${TOKEN_FILE_NAME}`;
/**
 * The container's memory limit. Node sizes V8's heap from it (about 294 MB of heap under 512 MiB),
 * so the bench runs its memory-measured servers under the same limit.
 */
export const MEMORY_LIMIT_MIB = 512;

export const VALIDATE_WEBHOOK = 'validate.egress-warden.io';
export const NAMESPACES_WEBHOOK = 'namespaces.egress-warden.io';
export const MUTATE_WEBHOOK = 'mutate.egress-warden.io';
/**
 * The API server calls mutating configurations in name order; ours must come before Istio's
 * injector, which copies the capture annotations into istio-init's args when it runs.
 */
export const ISTIO_INJECTOR = MESH_OBJECTS.istioInjector;

const INJECT_CA_FROM = 'cert-manager.io/inject-ca-from';

export type FailurePolicy = 'Fail' | 'Ignore';

export type InstallOptions = {
  /** name of every object (and of both webhook configurations); must sort before istio-sidecar-injector */
  readonly name?: string;
  readonly namespace?: string;
  readonly image?: string;
  /** PEM of the CA that signed the serving certificate; rendered into every caBundle */
  readonly caPem?: string;
  /** issue the serving certificate with cert-manager and let its cainjector fill caBundle */
  readonly certManager?: boolean;
  /** register the webhooks by URL (a server outside the cluster); only the configurations are rendered */
  readonly url?: string;
  /**
   * failurePolicy of the ServiceEntry/VirtualService/Egress webhook. Ignore by default: a fresh
   * install must not refuse writes before the server runs and is trusted; switch to Fail once
   * `egress-warden doctor` passes (docs/install.md).
   */
  readonly failurePolicy?: FailurePolicy;
  /** only namespaces carrying this label are sent to the webhooks (staged rollout, tests) */
  readonly onlyLabelled?: { readonly key: string; readonly value: string };
  /**
   * The caller tokens, one per line of Secret <name>-token; the first is registered in every
   * webhook path. Left out (without noToken), the paths stay bare and no Secret is rendered: the
   * kustomize generators and replacements, or the Helm template, fill both from one value.
   */
  readonly tokens?: readonly string[];
  /** caller authentication off: bare paths, no token Secret, and `serve --insecure-no-token` */
  readonly noToken?: boolean;
  /** the only sources the NetworkPolicy admits to the server's port; left out: anywhere */
  readonly allowFrom?: readonly string[];
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const validLabelKey = (key: string): boolean => {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? '' : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  return LABEL_NAME.test(name) && (slash < 0 || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix)));
};

/** What is wrong with the options, one message per problem (empty when they can be rendered). */
export function optionProblems(o: InstallOptions): string[] {
  const out: string[] = [];
  if (o.name !== undefined) {
    // the longest derived name is "<name>-selfsigned" (a DNS label in cert-manager's Secret handling)
    if (!DNS_LABEL.test(o.name) || o.name.length > 52) out.push(`--name: "${o.name}" is not a DNS label of at most 52 characters`);
    else if (o.name >= ISTIO_INJECTOR)
      out.push(`--name: "${o.name}" sorts after ${ISTIO_INJECTOR}, so Istio would inject sidecars before the capture ranges are set`);
  }
  if (o.namespace !== undefined) {
    if (!DNS_LABEL.test(o.namespace)) out.push(`--namespace: "${o.namespace}" is not a DNS label`);
    else if (SHARED_NAMESPACES.includes(o.namespace))
      out.push(`--namespace: "${o.namespace}" is shared; egress-warden needs a namespace of its own`);
  }
  if (o.image !== undefined && (o.image.trim() === '' || /\s/.test(o.image))) out.push(`--image: "${o.image}" is not an image reference`);
  if (o.certManager && o.caPem !== undefined) out.push('--ca and --cert-manager exclude each other: cert-manager injects its own CA');
  if (o.certManager && o.url !== undefined)
    out.push('--cert-manager needs the in-cluster Service; with --url pass the CA of your server with --ca');
  if (o.url !== undefined) {
    const u = URL.canParse(o.url) ? new URL(o.url) : undefined;
    if (!u) out.push(`--url: "${o.url}" is not a URL`);
    else if (u.protocol !== 'https:') out.push(`--url: "${o.url}" must use https (the API server calls webhooks over TLS only)`);
    else if (u.username || u.password || u.search || u.hash) out.push(`--url: "${o.url}" may not carry user info, a query or a fragment`);
  }
  if (o.onlyLabelled !== undefined) {
    const { key, value } = o.onlyLabelled;
    if (!validLabelKey(key)) out.push(`--namespace-label: "${key}" is not a label key`);
    if (value !== '' && !LABEL_NAME.test(value)) out.push(`--namespace-label: "${value}" is not a label value`);
  }
  return [...out, ...tokenProblems(o), ...allowFromProblems(o)];
}

/**
 * The API server accepts a webhook Service path only if every segment is a lowercase RFC 1123
 * subdomain; a URL's path has no such rule.
 */
const SERVICE_PATH_SEGMENT = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a token cannot go into a webhook Service path, or undefined when it can. */
export function servicePathTokenProblem(token: string): string | undefined {
  if (SERVICE_PATH_SEGMENT.test(token)) return undefined;
  return (
    'the API server refuses it in a webhook Service path, where only lower-case letters, digits, "-" and "." are allowed ' +
    '(starting and ending with a letter or digit): make one with `openssl rand -hex 32`'
  );
}

function tokenProblems(o: InstallOptions): string[] {
  if (o.tokens === undefined) return [];
  if (o.noToken) return ['--token-file and --no-token exclude each other'];
  const [first] = o.tokens;
  if (first === undefined) return ['--token-file: the file holds no token'];
  const malformed = o.tokens
    .filter((t) => !TOKEN_PATTERN.test(t))
    .map(() => '--token-file: a line is not a caller token (16 to 256 characters of A-Z a-z 0-9 . _ ~ -)');
  const inPath = o.url === undefined ? servicePathTokenProblem(first) : undefined;
  return [
    ...malformed,
    ...(inPath && TOKEN_PATTERN.test(first) ? [`--token-file: the first token (the one in the paths): ${inPath}`] : []),
  ];
}

function allowFromProblems(o: InstallOptions): string[] {
  if (o.allowFrom === undefined) return [];
  if (o.url !== undefined) return ['--allow-from shapes the in-cluster NetworkPolicy; with --url nothing runs in the cluster'];
  if (o.allowFrom.length === 0) return ['--allow-from: no CIDR given'];
  return o.allowFrom.flatMap((text) => {
    const c = parseCidrDetailed(text);
    if (!c) return [`--allow-from: "${text}" is not a CIDR (like 10.0.0.0/8 or fd00::/64)`];
    return c.hostBitsSet ? [`--allow-from: "${text}" has host bits set; did you mean ${c.cidr.text}?`] : [];
  });
}

type Resolved = {
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  readonly caPem: string | undefined;
  readonly certManager: boolean;
  readonly url: string | undefined;
  readonly failurePolicy: FailurePolicy;
  readonly onlyLabelled: { readonly key: string; readonly value: string } | undefined;
  readonly tokens: readonly string[] | undefined;
  readonly noToken: boolean;
  readonly allowFrom: readonly string[] | undefined;
};

const resolve = (o: InstallOptions): Resolved => ({
  name: o.name ?? DEFAULT_NAME,
  namespace: o.namespace ?? DEFAULT_NAMESPACE,
  image: o.image ?? DEFAULT_IMAGE,
  caPem: o.caPem,
  certManager: o.certManager ?? false,
  url: o.url?.replace(/\/+$/, ''),
  failurePolicy: o.failurePolicy ?? 'Ignore',
  onlyLabelled: o.onlyLabelled,
  tokens: o.noToken ? undefined : o.tokens,
  noToken: o.noToken ?? false,
  allowFrom: o.allowFrom?.map((text) => parseCidrDetailed(text)?.cidr.text ?? text),
});

/** The namespaces a webhook never sees (besides those labelled egress-warden.io/ignore). */
export const excludedNamespaces = (namespace = DEFAULT_NAMESPACE): string[] => [
  ...new Set([...CONTROL_PLANE_NAMESPACES, ...MESH_CONTROL_PLANE_NAMESPACES, namespace]),
];

/** The TLS Secret the server mounts: tls.crt, tls.key and ca.crt. */
export const tlsSecretName = (name = DEFAULT_NAME): string => `${name}-tls`;

/** The Secret holding the caller tokens, one per line under the key `token`. */
export const tokenSecretName = (name = DEFAULT_NAME): string => `${name}-token`;

/** The DNS name the API server dials, which the serving certificate must carry. */
export const serviceHost = (name = DEFAULT_NAME, namespace = DEFAULT_NAMESPACE): string => `${name}.${namespace}.svc`;

type LabelSelector = {
  readonly matchExpressions: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
};

/**
 * Which namespaces the webhooks see. Never an objectSelector on the guarded objects: whoever writes
 * a ServiceEntry or a Pod could set the label and skip us. Namespace labels need cluster-level rights.
 */
export function scopeSelector(namespace: string, onlyLabelled?: { readonly key: string; readonly value: string }): LabelSelector {
  return {
    matchExpressions: [
      { key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: excludedNamespaces(namespace) },
      { key: IGNORE_LABEL, operator: 'DoesNotExist' },
      ...(onlyLabelled ? [{ key: onlyLabelled.key, operator: 'In', values: [onlyLabelled.value] }] : []),
    ],
  };
}

export type PolicyRule = {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
};

/** ACCESS entries as RBAC rules: one rule per group, verbs and names, resources merged, order kept. */
export function policyRules(access: readonly Access[]): PolicyRule[] {
  const rules = new Map<string, { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }>();
  for (const a of access) {
    const key = JSON.stringify([a.group, a.verbs, a.resourceNames ?? []]);
    const rule = rules.get(key);
    if (rule) {
      if (!rule.resources.includes(a.resource)) rule.resources.push(a.resource);
      continue;
    }
    rules.set(key, {
      apiGroups: [a.group],
      resources: [a.resource],
      verbs: [...a.verbs],
      ...(a.resourceNames ? { resourceNames: [...a.resourceNames] } : {}),
    });
  }
  return [...rules.values()];
}

const labelsOf = (r: Resolved) => ({ 'app.kubernetes.io/name': 'egress-warden', 'app.kubernetes.io/instance': r.name });

const meta = (r: Resolved, name: string, namespace?: string) => ({
  name,
  ...(namespace ? { namespace } : {}),
  labels: labelsOf(r),
});

function namespaceObject(r: Resolved): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: r.namespace,
      labels: {
        ...labelsOf(r),
        // the pod below meets the restricted profile; enforcing it keeps it that way
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  };
}

function rbac(r: Resolved): KubeObject[] {
  const subject = { kind: 'ServiceAccount', name: r.name, namespace: r.namespace };
  const out: KubeObject[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(r, r.name, r.namespace) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta(r, r.name),
      rules: policyRules(ACCESS.filter((a) => a.namespace === undefined)),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(r, r.name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: r.name },
      subjects: [subject],
    },
  ];
  const scopes: readonly (readonly [Access['namespace'], string])[] = [
    ['kube-system', 'kube-system'],
    ['self', r.namespace],
  ];
  for (const [scope, namespace] of scopes) {
    const rules = policyRules(ACCESS.filter((a) => a.namespace === scope));
    if (rules.length === 0) continue;
    out.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(r, r.name, namespace), rules },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: meta(r, r.name, namespace),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: r.name },
        subjects: [subject],
      },
    );
  }
  return out;
}

/** A CA issued by a self-signed issuer, then the serving certificate from that CA: the caBundle stays put when the leaf renews. */
function certManagerObjects(r: Resolved): KubeObject[] {
  const ca = `${r.name}-ca`;
  const selfSigned = `${r.name}-selfsigned`;
  const issuerRef = (name: string) => ({ name, kind: 'Issuer', group: 'cert-manager.io' });
  const key = { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' };
  return [
    { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: meta(r, selfSigned, r.namespace), spec: { selfSigned: {} } },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: meta(r, ca, r.namespace),
      spec: {
        isCA: true,
        commonName: ca,
        secretName: ca,
        duration: '87600h',
        renewBefore: '720h',
        privateKey: key,
        issuerRef: issuerRef(selfSigned),
      },
    },
    { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: meta(r, ca, r.namespace), spec: { ca: { secretName: ca } } },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: meta(r, tlsSecretName(r.name), r.namespace),
      spec: {
        secretName: tlsSecretName(r.name),
        dnsNames: [serviceHost(r.name, r.namespace), `${serviceHost(r.name, r.namespace)}.cluster.local`],
        duration: '2160h',
        renewBefore: '720h',
        privateKey: key,
        usages: ['digital signature', 'server auth'],
        issuerRef: issuerRef(ca),
      },
    },
  ];
}

/** Turning caller authentication off is spelled out on the server too, which then warns about it. */
const tokenArgs = (r: Resolved): string[] => (r.noToken ? ['--insecure-no-token'] : ['--token-file', TOKEN_FILE]);

/** The tokens one per line, the registered one first; no trailing newline, like the kustomize file `token`. */
export const tokenSecretData = (tokens: readonly string[]): string => Buffer.from(tokens.join('\n'), 'utf8').toString('base64');

const tokenSecret = (r: Resolved, tokens: readonly string[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: meta(r, tokenSecretName(r.name), r.namespace),
  type: 'Opaque',
  data: { [TOKEN_FILE_NAME]: tokenSecretData(tokens) },
});

function deployment(r: Resolved): KubeObject {
  const labels = labelsOf(r);
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'https', scheme: 'HTTPS' },
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold,
  });
  const spread = (topologyKey: string) => ({
    // ScheduleAnyway: a spread constraint must never leave the webhook unschedulable on a small cluster
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: labels },
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(r, r.name, r.namespace),
    spec: {
      replicas: 2,
      revisionHistoryLimit: 5,
      selector: { matchLabels: labels },
      // never fewer ready replicas than asked for during an upgrade
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: { ...labels, 'sidecar.istio.io/inject': 'false' },
          // the API server calls us without a mesh identity: a sidecar would break admission
          annotations: { 'openservicemesh.io/sidecar-injection': 'disabled' },
        },
        spec: {
          serviceAccountName: r.name,
          enableServiceLinks: false,
          // preStop pause (10 s) + the server's own drain limit (25 s) must end before the kubelet's SIGKILL
          terminationGracePeriodSeconds: 40,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          topologySpreadConstraints: [spread('topology.kubernetes.io/zone'), spread('kubernetes.io/hostname')],
          containers: [
            {
              name: 'webhook',
              image: r.image,
              imagePullPolicy: 'IfNotPresent',
              args: ['serve', '--port', String(SERVER_PORT), '--certs', CERT_DIR, ...tokenArgs(r)],
              ports: [{ name: 'https', containerPort: SERVER_PORT, protocol: 'TCP' }],
              env: [
                { name: 'NODE_ENV', value: 'production' },
                // the server's own namespace (dry-run Service probe, development certificate) whatever --namespace rendered
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                // where denials and warnings point for a code's page; empty: `egress-warden help EWnnn` (serve --docs-url)
                { name: DOCS_URL_ENV, value: '' },
              ],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: `${MEMORY_LIMIT_MIB}Mi` } },
              startupProbe: probe('/healthz', 2, 60),
              livenessProbe: probe('/healthz', 10, 3),
              readinessProbe: probe('/readyz', 5, 2),
              lifecycle: {
                // keep serving while endpoints and kube-proxy forget this pod, so the API server stops
                // sending reviews before the server is told to drain
                preStop: { exec: { command: ['sleep', '10'] } },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'certs', mountPath: CERT_DIR, readOnly: true },
                ...(r.noToken ? [] : [{ name: 'token', mountPath: TOKEN_DIR, readOnly: true }]),
              ],
            },
          ],
          // both mounted as directories (no subPath) so that renewed certificates and rotated tokens
          // appear in place and are reloaded without a restart
          volumes: [
            { name: 'certs', secret: { secretName: tlsSecretName(r.name), defaultMode: 0o440 } },
            ...(r.noToken ? [] : [{ name: 'token', secret: { secretName: tokenSecretName(r.name), defaultMode: 0o440 } }]),
          ],
        },
      },
    },
  };
}

const service = (r: Resolved): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: meta(r, r.name, r.namespace),
  spec: {
    selector: labelsOf(r),
    ports: [{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }],
  },
});

const disruptionBudget = (r: Resolved): KubeObject => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: meta(r, r.name, r.namespace),
  spec: {
    minAvailable: 1,
    selector: { matchLabels: labelsOf(r) },
    // a replica that is not ready already serves nothing; let node drains evict it
    unhealthyPodEvictionPolicy: 'AlwaysAllow',
  },
});

/**
 * Only the server's port is admitted. From anywhere by default: the API server calls from addresses
 * that differ by platform (a managed control plane's range, node addresses, a tunnel's pods) and
 * that no rendering can know; a narrower `from` that misses them makes every call fail
 * (docs/install.md, "Who may reach the server"). The caller token, not the address, is what
 * authenticates the API server.
 */
const networkPolicy = (r: Resolved): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: meta(r, r.name, r.namespace),
  spec: {
    podSelector: { matchLabels: labelsOf(r) },
    policyTypes: ['Ingress'],
    ingress: [
      {
        ...(r.allowFrom ? { from: r.allowFrom.map((cidr) => ({ ipBlock: { cidr } })) } : {}),
        ports: [{ protocol: 'TCP', port: SERVER_PORT }],
      },
    ],
  },
});

function clientConfig(r: Resolved, webhook: Webhook) {
  const path = callerPath(endpointOf(webhook), r.tokens?.[0]);
  const caBundle = r.caPem === undefined ? {} : { caBundle: Buffer.from(r.caPem, 'utf8').toString('base64') };
  if (r.url !== undefined) return { url: `${r.url}${path}`, ...caBundle };
  return { service: { name: r.name, namespace: r.namespace, path, port: 443 }, ...caBundle };
}

function configMetadata(r: Resolved) {
  const m = meta(r, r.name);
  return r.certManager ? { ...m, annotations: { [INJECT_CA_FROM]: `${r.namespace}/${tlsSecretName(r.name)}` } } : m;
}

const common = { admissionReviewVersions: ['v1'], sideEffects: 'None', matchPolicy: 'Equivalent', timeoutSeconds: WEBHOOK_TIMEOUT_SECONDS };

function validatingConfiguration(r: Resolved): KubeObject {
  const scope = scopeSelector(r.namespace, r.onlyLabelled);
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: configMetadata(r),
    webhooks: [
      {
        name: VALIDATE_WEBHOOK,
        clientConfig: clientConfig(r, 'validate'),
        rules: webhookRules('validate'),
        // Routes and AuthorizationPolicies are judged only when they reference an egress object:
        // the others (every ingress and Service route of the cluster) never reach the webhook, nor
        // its failure policy when it is down.
        matchConditions: webhookMatchConditions('validate'),
        failurePolicy: r.failurePolicy,
        namespaceSelector: scope,
        ...common,
      },
      {
        // Only our own annotations are checked, and a namespace must stay editable when the webhook is
        // down. The object here is the namespace itself, so the exclusions go in objectSelector,
        // which matches if either the old or the new labels match: a namespace is skipped only while
        // it is excluded before and after the change (dropping the ignore label is still checked).
        name: NAMESPACES_WEBHOOK,
        clientConfig: clientConfig(r, 'namespaces'),
        rules: webhookRules('namespaces'),
        failurePolicy: 'Ignore',
        objectSelector: scope,
        ...common,
      },
    ],
  };
}

function mutatingConfiguration(r: Resolved): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: configMetadata(r),
    webhooks: [
      {
        name: MUTATE_WEBHOOK,
        clientConfig: clientConfig(r, 'mutate'),
        rules: webhookRules('mutate'),
        // a pod must never fail to start because the range computation is unavailable
        failurePolicy: 'Ignore',
        // called again when a later webhook (Istio's injector) changes the pod; our patch is idempotent
        reinvocationPolicy: 'IfNeeded',
        namespaceSelector: scopeSelector(r.namespace, r.onlyLabelled),
        ...common,
      },
    ],
  };
}

/** Every object of the installation, in apply order (namespace first, webhook registrations last). */
export function renderInstallation(options: InstallOptions = {}): KubeObject[] {
  const r = resolve(options);
  const webhooks = [validatingConfiguration(r), mutatingConfiguration(r)];
  if (r.url !== undefined) return webhooks;
  return [
    namespaceObject(r),
    ...rbac(r),
    ...(r.certManager ? certManagerObjects(r) : []),
    ...(r.tokens ? [tokenSecret(r, r.tokens)] : []),
    deployment(r),
    service(r),
    disruptionBudget(r),
    networkPolicy(r),
    ...webhooks,
  ];
}

const isWebhookConfiguration = (o: KubeObject): boolean =>
  o.kind === 'ValidatingWebhookConfiguration' || o.kind === 'MutatingWebhookConfiguration';

/**
 * The same objects in removal order, for `kubectl delete -f -`: the webhook configurations first,
 * so that no write is sent to a server that is going away, then the rest in reverse apply order
 * (the namespace, and whatever it holds, last).
 */
export function removalOrder(objects: readonly KubeObject[]): KubeObject[] {
  return [...objects.filter(isWebhookConfiguration), ...objects.filter((o) => !isWebhookConfiguration(o)).reverse()];
}

export type ManifestFile = { readonly path: string; readonly text: string };

const HEADER = '# Generated by `egress-warden manifests --write` from src/manifests/install.ts: change the options, not this file.\n';

const FILE_OF: Readonly<Record<string, string>> = {
  Namespace: 'namespace.yaml',
  ServiceAccount: 'rbac.yaml',
  ClusterRole: 'rbac.yaml',
  ClusterRoleBinding: 'rbac.yaml',
  Role: 'rbac.yaml',
  RoleBinding: 'rbac.yaml',
  Issuer: 'certificates.yaml',
  Certificate: 'certificates.yaml',
  Secret: 'token.yaml',
  Deployment: 'deployment.yaml',
  Service: 'service.yaml',
  PodDisruptionBudget: 'pod-disruption-budget.yaml',
  NetworkPolicy: 'network-policy.yaml',
  ValidatingWebhookConfiguration: 'webhooks.yaml',
  MutatingWebhookConfiguration: 'webhooks.yaml',
};

const KUSTOMIZATION_NOTE = [
  '# caBundle is left out of base/webhooks.yaml. Fill it in one of three ways (manifests/README.md):',
  '#   kubectl apply -k manifests/cert-manager    (cert-manager issues the certificate and injects the CA)',
  '#   egress-warden manifests --ca certs/ca.crt --token-file manifests/base/token | kubectl apply -f -',
  '#   an overlay patching webhooks[*].clientConfig.caBundle with base64 of your CA',
  '# Do not set `namespace:` in an overlay: it would move the kube-system Role. Use `egress-warden manifests --namespace`.',
  '',
].join('\n');

const TOKEN_NOTE = [
  '# The caller token is read from the file `token` beside this file (git-ignored; `egress-warden manifests',
  '# --write DIR` creates it when missing), never written into the YAML: the Secret generator makes the',
  '# Secret the server mounts, and the local-config ConfigMap (which kustomize uses, then leaves out of',
  '# its output) is copied into every webhook path. One token, no newline. Rotation: docs/install.md.',
  '',
].join('\n');

/** kustomize drops objects with this annotation from its output, but reads them as replacement sources. */
const LOCAL_CONFIG = 'config.kubernetes.io/local-config';

/**
 * Secret <name>-token and the webhook paths, filled by kustomize from one file: the token never
 * appears in the rendering, which stays the same whatever the token is. Each webhook's path (or URL)
 * gets the token appended as one more `/`-separated segment.
 */
function tokenGenerators(r: Resolved, webhooks: readonly KubeObject[]): Record<string, unknown> {
  const name = tokenSecretName(r.name);
  const options = { disableNameSuffixHash: true };
  const targets = webhooks.flatMap((config) =>
    (config.webhooks as { name: string; clientConfig: { url?: string; service?: { path: string } } }[]).map((w) => {
      const [field, value] =
        w.clientConfig.url !== undefined ? ['url', w.clientConfig.url] : ['service.path', w.clientConfig.service?.path ?? ''];
      return {
        select: { kind: config.kind, name: config.metadata?.name },
        fieldPaths: [`webhooks.[name=${w.name}].clientConfig.${field}`],
        options: { delimiter: '/', index: value.split('/').length },
      };
    }),
  );
  return {
    ...(r.url === undefined
      ? {
          secretGenerator: [
            { name, namespace: r.namespace, type: 'Opaque', files: [TOKEN_FILE_NAME], options: { ...options, labels: labelsOf(r) } },
          ],
        }
      : {}),
    configMapGenerator: [
      { name, namespace: r.namespace, files: [TOKEN_FILE_NAME], options: { ...options, annotations: { [LOCAL_CONFIG]: 'true' } } },
    ],
    replacements: [{ source: { kind: 'ConfigMap', name, fieldPath: `data.${TOKEN_FILE_NAME}` }, targets }],
  };
}

function group(objects: readonly KubeObject[]): ManifestFile[] {
  const files = new Map<string, KubeObject[]>();
  for (const o of objects) {
    const path = FILE_OF[o.kind ?? ''] ?? 'resources.yaml';
    files.set(path, [...(files.get(path) ?? []), o]);
  }
  return [...files].map(([path, docs]) => ({ path, text: HEADER + toYaml(docs) }));
}

/**
 * The installation as kustomize directories: `base/` (one file per concern), a top-level
 * kustomization.yaml that applies it (`kubectl apply -k DIR`), and, for a base that runs in the
 * cluster without a CA, a `cert-manager/` variant (certificates plus the inject-ca-from annotation).
 * The variant sits beside the base, not inside it: kustomize refuses a root that contains another.
 */
export function renderKustomization(options: InstallOptions = {}): ManifestFile[] {
  // the tokens come from DIR/base/token, never from the options: the rendering carries no secret
  const objects = renderInstallation({ ...options, tokens: undefined });
  const files = group(objects);
  const tokenFrom = resolve(options).noToken ? {} : tokenGenerators(resolve(options), objects.filter(isWebhookConfiguration));
  const kustomization = (path: string, resources: readonly string[], note = '', extra: Record<string, unknown> = {}): ManifestFile => ({
    path,
    text: HEADER + note + toYaml([{ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources, ...extra }]),
  });
  const complete = options.url !== undefined || options.certManager || options.caPem !== undefined;
  const out = [
    kustomization('kustomization.yaml', ['base'], complete ? '' : KUSTOMIZATION_NOTE),
    kustomization(
      'base/kustomization.yaml',
      files.map((f) => f.path),
      options.noToken ? '' : TOKEN_NOTE,
      tokenFrom,
    ),
    ...files.map((f) => ({ path: `base/${f.path}`, text: f.text })),
  ];
  if (complete) return out;

  const r = resolve(options);
  const withCertManager = resolve({ ...options, certManager: true });
  const patches = [validatingConfiguration(withCertManager), mutatingConfiguration(withCertManager)].map((c) => ({
    target: { group: 'admissionregistration.k8s.io', version: 'v1', kind: c.kind, name: r.name },
    patch: toYaml([{ apiVersion: c.apiVersion, kind: c.kind, metadata: { name: r.name, annotations: c.metadata?.annotations } }]),
  }));
  // Two files so that a move from your own certificate to cert-manager can trust cert-manager's CA
  // before the serving certificate changes (docs/install.md, "From your own CA to cert-manager").
  const certificates = certManagerObjects(withCertManager);
  const serving = certificates.filter((o) => o.kind === 'Certificate' && o.metadata?.name === tlsSecretName(r.name));
  return [
    ...out,
    kustomization('cert-manager/kustomization.yaml', ['../base', 'ca.yaml', 'serving-certificate.yaml'], '', { patches }),
    { path: 'cert-manager/ca.yaml', text: HEADER + toYaml(certificates.filter((o) => !serving.includes(o))) },
    { path: 'cert-manager/serving-certificate.yaml', text: HEADER + toYaml(serving) },
  ];
}
