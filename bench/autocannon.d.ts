/** The part of autocannon's programmatic API the benchmark uses (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';
  import type { ConnectionOptions } from 'node:tls';

  namespace autocannon {
    type Options = {
      url: string;
      connections?: number;
      duration?: number;
      pipelining?: number;
      /** close and reopen each connection after this many requests */
      reconnectRate?: number;
      timeout?: number;
      method?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      requests?: ReadonlyArray<{
        method?: string;
        path?: string;
        headers?: Record<string, string>;
        body?: string | Buffer;
        /** called before each request of this step is written; returns the request to write */
        setupRequest?: (request: object, context: object) => object;
      }>;
      tlsOptions?: ConnectionOptions;
      skipAggregateResult?: boolean;
    };
    type Histogram = { readonly average: number; readonly p50: number; readonly p99: number; readonly total: number };
    type Result = {
      readonly requests: Histogram;
      readonly latency: Histogram;
      readonly duration: number;
      readonly errors: number;
      readonly timeouts: number;
      readonly non2xx: number;
      readonly statusCodeStats: Readonly<Record<string, { readonly count: number }>>;
    };
    /** Emits 'response' (client, statusCode, resBytes, responseTimeMs) for every answer. */
    type Instance = EventEmitter & PromiseLike<Result> & { stop(): void };
  }

  function autocannon(opts: autocannon.Options): autocannon.Instance;
  export = autocannon;
}
