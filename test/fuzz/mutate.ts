/**
 * The fuzzer's case generator: pure and seeded. Case `i` of seed `s` is always the same request.
 * Most cases start from a recorded API server review and damage it: at the value level (fields
 * removed, wrong types, huge strings, deep nesting, unicode, numbers as strings, nulls), at the
 * text level (duplicate keys, truncation, stray bytes, bad encodings) and at the HTTP level
 * (path, caller token, method, content type, timeout). A few are untouched recordings, which must
 * be admitted normally, and a few are random reviews built from scratch.
 *
 * A case's path holds slots for the server's caller token (TOKEN_SLOTS), filled in by `addressed`
 * when it is sent: generation stays independent of the server, a case replays against a fresh one,
 * and a failure report never prints a token.
 */
import { caseSeed, rng, type Rng } from './random.ts';

/** A recorded review, as stored in test/fixtures/reviews. */
export type Seedling = {
  readonly name: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly review: unknown;
};

export type FuzzCase = {
  readonly seed: number;
  readonly index: number;
  readonly method: string;
  /** with TOKEN_SLOTS where the caller token goes, until `addressed` fills them in */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
  /** what was done, in order, for the failure report */
  readonly steps: readonly string[];
  /** an untouched recording: anything but an admission answer is wrong */
  readonly pristine: boolean;
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Container = Json[] | { [key: string]: Json };
type Slot = { readonly holder: Container; readonly key: string | number; readonly path: string };

/** Bodies larger than this are the server's to refuse with 413. */
export const BODY_LIMIT = 7 * 1024 * 1024;

const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;
const isRecord = (v: unknown): v is { [key: string]: Json } => isContainer(v) && !Array.isArray(v);

const STRINGS: readonly string[] = [
  '',
  ' ',
  '*',
  '*.',
  '.',
  '..',
  '-',
  'a-',
  '-a',
  'a'.repeat(64),
  'a'.repeat(254),
  'a.'.repeat(130),
  '0.0.0.0/0',
  '::/0',
  '10.0.0.0/8',
  '10.0.0.1/33',
  '10.0.0.1/8',
  '256.1.1.1',
  '1.2.3',
  '01.02.03.04',
  '10.96.0.1',
  '10.244.0.0/16',
  '192.168.0.0/16,10.0.0.0/8',
  'fe80::1%eth0',
  '::ffff:10.0.0.1',
  '2001:db8::/129',
  ':::',
  '1.2.3.4/-1',
  'http',
  'HTTP',
  'HTTPS',
  'TLS',
  'TCP',
  'tcp',
  'GRPC',
  'Mongo',
  'MySQL',
  'UDP',
  'MESH_EXTERNAL',
  'MESH_INTERNAL',
  'DNS',
  'STATIC',
  'NONE',
  'DNS_ROUND_ROBIN',
  'CREATE',
  'create',
  'PATCH',
  '443',
  '0',
  '-1',
  '65536',
  '1e3',
  '0x1bb',
  'NaN',
  'Infinity',
  'true',
  'false',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection probe, a literal on purpose
  '${jndi:ldap://x}',
  '%s%s%s%n',
  '{{.}}',
  '\\',
  '"',
  '\u0000',
  '\u0000\u0001\u001f',
  'é',
  'e\u0301',
  '🦀',
  '👩‍👩‍👧‍👦',
  '\u202eevil',
  '\u200b',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\uffff',
  'ﾟ',
  '𝔘𝔫𝔦',
  '漢字漢字',
  'a\nb',
  'a\r\nb',
  'a\tb',
  'kube-system',
  'istio-system',
  'default',
  'all',
  'cluster',
  'off',
  'enforce',
  'warn',
  'audit',
  'admission.k8s.io/v1',
  'admission.k8s.io/v1beta1',
  'AdmissionReview',
  'networking.istio.io',
  'policy.openservicemesh.io',
  'v1',
  'v1alpha3',
  'Pod',
  'ServiceEntry',
  'VirtualService',
  'Egress',
  'Namespace',
  'istio-proxy',
  'istio-init',
  'osm-init',
  'envoy',
];

const UNICODE: readonly string[] = STRINGS.filter((x) => /[^\x20-\x7e]/.test(x));

const NUMBERS: readonly number[] = [0, -0, 1, -1, 0.5, 80, 443, 65535, 65536, 2 ** 31, -(2 ** 31), 2 ** 53, 1e21, 1e-7, Number.MAX_VALUE];

/** Number spellings JSON allows that JavaScript cannot hold exactly, or at all. */
const RAW_NUMBERS: readonly string[] = [
  '1e309',
  '-1e309',
  '1e-400',
  '-0.0',
  '123456789012345678901234567890',
  '9007199254740993',
  '0.1e1',
  '1E+2',
];

const ANNOTATIONS: readonly string[] = [
  'egress-warden.io/outbound-capture',
  'egress-warden.io/bypass-ip-ranges',
  'egress-warden.io/capture-ip-ranges',
  'egress-warden.io/applied',
  'egress-warden.io/mode',
  'egress-warden.io/ignore',
  'egress-warden.io/typo',
  'traffic.sidecar.istio.io/includeOutboundIPRanges',
  'traffic.sidecar.istio.io/excludeOutboundIPRanges',
  'openservicemesh.io/outbound-ip-range-inclusion-list',
  'openservicemesh.io/outbound-ip-range-exclusion-list',
  'openservicemesh.io/sidecar-injection',
  'sidecar.istio.io/inject',
  'sidecar.istio.io/status',
  'istio.io/rev',
  'networking.istio.io/enable-autoallocate-ip',
  'internal.istio.io/parents',
];

const ANNOTATION_VALUES: readonly string[] = [
  'all',
  'cluster',
  'off',
  'ALL',
  '',
  '*',
  ' , ',
  '10.0.0.0/8',
  '10.0.0.0/8,*',
  '0.0.0.0/0',
  '::/0,0.0.0.0/0',
  '10.244.0.0/16, 10.96.0.0/12',
  '10.0.0.1/33',
  '10.0.0.5/8',
  'garbage',
  '2001:db8::/32',
  'enabled',
  'true',
  'false',
  '{"initContainers":["istio-init"]}',
  'warn',
  'audit',
  'enforce',
];

/** Envelope fields the codec and the rules read first: hit them more often than a random node. */
const HOT_PATHS: readonly (readonly string[])[] = [
  [],
  ['apiVersion'],
  ['kind'],
  ['request'],
  ['request', 'uid'],
  ['request', 'kind'],
  ['request', 'kind', 'kind'],
  ['request', 'kind', 'group'],
  ['request', 'kind', 'version'],
  ['request', 'operation'],
  ['request', 'object'],
  ['request', 'oldObject'],
  ['request', 'namespace'],
  ['request', 'name'],
  ['request', 'dryRun'],
  ['request', 'userInfo'],
  ['request', 'options'],
  ['request', 'resource'],
  ['request', 'subResource'],
  ['request', 'object', 'metadata'],
  ['request', 'object', 'metadata', 'annotations'],
  ['request', 'object', 'metadata', 'labels'],
  ['request', 'object', 'metadata', 'name'],
  ['request', 'object', 'metadata', 'namespace'],
  ['request', 'object', 'spec'],
  ['request', 'object', 'kind'],
  ['request', 'object', 'apiVersion'],
  ['request', 'object', 'spec', 'hosts'],
  ['request', 'object', 'spec', 'ports'],
  ['request', 'object', 'spec', 'addresses'],
  ['request', 'object', 'spec', 'containers'],
  ['request', 'object', 'spec', 'initContainers'],
];

/** Values that must reach the wire as raw JSON text: placeholders swapped in after serializing. */
class RawText {
  private readonly values = new Map<string, string>();
  private readonly keys = new Map<string, string>();

  value(raw: string): string {
    const marker = `\u0001raw-value-${this.values.size}\u0001`;
    this.values.set(marker, raw);
    return marker;
  }

  /** a key whose entry (`"marker":0`) is replaced by raw `"k":v` pairs, e.g. duplicate keys */
  key(raw: string): string {
    const marker = `\u0001raw-key-${this.keys.size}\u0001`;
    this.keys.set(marker, raw);
    return marker;
  }

  /** the body as sent; a removed root leaves an empty body */
  render(value: Json | undefined): string {
    if (value === undefined) return '';
    let text = JSON.stringify(value);
    for (const [marker, raw] of this.keys) text = text.split(`${JSON.stringify(marker)}:0`).join(raw);
    for (const [marker, raw] of this.values) text = text.split(JSON.stringify(marker)).join(raw);
    return text;
  }
}

function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** Every value in the tree as a slot that can be replaced or removed; the root is slot `(body)`. */
function slots(root: { body: Json }): Slot[] {
  const out: Slot[] = [{ holder: root, key: 'body', path: '(body)' }];
  const stack: { value: Json; path: string }[] = [{ value: root.body, path: '' }];
  while (stack.length && out.length < 20_000) {
    const { value, path } = stack.pop()!;
    if (!isContainer(value)) continue;
    const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
    for (const key of keys) {
      const p = childPath(path, key);
      out.push({ holder: value, key, path: p });
      stack.push({ value: (value as Record<string | number, Json>)[key]!, path: p });
    }
  }
  return out;
}

function hotSlot(r: Rng, root: { body: Json }): Slot | undefined {
  const keys = r.pick(HOT_PATHS);
  let holder: Container = root;
  let key: string | number = 'body';
  let path = '(body)';
  for (const k of keys) {
    const next: Json | undefined = (holder as Record<string, Json>)[key as string];
    if (!isRecord(next)) return undefined;
    holder = next;
    key = k;
    path = childPath(path === '(body)' ? '' : path, k);
  }
  return { holder, key, path };
}

const target = (r: Rng, root: { body: Json }): Slot => (r.chance(0.45) ? hotSlot(r, root) : undefined) ?? r.pick(slots(root));

function dig(value: Json | undefined, ...keys: string[]): Json | undefined {
  let v = value;
  for (const k of keys) v = isRecord(v) ? v[k] : undefined;
  return v;
}

const read = (s: Slot): Json | undefined => (s.holder as Record<string | number, Json>)[s.key];
const write = (s: Slot, v: Json): void => {
  (s.holder as Record<string | number, Json>)[s.key] = v;
};

function remove(s: Slot): void {
  if (Array.isArray(s.holder)) s.holder.splice(s.key as number, 1);
  else delete (s.holder as Record<string, Json>)[s.key as string];
}

const typeOf = (v: Json | undefined): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function randomValue(r: Rng, depth = 2): Json {
  switch (r.int(depth > 0 ? 7 : 5)) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick(NUMBERS);
    case 3:
    case 4:
      return r.pick(STRINGS);
    case 5:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth - 1));
    default: {
      const o: Record<string, Json> = {};
      // defineProperty: a "__proto__" key must become a key, not the object's prototype
      for (let i = r.int(4); i > 0; i--)
        Object.defineProperty(o, r.pick(STRINGS), {
          value: randomValue(r, depth - 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return o;
    }
  }
}

function otherType(r: Rng, current: Json | undefined): Json {
  for (;;) {
    const v = randomValue(r);
    if (typeOf(v) !== typeOf(current)) return v;
  }
}

const ALPHABETS: readonly string[] = [
  'a',
  'abcdefghijklmnopqrstuvwxyz0123456789-.',
  '"\\\n\t',
  'é漢🦀\u200b',
  '\u0000\u0001\u001f',
  '\ud800x',
];

function hugeString(r: Rng, max: number): string {
  const alphabet = [...r.pick(ALPHABETS)];
  const length = r.logInt(1024, max);
  if (alphabet.length === 1) return alphabet[0]!.repeat(length);
  const unit = Array.from({ length: 997 }, () => alphabet[r.int(alphabet.length)]).join('');
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

function deepNesting(r: Rng): { raw: string; what: string } {
  const depth = r.logInt(16, 60_000);
  switch (r.int(3)) {
    case 0:
      return { raw: '['.repeat(depth) + ']'.repeat(depth), what: `${depth} nested arrays` };
    case 1:
      return { raw: `${'{"a":'.repeat(depth)}null${'}'.repeat(depth)}`, what: `${depth} nested objects` };
    default:
      return { raw: `${'[{"x":'.repeat(depth)}0${'}]'.repeat(depth)}`, what: `${depth} nested arrays of objects` };
  }
}

function wideValue(r: Rng): { raw: string; what: string } {
  const n = r.logInt(100, 50_000);
  if (r.chance(0.5))
    return { raw: `[${Array.from({ length: n }, (_, i) => (i % 7 === 0 ? '"x"' : '0')).join(',')}]`, what: `an array of ${n} items` };
  return { raw: `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`, what: `an object of ${n} keys` };
}

function walk(value: Json, visit: (v: Json, set: (next: Json) => void) => void): void {
  const stack: Container[] = [];
  if (isContainer(value)) stack.push(value);
  while (stack.length) {
    const c = stack.pop()!;
    const keys: (string | number)[] = Array.isArray(c) ? c.map((_, i) => i) : Object.keys(c);
    for (const k of keys) {
      const v = (c as Record<string | number, Json>)[k]!;
      visit(v, (next) => {
        (c as Record<string | number, Json>)[k] = next;
      });
      if (isContainer(v)) stack.push(v);
    }
  }
}

type ValueMutation = (r: Rng, root: { body: Json }, raw: RawText, others: readonly Seedling[]) => string;

const VALUE_MUTATIONS: readonly (readonly [number, ValueMutation])[] = [
  [
    10,
    (r, root) => {
      const s = target(r, root);
      remove(s);
      return `removed ${s.path}`;
    },
  ],
  [
    8,
    (r, root) => {
      const s = target(r, root);
      write(s, null);
      return `set ${s.path} to null`;
    },
  ],
  [
    12,
    (r, root) => {
      const s = target(r, root);
      const v = otherType(r, read(s));
      write(s, v);
      return `set ${s.path} (${typeOf(read(s))}) to ${typeOf(v)} ${JSON.stringify(v)?.slice(0, 60)}`;
    },
  ],
  [
    10,
    (r, root) => {
      const s = target(r, root);
      const v = r.pick(STRINGS);
      write(s, v);
      return `set ${s.path} to ${JSON.stringify(v)}`;
    },
  ],
  // A value never seen before: whatever the server keys on it (caches, metric labels) must stay bounded.
  [
    4,
    (r, root) => {
      const s = hotSlot(r, root) ?? target(r, root);
      const v = `${r.pick(STRINGS)}-${r.int(1e9).toString(36)}${r.chance(0.2) ? 'x'.repeat(r.logInt(100, 10_000)) : ''}`;
      write(s, v);
      return `set ${s.path} to the unique string ${JSON.stringify(v.slice(0, 60))}`;
    },
  ],
  [
    4,
    (r, root) => {
      const s = target(r, root);
      const v = r.pick(['0', '443', '-1', '1e3', '0x10', 'NaN', '3.0', ' 80 ', '65536']);
      write(s, v);
      return `set ${s.path} to the number-like string ${JSON.stringify(v)}`;
    },
  ],
  [
    5,
    (_r, root) => {
      let n = 0;
      walk(root.body, (v, set) => {
        if (typeof v === 'number') {
          set(String(v));
          n++;
        }
      });
      return `turned ${n} numbers into strings`;
    },
  ],
  [
    3,
    (_r, root) => {
      let n = 0;
      walk(root.body, (v, set) => {
        if (typeof v === 'string' && v !== '' && Number.isFinite(Number(v))) {
          set(Number(v));
          n++;
        }
      });
      return `turned ${n} numeric strings into numbers`;
    },
  ],
  [
    3,
    (_r, root) => {
      let n = 0;
      walk(root.body, (v, set) => {
        if (typeof v === 'boolean') {
          set(String(v));
          n++;
        }
      });
      return `turned ${n} booleans into strings`;
    },
  ],
  [
    3,
    (r, root) => {
      const s = target(r, root);
      const v = hugeString(r, r.chance(0.1) ? 4 * 1024 * 1024 : 512 * 1024);
      write(s, v);
      return `set ${s.path} to a string of ${v.length} characters`;
    },
  ],
  [
    5,
    (r, root, raw) => {
      const s = target(r, root);
      const d = deepNesting(r);
      write(s, raw.value(d.raw));
      return `set ${s.path} to ${d.what}`;
    },
  ],
  [
    3,
    (r, root, raw) => {
      const s = target(r, root);
      const w = wideValue(r);
      write(s, raw.value(w.raw));
      return `set ${s.path} to ${w.what}`;
    },
  ],
  [
    6,
    (r, root) => {
      const s = target(r, root);
      const v = Array.from({ length: 1 + r.int(4) }, () => r.pick(UNICODE)).join('');
      write(s, v);
      return `set ${s.path} to unicode ${JSON.stringify(v)}`;
    },
  ],
  [
    4,
    (r, root) => {
      const strings: { v: string; set: (next: Json) => void }[] = [];
      walk(root.body, (v, set) => {
        if (typeof v === 'string') strings.push({ v, set });
      });
      if (!strings.length) return 'found no string to garble';
      const { v, set } = r.pick(strings);
      const at = r.int(v.length + 1);
      const next = v.slice(0, at) + r.pick(STRINGS) + v.slice(at + r.int(3));
      set(next);
      return `garbled a string ${JSON.stringify(v.slice(0, 40))} into ${JSON.stringify(next.slice(0, 60))}`;
    },
  ],
  [
    3,
    (r, root, raw) => {
      const s = target(r, root);
      const n = r.pick(RAW_NUMBERS);
      write(s, raw.value(n));
      return `set ${s.path} to the number ${n}`;
    },
  ],
  [
    3,
    (r, root) => {
      const s = target(r, root);
      const v = r.pick<Json>([{}, [], '', 0, false]);
      write(s, v);
      return `emptied ${s.path} to ${JSON.stringify(v)}`;
    },
  ],
  [
    3,
    (r, root) => {
      const s = target(r, root);
      const v = read(s);
      if (Array.isArray(v)) {
        write(s, Object.fromEntries(v.map((x, i) => [String(i), x])));
        return `turned the array ${s.path} into an object`;
      }
      if (isRecord(v)) {
        write(s, Object.values(v));
        return `turned the object ${s.path} into an array`;
      }
      write(s, [v ?? null]);
      return `wrapped ${s.path} in an array`;
    },
  ],
  [
    3,
    (r, root, raw) => {
      const objects = slots(root).filter((s) => isRecord(read(s)));
      if (!objects.length) return 'found no object for a prototype key';
      const s = r.pick(objects);
      const entry = r.pick(['"__proto__":{"polluted":true}', '"constructor":{"prototype":{"polluted":true}}', '"__proto__":null']);
      (read(s) as Record<string, Json>)[raw.key(entry)] = 0;
      return `added ${entry} to ${s.path}`;
    },
  ],
  [
    7,
    (r, root, raw) => {
      const objects = slots(root).filter((s) => {
        const v = read(s);
        return isRecord(v) && Object.keys(v).length > 0;
      });
      if (!objects.length) return 'found no object for a duplicate key';
      const request = objects.find((s) => s.path === 'request');
      const s = request && r.chance(0.5) ? request : r.pick(objects);
      const obj = read(s) as Record<string, Json>;
      const key = s === request && r.chance(0.7) ? 'uid' : r.pick(Object.keys(obj));
      const dup = key === 'uid' ? (r.chance(0.7) ? `dup-${r.int(1e9)}` : randomValue(r)) : randomValue(r);
      const entry = `${JSON.stringify(key)}:${JSON.stringify(dup)}`;
      if (r.chance(0.5)) {
        obj[raw.key(entry)] = 0;
        return `repeated key ${JSON.stringify(key)} in ${s.path} after the original, as ${JSON.stringify(dup)}`;
      }
      const copy = { ...obj };
      for (const k of Object.keys(obj)) delete obj[k];
      obj[raw.key(entry)] = 0;
      Object.assign(obj, copy);
      return `repeated key ${JSON.stringify(key)} in ${s.path} before the original, as ${JSON.stringify(dup)}`;
    },
  ],
  [
    6,
    (r, root) => {
      const meta = dig(root.body, 'request', 'object', 'metadata');
      if (!isRecord(meta)) return 'found no object metadata to annotate';
      const where = r.chance(0.8) ? 'annotations' : 'labels';
      if (!isRecord(meta[where])) meta[where] = {};
      const key = r.pick(ANNOTATIONS);
      const value = r.chance(0.1)
        ? Array.from({ length: r.logInt(10, 20_000) }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`).join(',')
        : r.pick(ANNOTATION_VALUES);
      (meta[where] as Record<string, Json>)[key] = value;
      return `set metadata.${where}[${key}] to ${JSON.stringify(value.slice(0, 60))}`;
    },
  ],
  [
    6,
    (r, root, _raw, others) => {
      const donor = r.pick(others);
      const donorSlots = slots({ body: structuredClone(donor.review) as Json }).filter((s) => s.path !== '(body)');
      const from = r.pick(donorSlots);
      const here = slots(root).find((s) => s.path === from.path);
      if (here) write(here, read(from) ?? null);
      else if (isRecord(root.body)) {
        const request = (root.body as Record<string, Json>).request;
        if (isRecord(request) && typeof from.key === 'string') request[from.key] = read(from) ?? null;
      }
      return `grafted ${from.path} from ${donor.name}`;
    },
  ],
];

const VALUE_WEIGHT = VALUE_MUTATIONS.reduce((sum, [w]) => sum + w, 0);

function valueMutation(r: Rng): ValueMutation {
  let n = r.int(VALUE_WEIGHT);
  for (const [w, m] of VALUE_MUTATIONS) {
    if (n < w) return m;
    n -= w;
  }
  return VALUE_MUTATIONS[0]![1];
}

const GARBAGE: readonly string[] = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  'null',
  ',,',
  '\u0000',
  '/*x*/',
  "'",
  'NaN',
  '-',
  '.',
  'e',
  '\n',
  '\ufeff',
  'undefined',
  '\\u12',
];

type TextMutation = (r: Rng, text: string) => { text: string; what: string };

const TEXT_MUTATIONS: readonly TextMutation[] = [
  (r, t) => {
    const at = r.int(t.length);
    return { text: t.slice(0, at), what: `truncated to ${at} of ${t.length} characters` };
  },
  (r, t) => {
    const cut = r.logInt(1, Math.max(1, Math.min(t.length, 64)));
    return { text: t.slice(0, t.length - cut), what: `cut the last ${cut} characters` };
  },
  (r, t) => {
    const at = r.int(t.length);
    const n = r.logInt(1, 200);
    return { text: t.slice(0, at) + t.slice(at + n), what: `deleted ${n} characters at ${at}` };
  },
  (r, t) => {
    const at = r.int(t.length + 1);
    const g = r.pick(GARBAGE);
    return { text: t.slice(0, at) + g + t.slice(at), what: `inserted ${JSON.stringify(g)} at ${at}` };
  },
  (r, t) => {
    const from = r.int(t.length);
    const piece = t.slice(from, from + r.logInt(1, 500));
    const at = r.int(t.length + 1);
    return { text: t.slice(0, at) + piece + t.slice(at), what: `copied ${piece.length} characters from ${from} to ${at}` };
  },
  (r, t) => {
    const g = r.pick([' x', '}', ',', '{}', '\n\n', '\u0000', ' null', `,${t.slice(0, 20)}`]);
    return { text: t + g, what: `appended ${JSON.stringify(g)}` };
  },
  (r, t) => {
    const pad = r.pick([' ', '\n', '\t', '\r\n']).repeat(r.logInt(1, 200_000));
    return r.chance(0.5)
      ? { text: pad + t, what: `prefixed ${pad.length} whitespace characters` }
      : { text: t + pad, what: `suffixed ${pad.length} whitespace characters` };
  },
  (_r, t) => ({ text: `\ufeff${t}`, what: 'prefixed a byte order mark' }),
  (r, t) => {
    const m = /"uid":"([^"\\]*)"/.exec(t);
    if (!m) return { text: t, what: 'found no uid to repeat' };
    const dup = `"uid":${JSON.stringify(r.chance(0.8) ? `dup-${r.int(1e9)}` : r.pick(STRINGS))}`;
    const before = r.chance(0.5);
    const text = before
      ? `${t.slice(0, m.index) + dup},${t.slice(m.index)}`
      : `${t.slice(0, m.index + m[0].length)},${dup}${t.slice(m.index + m[0].length)}`;
    return { text, what: `repeated the uid key ${before ? 'before' : 'after'} the original as ${dup}` };
  },
  (r, t) => {
    const quote = r.chance(0.5);
    return quote
      ? { text: t.replaceAll('"', "'"), what: 'swapped double quotes for single quotes' }
      : { text: t.replace(/}$/, ',}'), what: 'added a trailing comma' };
  },
];

type ByteMutation = (r: Rng, bytes: Buffer) => { bytes: Buffer; what: string };

const BAD_BYTES: readonly number[][] = [
  [0xff],
  [0xc3],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xc0, 0xaf],
  [0xe2, 0x82],
  [0x00],
  [0x80, 0x80],
];

const BYTE_MUTATIONS: readonly ByteMutation[] = [
  (r, b) => {
    const at = r.int(b.length + 1);
    const bad = r.pick(BAD_BYTES);
    return {
      bytes: Buffer.concat([b.subarray(0, at), Buffer.from(bad), b.subarray(at)]),
      what: `inserted bytes ${Buffer.from(bad).toString('hex')} at ${at}`,
    };
  },
  (r, b) => {
    if (b.length === 0) return { bytes: Buffer.from([0xff]), what: 'sent the single byte ff' };
    const copy = Buffer.from(b);
    const at = r.int(copy.length);
    copy[at] = r.int(256);
    return { bytes: copy, what: `overwrote byte ${at} with 0x${copy[at]!.toString(16)}` };
  },
  (_r, b) => ({ bytes: Buffer.from(b.toString('utf8'), 'utf16le'), what: 'encoded as UTF-16LE' }),
  (_r, b) => ({ bytes: Buffer.from(b.toString('utf8'), 'latin1'), what: 'encoded as Latin-1' }),
];

const CONTENT_TYPES: readonly string[] = [
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'Application/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json-patch+json',
  'application/jsonx',
  'application/yaml',
  'multipart/form-data; boundary=x',
  '*/*',
  'application/json; charset=latin1',
];

const TIMEOUTS: readonly string[] = [
  '5s',
  '10s',
  '30s',
  '1ms',
  '0s',
  '1m30s',
  'abc',
  '-1s',
  '1e3s',
  '999999999h',
  '1.5s',
  '',
  '5s&timeout=1ms',
];

/** Where a path takes the server's caller token, and what each slot becomes. */
export const TOKEN_SLOTS = {
  '{token}': (token: string) => token,
  '{TOKEN}': (token: string) => token.toUpperCase(),
  '{token/2}': (token: string) => token.slice(0, Math.floor(token.length / 2)),
} as const satisfies Readonly<Record<string, (token: string) => string>>;

const TOKEN_SLOT_PATTERN = new RegExp(
  Object.keys(TOKEN_SLOTS)
    .map((k) => k.replace(/[{}/]/g, '\\$&'))
    .join('|'),
  'g',
);

/** The case as sent to a server whose caller token is `token`. */
export function addressed(c: FuzzCase, token: string): FuzzCase {
  return { ...c, path: c.path.replace(TOKEN_SLOT_PATTERN, (slot) => TOKEN_SLOTS[slot as keyof typeof TOKEN_SLOTS](token)) };
}

/** A recorded path as the webhook configurations register it: `/validate?timeout=5s` becomes `/validate/{token}?timeout=5s`. */
const withToken = (url: string): string => url.replace(/^\/(validate|mutate)(?=\?|$)/, '$&/{token}');

const ROUTES: readonly string[] = ['/validate/{token}', '/mutate/{token}'];

const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const randomToken = (r: Rng, n: number): string => Array.from({ length: n }, () => TOKEN_CHARS[r.int(TOKEN_CHARS.length)]).join('');

/** Callers who do not hold the token, or hold it wrong: each must be refused before its body is read. */
const TOKEN_MUTATIONS: readonly ((r: Rng, route: string) => { path: string; what: string })[] = [
  (_r, route) => ({ path: route, what: 'no token' }),
  (_r, route) => ({ path: `${route}/`, what: 'an empty token' }),
  (r, route) => ({ path: `${route}/${randomToken(r, 43)}`, what: 'a wrong token' }),
  (_r, route) => ({ path: `${route}/{TOKEN}`, what: 'the token in upper case' }),
  (_r, route) => ({ path: `${route}/{token/2}`, what: 'half the token' }),
  (r, route) => ({
    path: `${route}/{token}${r.pick(['x', '.', '~', '%2F', '%00', '%20', 'é'])}`,
    what: 'the token with something after it',
  }),
  (r, route) => ({ path: `${route}/{token}/${r.pick(['', 'x', '{token}', '..'])}`, what: 'the token and another path segment' }),
  // up to 8,000 characters: the request line stays under Node's header limit, so the caller gate answers
  (r, route) => ({ path: `${route}/${randomToken(r, r.logInt(44, 8_000))}`, what: 'an over-long token' }),
  (_r, route) => ({ path: `${route}?token={token}`, what: 'the token in the query instead of the path' }),
  (_r, route) => ({ path: `${route}{token}`, what: 'the token without its slash' }),
];

function httpMutation(r: Rng, c: { method: string; path: string; headers: Record<string, string> }): string {
  switch (r.int(8)) {
    case 0: {
      c.path = `${r.pick(ROUTES)}?timeout=${r.pick(TIMEOUTS)}`;
      return `path ${c.path}`;
    }
    case 1: {
      c.path = r.pick([
        '/validate/',
        '/Validate',
        '//validate',
        '/validate%zz',
        `/validate%${r.int(1e6)}`,
        '/validate/../mutate',
        '/admit',
        '/',
        '/validate;x',
      ]);
      return `path ${c.path}`;
    }
    case 2: {
      c.method = r.pick(['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
      return `method ${c.method}`;
    }
    case 3: {
      c.headers['content-type'] = r.pick(CONTENT_TYPES);
      return `content-type ${c.headers['content-type']}`;
    }
    case 4: {
      delete c.headers['content-type'];
      return 'no content-type';
    }
    case 5: {
      c.headers['transfer-encoding'] = 'chunked';
      return 'chunked transfer encoding';
    }
    case 6: {
      const m = r.pick(TOKEN_MUTATIONS)(r, r.pick(['/validate', '/mutate']));
      c.path = r.chance(0.5) ? `${m.path}${m.path.includes('?') ? '&' : '?'}timeout=${r.pick(TIMEOUTS)}` : m.path;
      return `caller token: ${m.what}: ${c.path}`;
    }
    default: {
      c.path = c.path.startsWith('/validate') ? c.path.replace('/validate', '/mutate') : c.path.replace('/mutate', '/validate');
      return `sent to the other route: ${c.path}`;
    }
  }
}

/** A review from nothing: the envelope drawn from valid and invalid values, the object random. */
function randomReview(r: Rng): Json {
  const field = <T extends Json>(valid: readonly T[]): Json => (r.chance(0.8) ? r.pick(valid) : randomValue(r));
  const request: Record<string, Json> = {
    uid: field([`${r.int(1e9)}-${r.int(1e9)}`, 'u', '00000000-0000-0000-0000-000000000000']),
    kind: r.chance(0.8)
      ? {
          group: field(['', 'networking.istio.io', 'policy.openservicemesh.io']),
          version: field(['v1', 'v1alpha1', 'v1beta1']),
          kind: field(['Pod', 'ServiceEntry', 'VirtualService', 'Egress', 'Namespace', 'ConfigMap']),
        }
      : randomValue(r),
    operation: field(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
    namespace: field(['default', 'shop', '']),
    object: r.chance(0.8)
      ? {
          apiVersion: field(['v1', 'networking.istio.io/v1']),
          kind: field(['Pod', 'ServiceEntry']),
          metadata: { name: field(['x']), annotations: randomValue(r) },
          spec: randomValue(r, 3),
        }
      : randomValue(r, 3),
  };
  if (r.chance(0.3)) request.oldObject = randomValue(r, 3);
  return { apiVersion: field(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']), kind: field(['AdmissionReview']), request };
}

/** Case `index` of the run seeded with `seed`. */
export function generateCase(seed: number, index: number, seedlings: readonly Seedling[]): FuzzCase {
  const r = rng(caseSeed(seed, index));
  const origin = r.pick(seedlings);
  const http = { method: 'POST', path: withToken(origin.url), headers: { ...origin.headers } };
  const base = { seed, index };
  const roll = r.next();

  if (roll < 0.03) {
    return { ...base, ...http, body: JSON.stringify(origin.review), steps: [`recorded ${origin.name} unchanged`], pristine: true };
  }
  if (roll < 0.031) {
    const text = JSON.stringify(origin.review);
    const pad = ' '.repeat(BODY_LIMIT + 1 + r.int(64 * 1024) - text.length);
    return {
      ...base,
      ...http,
      body: text + pad,
      steps: [`${origin.name} padded past the body limit to ${text.length + pad.length} bytes`],
      pristine: false,
    };
  }
  if (roll < 0.08) {
    const steps = ['a random review'];
    let body: string | Buffer = JSON.stringify(randomReview(r));
    if (r.chance(0.2)) {
      const m = r.pick(TEXT_MUTATIONS)(r, body);
      body = m.text;
      steps.push(m.what);
    }
    return {
      ...base,
      method: 'POST',
      path: `${r.pick(ROUTES)}?timeout=10s`,
      headers: { 'content-type': 'application/json' },
      body,
      steps,
      pristine: false,
    };
  }
  if (roll < 0.09) {
    const n = r.logInt(1, 64 * 1024);
    const bytes = Buffer.from(Array.from({ length: n }, () => r.int(256)));
    return { ...base, ...http, body: bytes, steps: [`${n} random bytes`], pristine: false };
  }

  const steps: string[] = [`from ${origin.name}`];
  const root = { body: structuredClone(origin.review) as Json };
  const raw = new RawText();
  const others = seedlings.filter((s) => s !== origin);
  for (let n = 1 + r.int(r.chance(0.2) ? 6 : 3); n > 0; n--) steps.push(valueMutation(r)(r, root, raw, others.length ? others : seedlings));
  let text = raw.render(root.body as Json | undefined);
  let body: string | Buffer = text;
  if (r.chance(0.25)) {
    const m = r.pick(TEXT_MUTATIONS)(r, text);
    text = m.text;
    body = text;
    steps.push(m.what);
  }
  if (r.chance(0.05)) {
    const m = r.pick(BYTE_MUTATIONS)(r, Buffer.from(text, 'utf8'));
    body = m.bytes;
    steps.push(m.what);
  }
  if (r.chance(0.12)) steps.push(httpMutation(r, http));
  return { ...base, ...http, body, steps, pristine: false };
}
