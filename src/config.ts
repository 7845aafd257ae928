/**
 * `serve` settings from flags and environment: the one reader of process.env for the server.
 * Flags win over environment, which wins over defaults. Fails fast, naming the flag or variable.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DOCS_URL_ENV } from './catalogue/docs.ts';
import { TOKEN_GRACE_MS } from './catalogue/endpoints.ts';
import { readCidrSettings, type ConfiguredPair } from './cluster/cidr-settings.ts';
import { DEFAULT_REVIEW_LOG_POLICY, LOG_FORMATS, REVIEW_LOG_POLICIES, type LogFormat, type ReviewLogPolicy } from './log.ts';
import { REPORT_FORMATS, type ReportFormat } from './catalogue/resources.ts';

/** Seconds between passes of the continuous audit over every stored object. */
export const DEFAULT_AUDIT_INTERVAL_S = 300;
const DEFAULT_REPORTS: readonly ReportFormat[] = ['policyreport'];

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
  /** --log-format / EW_LOG_FORMAT: JSON lines (default) or text for a terminal */
  logFormat: LogFormat;
  /** run without a cluster even when a kubeconfig is found */
  noCluster: boolean;
  /** judge every UPDATE as if the object were new, instead of denying only what it introduces */
  strictUpdates: boolean;
  /** --token-file / EW_TOKEN_FILE; undefined: <certDir>/token, generated when missing */
  tokenFile: string | undefined;
  /** serve the admission paths without a token (--insecure-no-token): loud, and read-your-writes is off without a client CA */
  insecureNoToken: boolean;
  /** --client-ca / EW_CLIENT_CA: PEM file of the CA whose client certificates the admission paths require */
  clientCa: string | undefined;
  /** --client-names / EW_CLIENT_NAMES: CN or DNS names accepted from that CA; empty: any */
  clientNames: readonly string[];
  /** --tls-min-version / EW_TLS_MIN_VERSION */
  tlsMinVersion: 'TLSv1.2' | 'TLSv1.3';
  /** --reports / EW_REPORTS: the report formats the leader writes; empty: none */
  reports: readonly ReportFormat[];
  /** --audit-interval / EW_AUDIT_INTERVAL: milliseconds between full audit passes; 0: no continuous audit, no leader election */
  auditIntervalMs: number;
  /** --docs-url / EW_DOCS_URL: the URL of docs/codes.md that denials and warnings point to; unset: `egress-warden help EWnnn` */
  docsUrl: string | undefined;
}>;

/**
 * Every `serve` setting, one row each: its flag, the environment variable that stands in for it, and
 * how the usage line shows it. The parser's options, the usage text and the environment list are
 * derived from these rows; serveConfig() reads each through `setting()`.
 */
const SETTINGS = {
  port: { type: 'string', env: 'EW_PORT', usage: '[--port 8443]' },
  host: { type: 'string', env: 'EW_HOST', usage: '[--host 0.0.0.0]' },
  certs: { type: 'string', env: 'EW_CERTS', usage: '[--certs certs]' },
  kubeconfig: { type: 'string', env: 'KUBECONFIG', usage: '[--kubeconfig FILE | --no-cluster]' },
  'no-cluster': { type: 'boolean' },
  'pod-cidrs': { type: 'string', env: 'EW_POD_CIDRS', usage: '[--pod-cidrs LIST]' },
  'service-cidrs': { type: 'string', env: 'EW_SERVICE_CIDRS', usage: '[--service-cidrs LIST]' },
  state: { type: 'string', env: 'EW_STATE', usage: '[--state DIR]' },
  'log-level': { type: 'string', env: 'EW_LOG_LEVEL', usage: '[--log-level info]' },
  'log-reviews': { type: 'string', env: 'EW_LOG_REVIEWS', usage: '[--log-reviews changes|all|none]' },
  'log-format': { type: 'string', env: 'EW_LOG_FORMAT', usage: '[--log-format json|text]' },
  service: { type: 'string', usage: '[--service egress-warden]' },
  namespace: { type: 'string', env: 'POD_NAMESPACE', usage: '[--namespace egress-warden]' },
  'strict-updates': { type: 'boolean', env: 'EW_STRICT_UPDATES', usage: '[--strict-updates]' },
  'token-file': { type: 'string', env: 'EW_TOKEN_FILE', usage: '[--token-file FILE | --insecure-no-token]' },
  'insecure-no-token': { type: 'boolean' },
  'client-ca': { type: 'string', env: 'EW_CLIENT_CA', usage: '[--client-ca FILE]' },
  'client-names': { type: 'string', env: 'EW_CLIENT_NAMES', usage: '[--client-names LIST]' },
  'tls-min-version': { type: 'string', env: 'EW_TLS_MIN_VERSION', usage: '[--tls-min-version 1.2|1.3]' },
  reports: { type: 'string', env: 'EW_REPORTS', usage: '[--reports policyreport,openreports|none]' },
  'audit-interval': { type: 'string', env: 'EW_AUDIT_INTERVAL', usage: '[--audit-interval 300]' },
  'docs-url': { type: 'string', env: DOCS_URL_ENV, usage: '[--docs-url URL]' },
} as const satisfies Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly env?: string; readonly usage?: string }>>;

type SettingName = keyof typeof SETTINGS;

const envOf = (name: SettingName): string | undefined => {
  const row = SETTINGS[name];
  return 'env' in row ? row.env : undefined;
};

/** The parser's options: the rows themselves (parseArgs reads `type` and ignores the rest). */
export const SERVE_OPTIONS: typeof SETTINGS = SETTINGS;

const INDENT = ' '.repeat('usage: egress-warden serve '.length);

/** The usage parts, wrapped at about 110 characters. */
function synopsis(): string {
  const lines: string[] = [];
  let line = 'usage: egress-warden serve';
  for (const row of Object.values(SETTINGS) as { usage?: string }[]) {
    if (row.usage === undefined) continue;
    if (line.length + 1 + row.usage.length > 110) {
      lines.push(line);
      line = INDENT.slice(0, -1);
    }
    line += ` ${row.usage}`;
  }
  return [...lines, line].join('\n');
}

const ENVIRONMENT = (Object.values(SETTINGS) as { type: string; env?: string }[]).flatMap((row) =>
  row.env === undefined ? [] : [row.type === 'boolean' ? `${row.env} (true/false)` : row.env],
);

export const SERVE_USAGE = `${synopsis()}
--token-file names the caller token file (one token per line, each accepted; a token removed from the
file stays accepted for ${TOKEN_GRACE_MS / 60_000} minutes). The webhook configurations call /validate/<token> and /mutate/<token>;
other callers get 401 or 403 and change nothing. Default: <certs>/token, generated when missing.
--insecure-no-token serves /validate and /mutate to anyone who reaches the port; what they send is
then never remembered (read-your-writes is off) unless --client-ca authenticates the callers.
--client-ca also requires, on the admission paths, a client certificate from that CA (the API server
presents one through its AdmissionConfiguration); --client-names limits it to these CN or DNS names.
--service and --namespace name the Service in a development certificate generated on first start;
--namespace is also where the dry-run Service probe goes (default: POD_NAMESPACE, then the pod's
ServiceAccount namespace, then the kubeconfig context's namespace).
--strict-updates denies an UPDATE for findings the stored object already had (default: only for new ones).
--reports names the reports the elected replica writes from the continuous audit of stored objects:
policyreport (wgpolicyk8s.io PolicyReports, the default), openreports (openreports.io Reports), both
(comma-separated) or none. --audit-interval is the number of seconds between passes over every stored
object (default ${DEFAULT_AUDIT_INTERVAL_S}; changes are judged as they come); 0 turns the audit and leader election off.
--docs-url is the URL of docs/codes.md that every denial and warning points to (its #ewNNN anchor);
without it they point to \`egress-warden help EWnnn\`, which prints the page offline.
--log-reviews changes logs denials, warnings, findings, patched pods and errors at info and other reviews
at debug; all logs every review at info; none only the summary of reviews written every minute.
environment (an empty variable counts as unset): ${ENVIRONMENT.join(', ')}`;

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

type Env = Readonly<Record<string, string | undefined>>;

export function readServeConfig(
  argv: readonly string[],
  env: Env,
  ownNamespace: () => string | undefined = serviceAccountNamespace,
): ServeConfig {
  return serveConfig(
    parseArgs({ args: [...argv], options: SERVE_OPTIONS, strict: true, allowPositionals: false }).values,
    env,
    ownNamespace,
  );
}

/**
 * The settings from parsed flags (SERVE_OPTIONS) and the environment. `ownNamespace` reads the
 * ServiceAccount file, and is asked only when neither --namespace nor POD_NAMESPACE is set.
 */
export function serveConfig(
  values: ReturnType<typeof parseArgs<{ options: typeof SERVE_OPTIONS }>>['values'],
  env: Env,
  ownNamespace: () => string | undefined = serviceAccountNamespace,
): ServeConfig {
  /** The flag, else its variable (empty counts as unset), else undefined. */
  const setting = (name: Exclude<SettingName, 'no-cluster' | 'insecure-no-token' | 'strict-updates'>): string | undefined => {
    const variable = envOf(name);
    return values[name] ?? (variable === undefined ? undefined : env[variable] || undefined);
  };
  const named = (name: SettingName) => (envOf(name) === undefined ? `--${name}` : `--${name} / ${envOf(name)}`);
  const portText = setting('port') ?? '8443';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new Error(`config: ${named('port')} must be 0..65535 (0 picks a free port), got "${portText}"`);
  }
  const logLevel = setting('log-level') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new Error(`config: ${named('log-level')} must be one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`);
  }
  const logReviews = setting('log-reviews') ?? DEFAULT_REVIEW_LOG_POLICY;
  if (!(REVIEW_LOG_POLICIES as readonly string[]).includes(logReviews)) {
    throw new Error(`config: ${named('log-reviews')} must be one of ${REVIEW_LOG_POLICIES.join(', ')}, got "${logReviews}"`);
  }
  const strictText = env[SETTINGS['strict-updates'].env] ?? '';
  if (!['', 'true', 'false'].includes(strictText))
    throw new Error(`config: ${SETTINGS['strict-updates'].env} must be true or false, got "${strictText}"`);
  const tokenFile = setting('token-file');
  const insecureNoToken = values['insecure-no-token'] ?? false;
  if (tokenFile !== undefined && insecureNoToken)
    throw new Error(`config: ${named('token-file')} and --insecure-no-token exclude each other`);
  const clientNames = (setting('client-names') ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const clientCa = setting('client-ca');
  if (clientNames.length && clientCa === undefined) throw new Error(`config: ${named('client-names')} needs ${named('client-ca')}`);
  const tlsText = setting('tls-min-version') ?? '1.2';
  if (tlsText !== '1.2' && tlsText !== '1.3') throw new Error(`config: ${named('tls-min-version')} must be 1.2 or 1.3, got "${tlsText}"`);
  const logFormat = setting('log-format') ?? 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(logFormat))
    throw new Error(`config: ${named('log-format')} must be one of ${LOG_FORMATS.join(', ')}, got "${logFormat}"`);
  const reportsText = setting('reports') ?? DEFAULT_REPORTS.join(',');
  const reports = reportsText === 'none' ? [] : [...new Set(reportsText.split(',').map((f) => f.trim()))];
  const unknownFormat = reports.find((f) => !(REPORT_FORMATS as readonly string[]).includes(f));
  if (unknownFormat !== undefined)
    throw new Error(`config: ${named('reports')} takes ${REPORT_FORMATS.join(', ')} (comma-separated) or none, got "${unknownFormat}"`);
  const intervalText = setting('audit-interval') ?? String(DEFAULT_AUDIT_INTERVAL_S);
  if (!/^\d+$/.test(intervalText) || Number(intervalText) > 86_400)
    throw new Error(`config: ${named('audit-interval')} must be whole seconds from 0 to 86400, got "${intervalText}"`);
  const docsUrl = setting('docs-url');
  if (docsUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(docsUrl))
    throw new Error(`config: ${named('docs-url')} must be an http(s) URL of docs/codes.md, got "${docsUrl}"`);
  const { config: cidrs, problems } = readCidrSettings({ pod: values['pod-cidrs'], service: values['service-cidrs'] }, env);
  if (problems.length) throw new Error(`config: ${problems.join('; ')}`);
  return Object.freeze({
    port,
    host: setting('host') ?? '0.0.0.0',
    certDir: setting('certs') ?? 'certs',
    service: setting('service') ?? 'egress-warden',
    namespace: setting('namespace') ?? ownNamespace(),
    kubeconfig: setting('kubeconfig'),
    noCluster: values['no-cluster'] ?? false,
    cidrs,
    stateDir: setting('state'),
    logLevel,
    logReviews: logReviews as ReviewLogPolicy,
    logFormat: logFormat as LogFormat,
    strictUpdates: values['strict-updates'] ?? strictText === 'true',
    tokenFile,
    insecureNoToken,
    clientCa,
    clientNames,
    tlsMinVersion: tlsText === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
    reports: reports as ReportFormat[],
    auditIntervalMs: Number(intervalText) * 1000,
    docsUrl,
  });
}
