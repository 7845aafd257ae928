/**
 * Clients that misbehave slowly, on raw sockets, for the connection deadline tests: each resolves
 * with how long the server let it live and what, if anything, the server answered.
 */
import { connect as tcp, type Socket } from 'node:net';
import { connect as tls, type TLSSocket } from 'node:tls';

export type Ending = { readonly ms: number; readonly answer: string };

/** Resolves when the server closes the socket (or the test gives up after `limitMs`). */
function ending(socket: Socket, started: number, limitMs: number, stop: () => void): Promise<Ending> {
  let answer = '';
  socket.on('data', (d: Buffer) => {
    answer += d.toString('latin1');
  });
  return new Promise((resolve) => {
    const give = setTimeout(() => {
      stop();
      socket.destroy();
      resolve({ ms: Infinity, answer });
    }, limitMs);
    socket.once('close', () => {
      clearTimeout(give);
      stop();
      resolve({ ms: performance.now() - started, answer });
    });
    socket.on('error', () => {});
  });
}

const secure = (port: number, ca: string): Promise<TLSSocket> =>
  new Promise((resolve, reject) => {
    const s = tls({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => resolve(s));
    s.once('error', reject);
  });

/** A TCP connection that sends nothing at all, not even a TLS hello. */
export function silentTcp(port: number, limitMs: number): Promise<Ending> {
  const started = performance.now();
  return ending(tcp({ host: '127.0.0.1', port }), started, limitMs, () => {});
}

/** A TLS connection that completes the handshake and then sends nothing. */
export async function silentTls(port: number, ca: string, limitMs: number): Promise<Ending> {
  const started = performance.now();
  const s = await secure(port, ca);
  return ending(s, started, limitMs, () => {});
}

/**
 * A request whose headers arrive one line every `everyMs`, without end. `path` is the admission
 * path as the server registers it (with its caller token, if it has one).
 */
export async function slowHeaders(port: number, ca: string, everyMs: number, limitMs: number, path = '/validate'): Promise<Ending> {
  const started = performance.now();
  const s = await secure(port, ca);
  s.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\n`);
  let n = 0;
  const t = setInterval(() => s.write(`x-slow-${n++}: 1\r\n`), everyMs);
  return ending(s, started, limitMs, () => clearInterval(t));
}

/**
 * A request with complete headers whose body arrives one byte every `everyMs`. Only a path the
 * server accepts (`path` with the caller token, if it has one) gets as far as reading the body:
 * a refused caller is answered as soon as its headers are in.
 */
export async function slowBody(port: number, ca: string, everyMs: number, limitMs: number, path = '/validate'): Promise<Ending> {
  const started = performance.now();
  const s = await secure(port, ca);
  s.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
  const t = setInterval(() => s.write(' '), everyMs);
  return ending(s, started, limitMs, () => clearInterval(t));
}

/** One GET on a fresh TLS connection, then nothing: how long the idle keep-alive connection stays. */
export async function idleAfterRequest(port: number, ca: string, limitMs: number): Promise<Ending> {
  const s = await secure(port, ca);
  const answered = new Promise<void>((resolve) => s.once('data', () => resolve()));
  s.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await answered;
  return ending(s, performance.now(), limitMs, () => {});
}

/** GETs sent one after another on one TLS connection; the raw answers, and whether the server closed it. */
export async function requestsOnOneConnection(
  port: number,
  ca: string,
  n: number,
): Promise<{ readonly answers: string[]; readonly closed: boolean }> {
  const s = await secure(port, ca);
  let closed = false;
  s.once('close', () => {
    closed = true;
  });
  s.on('error', () => {});
  const answers: string[] = [];
  for (let i = 0; i < n && !closed; i++) {
    const answer = new Promise<string>((resolve) => {
      let text = '';
      const on = (d: Buffer) => {
        text += d.toString('latin1');
        if (/\r\n\r\n[\s\S]*\}/.test(text)) {
          s.off('data', on);
          resolve(text);
        }
      };
      s.on('data', on);
      s.once('close', () => resolve(text));
    });
    s.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    answers.push(await answer);
  }
  await new Promise((r) => setTimeout(r, 100));
  s.destroy();
  return { answers, closed };
}
