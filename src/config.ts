/**
 * `serve` settings from flags and environment: the one reader of process.env for the server.
 * Flags win over environment, which wins over defaults. Fails fast, naming the flag or variable.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readCidrSettings, type ConfiguredPair } from './cluster/cidr-settings.ts';
import { DEFAULT_REVIEW_LOG_POLICY, REVIEW_LOG_POLICIES, type ReviewLogPolicy } from './log.ts';

export type ServeConfig = Readonly<{
  port: number;
  host: string;
  certDir: string;
  /** names for a development certificate generated on first start */
  service: string;
  /**
   * The server's own namespace: --namespace, else POD_NAMESPACE (the Deployment sets it from the
   * downward API), else the ServiceAccount's namespace file. Undefined outside a pod without either:
   * the dry-run Service probe then goes to the kubeconfig context's namespace, as kubectl would.
   */
  namespace: string | undefined;
  kubeconfig: string | undefined;
  /** --pod-cidrs / --service-cidrs, else EW_POD_CIDRS / EW_SERVICE_CIDRS, each naming where it came from */
  cidrs: ConfiguredPair;
  stateDir: string | undefined;
  logLevel: string;
  /** which reviews write a log line (src/http/review-log.ts) */
  logReviews: ReviewLogPolicy;
  /** run without a cluster even when a kubeconfig is found */
  noCluster: boolean;
  /** judge every UPDATE as if the object were new, instead of denying only what it introduces */
  strictUpdates: boolean;
}>;

export const SERVE_USAGE = `usage: egress-warden serve [--port 8443] [--host 0.0.0.0] [--certs certs]
                          [--kubeconfig FILE | --no-cluster] [--pod-cidrs LIST] [--service-cidrs LIST]
                          [--state DIR] [--log-level info] [--log-reviews changes|all|none]
                          [--service egress-warden] [--namespace egress-warden] [--strict-updates]
--service and --namespace name the Service in a development certificate generated on first start;
--namespace is also where the dry-run Service probe goes (default: POD_NAMESPACE, then the pod's
ServiceAccount namespace, then the kubeconfig context's namespace).
--strict-updates denies an UPDATE for findings the stored object already had (default: only for new ones).
--log-reviews changes logs denials, warnings, findings, patched pods and errors at info and other reviews
at debug; all logs every review at info; none only the summary of reviews written every minute.
environment: EW_PORT, EW_HOST, EW_CERTS, KUBECONFIG, EW_POD_CIDRS, EW_SERVICE_CIDRS, EW_STATE, EW_LOG_LEVEL,
             EW_LOG_REVIEWS, EW_STRICT_UPDATES (true/false), POD_NAMESPACE`;

/** Where the kubelet mounts the namespace of a pod's ServiceAccount. */
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The namespace in the ServiceAccount file, or undefined outside a pod. */
export function serviceAccountNamespace(file = SERVICE_ACCOUNT_NAMESPACE_FILE): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The namespace a development certificate names when the server's own is unknown. */
export const DEFAULT_CERT_NAMESPACE = 'egress-warden';

export const SERVE_OPTIONS = {
  port: { type: 'string' }, host: { type: 'string' }, certs: { type: 'string' },
  service: { type: 'string' }, namespace: { type: 'string' },
  kubeconfig: { type: 'string' }, 'no-cluster': { type: 'boolean' },
  'pod-cidrs': { type: 'string' }, 'service-cidrs': { type: 'string' },
  state: { type: 'string' }, 'log-level': { type: 'string' },
  'log-reviews': { type: 'string' }, 'strict-updates': { type: 'boolean' },
} as const;

type Env = Readonly<Record<string, string | undefined>>;

export function readServeConfig(argv: readonly string[], env: Env, ownNamespace: () => string | undefined = serviceAccountNamespace): ServeConfig {
  return serveConfig(parseArgs({ args: [...argv], options: SERVE_OPTIONS, strict: true, allowPositionals: false }).values, env, ownNamespace);
}

/**
 * The settings from parsed flags (SERVE_OPTIONS) and the environment. `ownNamespace` reads the
 * ServiceAccount file, and is asked only when neither --namespace nor POD_NAMESPACE is set.
 */
export function serveConfig(
  values: ReturnType<typeof parseArgs<{ options: typeof SERVE_OPTIONS }>>['values'], env: Env,
  ownNamespace: () => string | undefined = serviceAccountNamespace,
): ServeConfig {
  const portText = values.port ?? env.EW_PORT ?? '8443';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new Error(`config: --port / EW_PORT must be 0..65535 (0 picks a free port), got "${portText}"`);
  }
  const logLevel = values['log-level'] ?? env.EW_LOG_LEVEL ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new Error(`config: --log-level / EW_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`);
  }
  const logReviews = values['log-reviews'] ?? env.EW_LOG_REVIEWS ?? DEFAULT_REVIEW_LOG_POLICY;
  if (!(REVIEW_LOG_POLICIES as readonly string[]).includes(logReviews)) {
    throw new Error(`config: --log-reviews / EW_LOG_REVIEWS must be one of ${REVIEW_LOG_POLICIES.join(', ')}, got "${logReviews}"`);
  }
  const strictText = env.EW_STRICT_UPDATES ?? '';
  if (!['', 'true', 'false'].includes(strictText)) throw new Error(`config: EW_STRICT_UPDATES must be true or false, got "${strictText}"`);
  const { config: cidrs, problems } = readCidrSettings({ pod: values['pod-cidrs'], service: values['service-cidrs'] }, env);
  if (problems.length) throw new Error(`config: ${problems.join('; ')}`);
  return Object.freeze({
    port,
    host: values.host ?? env.EW_HOST ?? '0.0.0.0',
    certDir: values.certs ?? env.EW_CERTS ?? 'certs',
    service: values.service ?? 'egress-warden',
    namespace: values.namespace ?? (env.POD_NAMESPACE || undefined) ?? ownNamespace(),
    kubeconfig: values.kubeconfig ?? env.KUBECONFIG,
    noCluster: values['no-cluster'] ?? false,
    cidrs,
    stateDir: values.state ?? env.EW_STATE,
    logLevel,
    logReviews: logReviews as ReviewLogPolicy,
    strictUpdates: values['strict-updates'] ?? strictText === 'true',
  });
}
