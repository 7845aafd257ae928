/**
 * CPU per review through the whole Fastify pipeline, in one process, without TLS or sockets: the
 * server `serve` builds (caller gate, admission gate, parser, handler, read-your-writes, metrics,
 * logging into a file, response schema) next to the bare baseline route, each driven with
 * `inject()`. CPU time, not wall time, so other work on the machine changes the figures less than
 * it changes the HTTPS bench's; the difference between the two is what egress-warden adds per
 * review. It leaves out what both pay alike over HTTPS (TLS, the HTTP parser, about half the
 * baseline's time), so the ratio here is lower than the bench's.
 *
 *   npx node bench/inject.ts [--seconds S] [--rounds N] > /tmp/egress-warden-inject.log
 *
 * Each connection of the API server proves its token once; inject() makes a new connection per
 * request, so this pays the token check every time, which a real connection does not.
 */
import Fastify from 'fastify';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SERVE_OPTIONS, serveConfig } from '../src/config.ts';
import { startServer } from '../src/commands/serve.ts';
import { BODY_LIMIT } from '../src/http/routes.ts';
import { writeState } from './generate.ts';
import { rollout, scenarios, type Scenario } from './reviews.ts';
import { addressed, writeBenchToken } from './side-by-side.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, rounds: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);

const work = mkdtempSync(join(tmpdir(), 'egress-warden-inject-'));
const certs = join(work, 'certs');
const state = join(work, 'state');
writeState(state, 0);
const token = writeBenchToken(certs);
const parsed = parseArgs({
  args: ['--port', '0', '--host', '127.0.0.1', '--certs', certs, '--no-cluster', '--state', state],
  options: SERVE_OPTIONS,
  strict: true,
});
// the table goes to stderr: stdout carries the server's log lines, as a pipe carries them in the bench
const say = (s: string) => process.stderr.write(s);
const server = await startServer(serveConfig(parsed.values, {}), { env: {}, logLevel: 'info' });

const baseline = Fastify({ bodyLimit: BODY_LIMIT, logger: false });
const answer = async (request: { body: unknown }) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  response: { uid: String((request.body as { request?: { uid?: unknown } } | undefined)?.request?.uid ?? ''), allowed: true },
});
baseline.post('/validate/:token', answer);
baseline.post('/mutate/:token', answer);
await baseline.ready();

type App = { inject: (o: object) => Promise<{ statusCode: number }> };

async function cpuPerRequest(app: App, s: Scenario): Promise<number> {
  const requests = s.mix ?? [{ path: s.path, body: s.body }];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < 50; i++) {
      const r = requests[n % requests.length]!;
      const res = await app.inject({ method: 'POST', url: r.path, headers: { 'content-type': 'application/json' }, payload: r.body });
      if (res.statusCode !== 200) throw new Error(`${s.name}: HTTP ${res.statusCode}`);
      n++;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / n;
}

const all = scenarios().map((s) => addressed(s, token));
const list = [...all, addressed(rollout(scenarios()), token)];
for (const s of list) {
  await cpuPerRequest(server.app as unknown as App, s);
  await cpuPerRequest(baseline as unknown as App, s);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
say('| review | baseline µs CPU | egress-warden µs CPU | added µs | ratio |\n| --- | ---: | ---: | ---: | ---: |\n');
for (const s of list) {
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    a.push(await cpuPerRequest(baseline as unknown as App, s));
    b.push(await cpuPerRequest(server.app as unknown as App, s));
  }
  const [ma, mb] = [median(a), median(b)];
  say(`| ${s.name} | ${ma.toFixed(1)} | ${mb.toFixed(1)} | ${(mb - ma).toFixed(1)} | ${((100 * ma) / mb).toFixed(0)}% |\n`);
}
await server.close();
await baseline.close();
