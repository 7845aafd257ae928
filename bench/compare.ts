/**
 * Checkouts of the server side by side with the baseline, for one review: the way to tell what a
 * change buys before it lands. Each DIR is a checkout (a `git worktree` of another commit, say)
 * with its dependencies; its `src/cli.ts serve` runs as the bench runs it, with extra serve flags
 * after a second `=`. The servers and the baseline take turns within each round, and the table
 * gives medians of the rounds, per server CPU-second too.
 *
 *   npx node bench/compare.ts [--review N|mixed|new] [--rounds R] [--seconds S] DIR[=LABEL[=FLAGS]] ...
 *   npx node bench/compare.ts --review 0 /tmp/before=before . "=quiet=--log-reviews none"
 *
 * N is the scenario's index in bench/reviews.ts (0: valid ServiceEntry, 4: /mutate Pod); `new` is a
 * valid ServiceEntry with its own name and host on every review, which nothing remembered answers.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeState } from './generate.ts';
import { measureScenario, type Measure } from './load.ts';
import { freePort, ROOT, startServer, type ServerProcess } from './processes.ts';
import { namedReview } from './reviews.ts';
import { addressed, writeBenchToken } from './side-by-side.ts';
import { fmt, median, table } from './stats.ts';

const { values, positionals } = parseArgs({
  options: {
    review: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
  },
  allowPositionals: true,
});
if (positionals.length === 0) {
  process.stderr.write('usage: node bench/compare.ts [--review N|mixed|new] [--rounds R] [--seconds S] DIR[=LABEL[=FLAGS]] ...\n');
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'egress-warden-compare-'));
const certs = join(work, 'certs');
const state = join(work, 'state');
writeState(state, 0);
const token = writeBenchToken(certs);
const s = addressed(namedReview(values.review), token);

const servers: { readonly label: string; readonly process: ServerProcess }[] = [];
try {
  for (const spec of positionals) {
    const [dir = '.', label = dir, flags = ''] = spec.split('=');
    const port = await freePort();
    const args = [join(resolve(dir || '.'), 'src/cli.ts'), 'serve', '--port', String(port), '--host', '127.0.0.1'];
    args.push('--certs', certs, '--no-cluster', '--state', state, ...flags.split(' ').filter(Boolean));
    servers.push({ label: label || dir || '.', process: await startServer(label, args, port) });
  }
  // the first server wrote the certificate the baseline serves
  const port = await freePort();
  const baseline = await startServer('baseline', [join(ROOT, 'bench/servers/baseline.ts'), '--port', String(port), '--certs', certs], port);
  servers.unshift({ label: 'baseline', process: baseline });

  const run = (p: ServerProcess, seconds: number) => measureScenario(p, s, 64, seconds);
  for (const { process: p } of servers) await run(p, 2);
  const results = new Map<string, Measure[]>(servers.map((x) => [x.label, []]));
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const { label, process: p } of servers) {
      const m = await run(p, Number(values.seconds));
      results.get(label)!.push(m);
      process.stderr.write(`round ${r + 1} ${label}: ${fmt.int(m.rps)} req/s, server CPU ${fmt.pct(m.serverCpu)}\n`);
    }
  }
  const perCpu = (m: Measure) => m.rps / (m.serverCpu / 100);
  const base = results.get('baseline')!;
  const rows = [...results].map(([label, ms]) => [
    label,
    fmt.int(median(ms.map((m) => m.rps))),
    fmt.ratio(median(ms.map((m, i) => m.rps / base[i]!.rps))),
    fmt.int(median(ms.map(perCpu))),
    fmt.ratio(median(ms.map((m, i) => perCpu(m) / perCpu(base[i]!)))),
    fmt.ms(median(ms.map((m) => m.p99))),
    String(ms.reduce((n, m) => n + m.failures, 0)),
  ]);
  process.stdout.write(`${s.name}, 64 connections, ${values.rounds} rounds of ${values.seconds} s\n\n`);
  process.stdout.write(
    `${table(['server', 'req/s', 'of the baseline', 'req per CPU-s', 'of the baseline per CPU-s', 'p99 ms', 'failures'], rows, new Set([1, 2, 3, 4, 5, 6]))}\n`,
  );
} finally {
  for (const { process: p } of servers) await p.stop();
}
