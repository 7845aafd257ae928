/**
 * RE2, the engine Envoy compiles every `safe_regex` with (OSM sends HTTPRouteGroup paths and header
 * values as `google_re2` matchers). JavaScript's RegExp accepts a different language (lookaround,
 * backreferences) and rejects some of RE2's (`\C`, `\pN` outside /u, `(?i)` flags), so the pattern is
 * compiled by Google's RE2 C++ code itself, built to WebAssembly (the re2-wasm package): no native
 * build at install, and the error text is RE2's own, the text Envoy puts in its rejection.
 *
 * The package's RE2 class rewrites JavaScript syntax into RE2 syntax first, so the compiled wrapper
 * underneath it is used directly, with RE2's default options as Envoy uses them.
 */
import { createRequire } from 'node:module';

type Compiled = { ok(): boolean; error(): string; delete(): void };
type Glue = { readonly WrappedRE2: new (pattern: string, ignoreCase: boolean, multiline: boolean, dotAll: boolean) => Compiled };

const require = createRequire(import.meta.url);
const GLUE = require.resolve('re2-wasm/build/wasm/re2.js');

/** RE2's own message when a pattern needs more memory than it may use. */
export const TOO_LARGE = 'pattern too large - compile failed';

let glue: Glue | undefined;

/**
 * The module, loaded afresh after an abort: its WebAssembly heap is fixed at 16 MiB, and a compile
 * that runs out aborts without freeing what it had allocated, so the old instance is dropped.
 */
function module(): Glue {
  if (!glue) {
    delete require.cache[GLUE];
    glue = require(GLUE) as Glue;
  }
  return glue;
}

// Patterns recur across objects and updates; a compile costs about a millisecond.
const CACHE_MAX = 2000;
const cache = new Map<string, string>();

/** RE2's error for a pattern, or "" when it compiles. */
function compile(pattern: string): string {
  let re: Compiled;
  // An abort prints its reason to stderr before it throws; the reason becomes the finding instead.
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof write;
  try {
    re = new (module().WrappedRE2)(pattern, false, false, false);
  } catch {
    // Only a heap exhausted by the pattern aborts; RE2 itself stops at 8 MiB with this message.
    glue = undefined;
    return TOO_LARGE;
  } finally {
    process.stderr.write = write;
  }
  try {
    return re.ok() ? '' : re.error();
  } finally {
    re.delete();
  }
}

/** Why RE2 rejects the pattern, in RE2's words, or undefined when it compiles. */
export function re2Problem(pattern: string): string | undefined {
  let found = cache.get(pattern);
  if (found === undefined) {
    found = compile(pattern);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(pattern, found);
  }
  return found || undefined;
}
