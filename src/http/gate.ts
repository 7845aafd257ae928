/**
 * The admission gate: how many reviews, and how many bytes of their bodies, the process holds at
 * once. Each review's memory is its body plus the parsed object (a few times the body), so bounding
 * the bytes in flight bounds the memory of every concurrent review together. A review over the
 * limit is answered at once with 429 instead of waiting in an unbounded queue; its body is never
 * read. The API server then applies the webhook's failurePolicy: the Pod webhook (Ignore) admits
 * the pod unchanged, the validating webhook (Fail) refuses the write, which the client retries.
 */
import type { FastifyInstance } from 'fastify';
import { admissionTarget } from './caller.ts';

export type GateLimits = {
  /** reviews received or being judged at once */
  readonly reviews: number;
  /** declared body bytes of those reviews, together */
  readonly bytes: number;
};

/**
 * 64 reviews and 32 MiB of bodies: eight 3 MiB objects (the API server's write limit) at once, or
 * four 7 MiB reviews carrying an object and its oldObject. Parsed, 32 MiB of JSON takes about
 * 100-150 MiB of heap, which leaves room under the Deployment's 512 MiB memory limit.
 */
export const GATE_LIMITS: GateLimits = { reviews: 64, bytes: 32 * 1024 * 1024 };

/** A body sent without Content-Length (chunked) is counted at this size until it is read. */
const UNDECLARED_BYTES = 1024 * 1024;

export type Shed = (route: string, why: string) => void;

export function admissionGate(app: FastifyInstance, limits: GateLimits, shed: Shed): void {
  let reviews = 0;
  let bytes = 0;
  app.addHook('onRequest', (request, reply, done) => {
    const target = request.method === 'POST' ? admissionTarget(request.url) : undefined;
    if (!target) return done();
    const declared = Number(request.headers['content-length']);
    const size = Number.isFinite(declared) && declared >= 0 ? declared : UNDECLARED_BYTES;
    if (reviews + 1 > limits.reviews || (reviews > 0 && bytes + size > limits.bytes)) {
      const why = `egress-warden is at its limit of ${limits.reviews} reviews or ${Math.round(limits.bytes / 1048576)} MiB of review bodies in flight (${reviews} reviews, ${Math.round(bytes / 1048576)} MiB); try again`;
      shed(target.path, why);
      reply
        .code(429)
        .header('retry-after', '1')
        .type('application/json')
        .send({ statusCode: 429, error: 'Too Many Requests', message: why });
      return;
    }
    reviews++;
    bytes += size;
    // 'close' comes once per response, whether it was sent, timed out or the client went away:
    // `on` is enough, and spares the wrapper `once` builds for every request.
    reply.raw.on('close', () => {
      reviews--;
      bytes -= size;
    });
    done();
  });
}
