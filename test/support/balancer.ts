/**
 * Several replicas behind one webhook URL: a round-robin balancer in a child process (the tests
 * block their own event loop on kubectl). `connection` passes TLS through and picks a backend per
 * TCP connection, as kube-proxy does for a Service; `request` terminates TLS with the backends'
 * certificate and picks a backend per HTTP request, as an L7 balancer or a mesh sidecar does.
 */
import { spawn } from 'node:child_process';
import { request as httpsRequest, createServer as createHttps } from 'node:https';
import { readFileSync } from 'node:fs';
import { connect, createServer as createTcp } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Spread = 'connection' | 'request';

export type Balancer = {
  readonly port: number;
  /** requests (or connections) each backend got so far */
  readonly counts: () => Promise<number[]>;
  readonly close: () => Promise<void>;
};

const host = '127.0.0.1';

function serve(spread: Spread, certDir: string, backends: number[]): void {
  const counts = backends.map(() => 0);
  let next = 0;
  const pick = () => {
    const i = next++ % backends.length;
    counts[i]!++;
    return backends[i]!;
  };
  const server =
    spread === 'connection'
      ? createTcp((client) => {
          const upstream = connect(pick(), host);
          client.pipe(upstream).pipe(client);
          const end = () => {
            client.destroy();
            upstream.destroy();
          };
          client.on('error', end);
          upstream.on('error', end);
        })
      : createHttps({ cert: readFileSync(join(certDir, 'tls.crt')), key: readFileSync(join(certDir, 'tls.key')) }, (req, res) => {
          const up = httpsRequest(
            {
              host,
              port: pick(),
              path: req.url,
              method: req.method,
              headers: req.headers,
              ca: readFileSync(join(certDir, 'ca.crt')),
              agent: false,
            },
            (r) => {
              res.writeHead(r.statusCode ?? 502, r.headers);
              r.pipe(res);
            },
          );
          up.on('error', (e) => {
            res.writeHead(502);
            res.end(e.message);
          });
          req.pipe(up);
        });
  server.listen(0, host, () => {
    const address = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
  });
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', () => process.stdout.write(`${JSON.stringify({ counts })}\n`));
  process.once('SIGTERM', () => process.exit(0));
}

/** A balancer over https://127.0.0.1:<backend> servers that share the certificate in certDir. */
export async function startBalancer(spread: Spread, certDir: string, backends: readonly number[]): Promise<Balancer> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', spread, certDir, ...backends.map(String)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdout!.setEncoding('utf8');
  let buffered = '';
  const waiting: ((line: string) => void)[] = [];
  child.stdout!.on('data', (d: string) => {
    buffered += d;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      waiting.shift()?.(line);
    }
  });
  const line = () => new Promise<string>((resolve) => waiting.push(resolve));
  const { port } = JSON.parse(await line()) as { port: number };
  return {
    port,
    counts: async () => {
      const answer = line();
      child.stdin!.write('?\n');
      return (JSON.parse(await answer) as { counts: number[] }).counts;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'serve') {
  serve(process.argv[3] as Spread, process.argv[4]!, process.argv.slice(5).map(Number));
}
