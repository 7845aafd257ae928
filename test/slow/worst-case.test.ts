/**
 * The worst case one object can cost: reviews of ServiceEntries at the API server's 3 MiB write
 * limit, eight at a time, against `egress-warden serve` in a child process whose peak RSS is read
 * from /proc. Each must be answered within the webhook's timeoutSeconds (3 s) with a message of
 * bounded size, and the process must stay under the Deployment's 512 MiB memory limit.
 * WORST_REPORT=1 prints the figures.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DENIAL_CHARS_MAX } from '../../src/catalogue/budget.ts';
import { callerPath, TOKEN_FILE_NAME } from '../../src/catalogue/endpoints.ts';
import { exchange } from '../fuzz/client.ts';
import { fixture } from '../support.ts';

const Worst = suite("worst case: objects at the API server's 3 MiB limit, eight at a time");

const MEMORY_LIMIT_MIB = 512;
const WEBHOOK_TIMEOUT_MS = 3_000;
const MIB = 1024 * 1024;

type Review = { apiVersion: string; kind: string; request: any };
const recorded = fixture<{ review: Review }>('reviews/003-validate-create-serviceentry.review-v1.json').review;

function serviceEntry(uid: string, spec: (s: any) => void): Buffer {
  const r = structuredClone(recorded);
  r.request.uid = uid;
  delete r.request.object.metadata.annotations;
  spec(r.request.object.spec);
  return Buffer.from(JSON.stringify(r));
}

const SHAPES: Readonly<Record<string, (s: any) => void>> = {
  // The object of the report: 70,000 copies of one port.
  '70,000 identical ports': (s) => {
    s.ports = Array.from({ length: 70_000 }, () => ({ number: 443, name: 'https', protocol: 'TLS' }));
  },
  // Just under the list budget, so every rule runs and reports each duplicate.
  '4,096 identical ports': (s) => {
    s.ports = Array.from({ length: 4_096 }, () => ({
      number: 443,
      name: 'https-port-with-a-long-name',
      protocol: 'TLS',
      note: 'x'.repeat(640),
    }));
  },
  // One host of 3 MiB, dotted so every label is checked.
  'a 3 MiB dotted host': (s) => {
    s.hosts = [`${'a.'.repeat(1_500_000)}com`];
  },
  // 4,000 distinct bad hosts: distinct findings, which the answer caps.
  '4,000 distinct invalid hosts': (s) => {
    s.hosts = Array.from({ length: 4_000 }, (_, i) => `bad_host_${i}.${'x'.repeat(600)}.example.com`);
  },
};

const peakRssMib = (pid: number): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const rssMib = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function until<T>(f: () => T | undefined, what: string, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let child: ChildProcess;
let dir: string;
let url: string;
let ca: string;
/** /validate with the caller token the development start wrote beside its certificates */
let validate: string;
let log = '';

Worst.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ew-worst-'));
  // The Deployment's heap is what Node picks under a 512 MiB limit; the same cap here.
  child = spawn(
    process.execPath,
    ['--max-old-space-size=384', 'src/cli.ts', 'serve', '--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  url = await until(() => /"url":"(https:[^"]+)"/.exec(log)?.[1], 'the server to listen', 15_000);
  ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  validate = callerPath('validate', readFileSync(join(dir, TOKEN_FILE_NAME), 'utf8').trim());
});

Worst.after(() => {
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

for (const [name, shape] of Object.entries(SHAPES)) {
  Worst(`${name}: 16 reviews, 8 at a time, each denied within 3 s with a bounded message, RSS under 512 MiB`, async () => {
    const bodies = Array.from({ length: 16 }, (_, i) => serviceEntry(`worst-${i}`, shape));
    const size = bodies[0]!.length;
    assert.ok(size > 2.3 * MIB && size < 7 * MIB, `body of ${size} bytes`);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const rssBefore = rssMib(child.pid!);
    const logBefore = log.length;
    const times: number[] = [];
    const messages: number[] = [];
    try {
      for (let round = 0; round < 2; round++) {
        const answers = await Promise.all(
          bodies
            .slice(round * 8, round * 8 + 8)
            .map((body) =>
              exchange(
                url,
                { method: 'POST', path: `${validate}?timeout=3s`, headers: { 'content-type': 'application/json' }, body },
                { ca, agent, timeoutMs: 15_000 },
              ),
            ),
        );
        for (const a of answers) {
          assert.ok(a.ok, a.ok ? '' : a.error);
          if (!a.ok) continue;
          assert.is(a.status, 200, a.body.slice(0, 300));
          const response = JSON.parse(a.body).response;
          assert.is(response.allowed, false);
          assert.ok(response.status.message.length <= DENIAL_CHARS_MAX, `message of ${response.status.message.length} characters`);
          assert.ok(a.body.length <= 2 * DENIAL_CHARS_MAX + 8192, `answer of ${a.body.length} bytes`);
          times.push(a.ms);
          messages.push(response.status.message.length);
        }
      }
    } finally {
      agent.destroy();
    }
    const peak = peakRssMib(child.pid!);
    const lines = log.slice(logBefore).split('\n').filter(Boolean);
    const longestLine = Math.max(...lines.map((l) => l.length));
    if (process.env.WORST_REPORT) {
      console.log(
        `${name}: body ${(size / MIB).toFixed(2)} MiB; answered in ${Math.round(Math.min(...times))}-${Math.round(Math.max(...times))} ms; ` +
          `message ${Math.min(...messages)}-${Math.max(...messages)} chars; RSS ${Math.round(rssBefore)} MiB before, peak so far ${Math.round(peak)} MiB; longest log line ${longestLine} bytes`,
      );
    }
    assert.ok(Math.max(...times) < WEBHOOK_TIMEOUT_MS, `slowest answer ${Math.round(Math.max(...times))} ms`);
    assert.ok(peak < MEMORY_LIMIT_MIB, `peak RSS ${Math.round(peak)} MiB`);
    assert.ok(longestLine < 8192, `log line of ${longestLine} bytes`);
  });
}

Worst.run();
