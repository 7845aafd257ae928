/**
 * `npm run bench`: egress-warden next to a bare-Fastify baseline in the same run, a review with
 * 5,000 pending writes against none (read-your-writes), its cost against cluster size, and the rule
 * engine alone. Prints markdown and writes bench/results.md; the sections of parts not run this time
 * are kept from the file, marked with the run that measured them.
 * A measurement, not a test: nothing here passes or fails on the figures.
 *
 *   npm run bench                 3 alternating rounds of 5 s, sizes 0 / 10,000 / 100,000, and
 *                                 5 minutes of load on 100,000 objects for memory over time
 *   npm run bench -- --quick      1 round of 1 s, sizes 0 / 1,000, 6 s of load on 1,000 objects
 *                                 (keeps the bench working in CI); written to the temp folder unless --out is given
 *   options: --rounds N --duration S --connections C --parts rules,http,scale,soak --minutes M --out FILE
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { imageRuntime, ROOT, runtimeSettings } from './processes.ts';
import { runRules } from './rules.ts';
import { runScale } from './scale.ts';
import { OVERLAY_TTL_MS } from '../src/cluster/overlay.ts';
import { PENDING_WRITES } from './pending.ts';
import { runSideBySide } from './side-by-side.ts';
import { FLAT_TOLERANCE, runSoak } from './soak.ts';

const PARTS = ['rules', 'http', 'scale', 'soak'] as const;
type Part = (typeof PARTS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    parts: { type: 'string' },
    minutes: { type: 'string' },
    out: { type: 'string' },
  },
});

const quick = values.quick ?? false;
const number = (text: string | undefined, fallback: number, flag: string): number => {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`bench: --${flag} must be a positive number, got "${text}"\n`);
    process.exit(2);
  }
  return n;
};
const rounds = Math.round(number(values.rounds, quick ? 1 : 3, 'rounds'));
const seconds = number(values.duration, quick ? 1 : 5, 'duration');
const connections = Math.round(number(values.connections, 64, 'connections'));
const warmupSeconds = quick ? 0.5 : 2;
const parts = new Set<string>(values.parts ? values.parts.split(',').map((p) => p.trim()) : PARTS);
for (const p of parts) {
  if (!PARTS.includes(p as Part)) {
    process.stderr.write(`bench: --parts takes ${PARTS.join(', ')}, got "${p}"\n`);
    process.exit(2);
  }
}
const sizes = quick ? [0, 1_000] : [0, 10_000, 100_000];
const soakMinutes = number(values.minutes, quick ? 0.1 : 5, 'minutes');
const ruleObjects = quick ? 10_000 : 100_000;
// bench/results.md holds the figures the README quotes; a quick run must not replace them.
const out = values.out ?? (quick ? join(tmpdir(), 'egress-warden-bench-quick.md') : join(ROOT, 'bench', 'results.md'));
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;

const log = (line: string) => process.stderr.write(`${line}\n`);

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted changes in src/` : head;
  } catch {
    return 'unknown';
  }
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ');
const loadBefore = load();
const startedAt = new Date().toISOString();

const machine = () =>
  [
    `- Date: ${startedAt}`,
    `- Command: \`${command}\``,
    `- Commit: ${commit()}`,
    `- Machine: ${cpus().length} cores, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, ${platform()} ${release()} ${arch()}`,
    `- Node ${process.version}; autocannon ${connections} connections, keep-alive HTTP/1.1 over TLS, no pipelining; ` +
      `${rounds} round${rounds > 1 ? 's' : ''} of ${seconds} s per server and review after a ${warmupSeconds} s warm-up`,
    `- Load average (1 / 5 / 15 min) before: ${loadBefore}; after: ${load()} (anything else running on the machine shows here)`,
  ].join('\n');

const sections: string[] = [];
/** the part each section belongs to, by its heading (the order in which they are pushed below) */
const HEADINGS: readonly (readonly [string, Part])[] = [
  ['## /validate and /mutate', 'http'],
  ['## A review with', 'http'],
  ['## Cost against cluster size', 'scale'],
  ['## Memory over a long run', 'soak'],
  ['## Rule engine alone', 'rules'],
];
const started = performance.now();
log(`bench: ${quick ? 'quick' : 'full'} run; parts ${[...parts].join(', ')}`);

if (parts.has('http')) {
  log('bench: side by side with the baseline');
  const r = await runSideBySide({ rounds, seconds, warmupSeconds, connections, log });
  sections.push(`## /validate and /mutate next to the baseline

Both servers run in their own process with the same certificate; the load generator runs in a third.
The baseline is a bare Fastify HTTPS route that parses the same body and answers a fixed AdmissionReview,
the ceiling for this stack. Every request goes to the path with the caller token (\`/validate/<token>\`),
which egress-warden checks and the baseline ignores. Requests/s and latencies are medians over the rounds;
the ratio is the median of each round's egress-warden / baseline requests/s. Latencies leave out each
connection's first answer (the TLS handshake), as the API server keeps its connections open. The
allowed ServiceEntry, VirtualService and Egress are remembered by egress-warden (read-your-writes), as
every allowed write is.

${r.markdown}

At ${connections} connections a server answering R requests/s holds each request ${connections}/R seconds on
average (Little's law), so a p99 under 10 ms at ${connections} connections needs at least
${(connections * 100).toLocaleString('en-US')} requests/s. Where the baseline itself is slower than that, its own p99
is the reference for egress-warden's, and the one-connection table shows what one review costs.
${r.notes.length ? `\nUnexpected answers (the figures above measured them as they are):\n\n${r.notes.map((n) => `- ${n}`).join('\n')}\n` : ''}`);
  process.stdout.write(`${sections.at(-1)}\n`);
  sections.push(`## A review with ${PENDING_WRITES.toLocaleString('en-US')} pending writes

The valid ServiceEntry on egress-warden, measured back to back in each round: once with nothing
pending (only its own write, which the server remembers), once after ${PENDING_WRITES.toLocaleString('en-US')} allowed CREATEs of distinct
ServiceEntries, Egresses, VirtualServices, HTTPRouteGroups and Namespaces from one other caller
(\`bench/pending.ts\`) were sent through \`/validate/<token>\` just before the run. The server holds them
for ${OVERLAY_TTL_MS / 1000} s (no informer confirms them), so the fill is repeated before every run and the count is
read from \`egress_warden_overlay_pending\` after the fill and again after the run. The ratios are
taken within each round and the median is shown; the target is within 1.2x of none.

${r.pending}
`);
  process.stdout.write(`${sections.at(-1)}\n`);
}

/** The image's environment and node flags, as the scale section names them. */
function imageSettings(): string {
  return runtimeSettings(imageRuntime())
    .map((x) => `\`${x}\``)
    .join(', ');
}

if (parts.has('scale')) {
  log('bench: scale');
  const markdown = await runScale({ sizes, rounds, seconds, warmupSeconds, connections, builds: quick ? 1 : 3, log });
  sections.push(`## Cost against cluster size

One egress-warden process per size, started with \`--state\` on a folder of generated ServiceEntries
and OSM Egresses (half each, over 200 team namespaces; \`bench/generate.ts\`), run as the container
image runs it: with the Dockerfile's environment and node flags (${imageSettings()}), each in a memory
cgroup of the Deployment's limit where this machine lets the bench make one (Node sizes V8's heap from
that limit; the "memory limit" column says whether it was set). All of them run at
the same time and are loaded in turn within each round: new ServiceEntries (one new object per review,
which every review judges against the loaded indexes), then the valid ServiceEntry and the Egress of
the side-by-side part, which the server answers from what it remembers once it has judged them. "p99 vs empty"
compares with the 0-object server. "State seen by the rules" sends a ServiceEntry that clashes with a
generated one and looks for the cross-object warning. RSS and peak RSS are the server's VmRSS / VmHWM
from /proc; heap used is V8's, from the server's /metrics. The in-process columns time
\`loadStateDir\` and \`snapshotFromObjects\` in the bench process.

${markdown}
`);
  process.stdout.write(`${sections.at(-1)}\n`);
}

if (parts.has('soak')) {
  log('bench: soak');
  const size = sizes.at(-1)!;
  const soak = await runSoak({ size, minutes: soakMinutes, windowSeconds: quick ? 1 : 15, connections, log });
  sections.push(`## Memory over a long run

One egress-warden process holding ${size.toLocaleString('en-US')} generated objects through \`--state\`, run as the
Deployment runs it (the scale part's settings and memory limit), loaded for ${soakMinutes} minutes at ${connections}
connections: a rollout (70% pod creates, 30% egress objects, the side-by-side mix) and a stream of new
ServiceEntries (each judged and held as a pending write), taking turns window by window. RSS, peak
RSS (VmHWM) and V8's heap in use are read after every window. Memory is flat when the second half of
the run holds no more than the first half did at its highest, give or take ${FLAT_TOLERANCE * 100}%: a leak climbs window
after window, the collector's saw-tooth does not.

${soak.markdown}
`);
  process.stdout.write(`${sections.at(-1)}\n`);
}

if (parts.has('rules')) {
  log('bench: rules in-process');
  const { markdown, pending } = runRules({ objects: ruleObjects, seconds: quick ? 0.25 : 1, repeats: quick ? 1 : 3, log });
  sections.push(`## Rule engine alone

In-process calls per second of \`judge()\` (and of \`admitPod()\` for the pod) on the decoded bench reviews,
single-threaded, with a snapshot holding only the bench namespace and with one of ${ruleObjects.toLocaleString('en-US')}
generated objects. This is the upper bound the HTTP figures approach when parsing and TLS cost nothing;
in the server every review is a freshly parsed object, so the same rules take longer there than in
this loop over one object.

${markdown}

The same reviews on the ${ruleObjects.toLocaleString('en-US')}-object snapshot through the reviewer \`serve\` runs (\`notingPendingWrites(judge, overlay)\`
for validation, judging every review where \`serve\` would answer a repeated one from what it remembers;
the pod mutation over \`overlay.layer(snapshot)\`), with nothing pending and with
${PENDING_WRITES.toLocaleString('en-US')} pending writes of every kind the snapshot indexes. A review either only reads the overlay, or
its write is then admitted as \`serve\` admits every allowed write, so each review meets a layering
changed by the one before it: the same object every time (a re-apply), or a new object every time
while the oldest pending write expires (a steady stream of writes; the overlay's clock moves one tick
per review and its TTL holds ${PENDING_WRITES.toLocaleString('en-US')} ticks and two more, so that with nothing else pending a review
still meets the write of the one before it). Microseconds per review, medians of ${quick ? 1 : 3} runs; the
ratio is pending / none, and the target is within 1.2x.

${pending}
`);
  process.stdout.write(`${sections.at(-1)}\n`);
}

/**
 * The sections of the parts this run did not measure, from the file it replaces, each marked with
 * the run that did (once: a section kept again keeps its first mark).
 */
function keptSections(file: string): { readonly heading: string; readonly text: string }[] {
  if (!existsSync(file)) return [];
  const old = readFileSync(file, 'utf8');
  const field = (name: string) => old.match(new RegExp(`^- ${name}: (.*)$`, 'm'))?.[1] ?? 'unknown';
  const mark = `_Kept from the run of ${field('Date')} at commit ${field('Commit')} (${field('Command')}): the latest run did not measure it._`;
  return old
    .split(/^(?=## )/m)
    .slice(1)
    .flatMap((chunk) => {
      const row = HEADINGS.find(([h]) => chunk.startsWith(h));
      if (!row || parts.has(row[1])) return [];
      const text = chunk.replace(/^_Total bench time: .*$\n?/m, '').trimEnd();
      const [title, ...lines] = text.split('\n');
      const rest = lines.join('\n');
      // a section kept before already names its run
      const marked = rest.trimStart().startsWith('_Kept from the run of');
      return [{ heading: row[0], text: marked ? `${text}\n` : `${title}\n\n${mark}\n${rest}\n` }];
    });
}

const kept = keptSections(out);
const ordered = HEADINGS.flatMap(([h]) => [
  ...sections.filter((t) => t.startsWith(h)),
  ...kept.filter((k) => k.heading === h).map((k) => k.text),
]);

const document = `# egress-warden benchmark results

${machine()}

The machine has ${cpus().length} cores shared by the servers and the load generator, so the absolute
figures are low and noisy; read them relative to the baseline measured in the same run. This is a
measurement, not a test: no figure fails the run. Targets are those of DESIGN.md ("Targets").

${ordered.join('\n')}
_Total bench time: ${((performance.now() - started) / 1000).toFixed(0)} s._
`;
writeFileSync(out, document);
log(`bench: wrote ${out}`);
