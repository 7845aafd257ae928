/**
 * Server child processes: each server under test runs in its own Node process, so the load
 * generator (this process) never shares an event loop with it. Linux /proc gives its memory and CPU.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { MEMORY_LIMIT_MIB } from '../src/manifests/install.ts';
import { underMemoryLimit } from './cgroup.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export type ServerProcess = {
  readonly label: string;
  readonly url: string;
  readonly pid: number;
  /** spawn to first healthy answer, in milliseconds */
  readonly startMs: number;
  /** the memory limit it runs under, or why it has none */
  readonly memoryLimit: string;
  /** how it ended ("exit code 1", "signal SIGKILL"), while the bench still runs; undefined while it runs */
  readonly ended: () => string | undefined;
  readonly stop: () => Promise<void>;
};

const running = new Set<ChildProcess>();
// A bench interrupted half-way must not leave servers behind.
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const c of running) c.kill('SIGKILL');
    process.exit(130);
  });
}

/** A port that was free a moment ago (the servers are told which port to bind, then polled). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** GET over HTTPS without verifying the development certificate; resolves status and body. */
export function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

/** POST a JSON body; resolves status and parsed body. */
export function post(url: string, body: Buffer): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        rejectUnauthorized: false,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How a process is run: node's flags before the script, and environment variables set on top of this process's. */
export type Runtime = {
  readonly nodeFlags: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** the container's memory limit, in bytes, set on the process through a memory cgroup (bench/cgroup.ts) */
  readonly memoryLimitBytes?: number;
};

export const NODE_DEFAULTS: Runtime = { nodeFlags: [], env: {} };

/**
 * The runtime settings the Deployment gives the server: the environment its image's Dockerfile sets
 * (ENV), node's flags in that ENTRYPOINT and the container's memory limit. Read from their owners,
 * the Dockerfile and the install, so the bench measures memory the way the Deployment runs.
 */
export function imageRuntime(dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8')): Runtime {
  const env: Record<string, string> = {};
  for (const line of dockerfile.split('\n')) {
    const m = /^ENV\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const pair of m[1]!.split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  const words = entry ? (JSON.parse(entry) as string[]) : [];
  const nodeFlags =
    words[0] === 'node' ? words.slice(1).filter((w, i, all) => w.startsWith('--') && all.slice(0, i).every((x) => x.startsWith('--'))) : [];
  return { nodeFlags, env, memoryLimitBytes: MEMORY_LIMIT_MIB * 2 ** 20 };
}

/** A runtime's environment settings (NAME=value) and node flags, as a report names them. */
export const runtimeSettings = (r: Runtime): string[] => [...Object.entries(r.env).map(([k, v]) => `${k}=${v}`), ...r.nodeFlags];

/**
 * Starts `node <args>` from the repository root, with `runtime`'s node flags and environment, and
 * waits until GET /healthz answers 200. The process's output is kept to explain a failed start.
 */
export async function startServer(
  label: string,
  args: readonly string[],
  port: number,
  timeoutMs = 300_000,
  runtime: Runtime = NODE_DEFAULTS,
): Promise<ServerProcess> {
  const t0 = performance.now();
  const env = { ...process.env, ...runtime.env };
  delete env.KUBECONFIG; // the bench measures the no-cluster server; never reach for a real cluster
  const limited = underMemoryLimit([process.execPath, ...runtime.nodeFlags, ...args], runtime.memoryLimitBytes);
  const child = spawn(limited.file, limited.args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (c: Buffer) => {
    output = (output + c.toString('utf8')).slice(-4_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null | undefined;
  let ended: string | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code;
      ended = signal ? `signal ${signal}` : `exit code ${code}`;
      running.delete(child);
      limited.done();
      resolve();
    }),
  );
  const url = `https://127.0.0.1:${port}`;
  for (;;) {
    if (exited !== undefined) throw new Error(`${label} exited with ${exited} before it was healthy:\n${output}`);
    if (performance.now() - t0 > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${label} was not healthy after ${timeoutMs} ms:\n${output}`);
    }
    try {
      if ((await get(`${url}/healthz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  const startMs = performance.now() - t0;
  const stop = async () => {
    if (exited !== undefined) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exit;
    clearTimeout(killer);
  };
  return { label, url, pid: child.pid!, startMs, memoryLimit: limited.limit, ended: () => ended, stop };
}

export type Memory = { readonly rss: number; readonly peak: number; readonly heap: number };

/** RSS and peak from /proc, and the V8 heap in use from the server's own /metrics; bytes. */
export async function serverMemory(server: ServerProcess): Promise<Memory> {
  if (server.ended() !== undefined) return { rss: Number.NaN, peak: Number.NaN, heap: Number.NaN };
  const { rss, peak } = memoryOf(server.pid);
  let heap = Number.NaN;
  try {
    const text = (await get(`${server.url}/metrics`)).body;
    heap = Number(/^\w*nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(text)?.[1] ?? Number.NaN);
  } catch {
    // no metrics: the column stays empty
  }
  return { rss, peak, heap };
}

/** Resident and peak resident memory of a process, in bytes (VmRSS, VmHWM). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** User + system CPU time a process has used so far, in milliseconds. */
export function cpuMsOf(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return Number.NaN; // it ended during the run: the caller reads how (ServerProcess.ended)
  }
  // fields after the command name, which is in parentheses and may contain spaces
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
}
