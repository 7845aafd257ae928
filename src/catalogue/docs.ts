/**
 * docs/codes.md, rendered from the findings table: one section per code, headed by the code, so
 * its anchor is the code's docs slug.
 * Pure; `npm run docs` writes the file and a test fails when the checked-in copy differs.
 */
import { CODES, docsSlug, FINDINGS, type Code } from './findings.ts';

type Section = { readonly heading: string; readonly codes: (code: Code) => boolean; readonly intro: string };

const SECTIONS: readonly Section[] = [
  {
    heading: 'The engine (EW0xx)',
    codes: (c) => c.startsWith('EW0'),
    intro: 'Reported when a rule fails instead of judging.',
  },
  {
    heading: 'ServiceEntry (EW1xx)',
    codes: (c) => c.startsWith('EW1'),
    intro: "`networking.istio.io` ServiceEntry, checked as istiod checks it, with istiod's messages where it has one.",
  },
  {
    heading: 'VirtualService (EW2xx)',
    codes: (c) => c.startsWith('EW2'),
    intro: '`networking.istio.io` VirtualService tls and tcp routes, hosts, gateways and exportTo, as istiod checks them.',
  },
  {
    heading: 'OSM Egress (EW3xx)',
    codes: (c) => c.startsWith('EW3'),
    intro: "`policy.openservicemesh.io` Egress: OSM's own checks, and what OSM accepts but silently ignores or breaks.",
  },
  {
    heading: 'Across Istio objects, and what the mesh itself breaks (EW401-EW410)',
    codes: (c) => c.startsWith('EW40') || c === 'EW410',
    intro: 'Checks no mesh makes: a ServiceEntry or VirtualService compared with the others in the cluster. All are warnings.',
  },
  {
    heading: 'tcp-server-first conflicts (EW420-EW425)',
    codes: (c) => c.startsWith('EW42'),
    intro: 'OSM Egress ports compared per client ServiceAccount and port number with the other Egresses and the in-mesh Services.',
  },
  {
    heading: 'Capture annotations and pod mutation (EW5xx)',
    codes: (c) => c.startsWith('EW5'),
    intro: 'The egress-warden.io capture annotations on pods and namespaces, and the mesh annotations a pod sets itself.',
  },
  {
    heading: 'Istio Sidecar scoping (EW601-EW613)',
    codes: (c) => c.startsWith('EW60') || c.startsWith('EW61'),
    intro:
      '`networking.istio.io` Sidecar egress listeners and outboundTrafficPolicy as istiod checks them (`ValidateSidecar`), and the Sidecars of a namespace read together.',
  },
  {
    heading: 'Ambient egress through waypoints (EW621-EW631)',
    codes: (c) => c.startsWith('EW62') || c.startsWith('EW63'),
    intro:
      'ServiceEntries bound to a waypoint by `istio.io/use-waypoint` (on the entry or its namespace), and AuthorizationPolicies attached to ServiceEntries: what ambient mode accepts and then routes around the waypoint.',
  },
  {
    heading: 'Gateway API routes for mesh egress (EW641-EW651)',
    codes: (c) => c.startsWith('EW64') || c.startsWith('EW65'),
    intro:
      'HTTPRoute, GRPCRoute, TLSRoute and TCPRoute whose parentRefs name an Istio ServiceEntry or a Linkerd EgressNetwork; other routes are left alone. Istio reports these only in the route status.',
  },
  {
    heading: 'Linkerd EgressNetwork (EW661-EW666)',
    codes: (c) => c.startsWith('EW66'),
    intro: "`policy.linkerd.io` EgressNetwork (Linkerd 2.17+): Linkerd's own admission checks, and the overlap it reports only afterwards.",
  },
];

/**
 * How a denial or a warning points to its code's page: a URL when a docs site is configured
 * (serve --docs-url), else the command that prints the page offline from the installed package.
 */
export type Pointer = (code: Code) => string;
/** The variable serve reads --docs-url from; the installation sets it (Helm: values.docsUrl). */
export const DOCS_URL_ENV = 'EW_DOCS_URL';
export const offlinePointer: Pointer = (code) => `egress-warden help ${code}`;
export const urlPointer =
  (codesPage: string): Pointer =>
  (code) =>
    `${codesPage.replace(/#.*$/, '')}#${docsSlug(code)}`;

/** The group of a code as docs/codes.md heads it, without its code range ("ServiceEntry"); reports file results under it. */
export const categoryOf = (code: Code): string => SECTIONS.find((s) => s.codes(code))?.heading.replace(/\s*\([^()]*\)$/, '') ?? '';

export function renderCodesDoc(): string {
  const unsorted = CODES.filter((c) => !SECTIONS.some((s) => s.codes(c)));
  if (unsorted.length) throw new Error(`docs: no section for ${unsorted.join(', ')}`);
  const lines = [
    '# Finding codes',
    '',
    '<!-- Generated from src/catalogue/findings.ts by `npm run docs`. Do not edit: a test fails when this file differs. -->',
    '',
    'Every finding names a code, a field path and what is wrong: `[EW115] spec.ports[0].name: ...`.',
    'The severity is what a finding does in a namespace in `enforce` mode (the default): an error denies',
    'the object, a warning is returned with the answer. In `warn` mode errors become warnings; in `audit`',
    'mode findings only go to the audit annotations. Link to a code as `docs/codes.md#ew115`.',
    '',
    ...SECTIONS.map(
      (s) =>
        `- [${s.heading}](#${s.heading
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-')})`,
    ),
    '',
  ];
  for (const s of SECTIONS) {
    lines.push(`## ${s.heading}`, '', s.intro, '');
    for (const code of CODES.filter(s.codes)) {
      const f = FINDINGS[code];
      lines.push(`### ${code}`, '', `**${f.severity}**: ${f.title}`, '', `**What it means.** ${f.meaning}`, '', `**Fix.** ${f.fix}`, '');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
