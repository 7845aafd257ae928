/**
 * Plain scalars read as kubectl reads them. kubectl decodes manifests with sigs.k8s.io/yaml, which
 * parses with its copy of go-yaml v2 (goyaml.v2/resolve.go) into Go values and converts them to
 * JSON. Each row says what kubectl sends to the API server and why; where YAML 1.2 (js-yaml's core
 * schema) reads the text differently, the row says that too.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDocuments } from '../src/yaml.ts';

const Yaml = suite('yaml: read as kubectl reads it');

type Row = { readonly yaml: string; readonly kubectl: unknown; readonly why: string };

/** `value: <yaml>` → the JSON value kubectl sends. */
const SCALARS: readonly Row[] = [
  {
    yaml: '[1.2.3.4, 001:db8::]',
    kubectl: ['1.2.3.4', '001:db8::'],
    why: 'go-yaml ends a plain scalar in a flow sequence only at a blank or a flow indicator, so a trailing ":" stays in the string (YAML 1.2 reads a one-key map {"001:db8:": null})',
  },
  { yaml: '{a:, b: 1}', kubectl: { 'a:': null, b: 1 }, why: 'same in a flow mapping: "a:" is the key' },
  {
    yaml: '[x:y, "q":1]',
    kubectl: ['x:y', { q: 1 }],
    why: 'a colon inside a plain scalar is text; after a quoted key it is a key indicator',
  },
  { yaml: '2001:db8::1', kubectl: '2001:db8::1', why: 'an IPv6 address in block context is a string' },
  { yaml: '10:30', kubectl: '10:30', why: 'sexagesimal (base 60) numbers are YAML 1.1 but go-yaml does not read them: a string' },
  { yaml: '1:20:30', kubectl: '1:20:30', why: 'likewise' },
  { yaml: 'yes', kubectl: true, why: 'go-yaml v2 keeps the YAML 1.1 booleans y, yes, on (any of three casings) (YAML 1.2: a string)' },
  { yaml: 'On', kubectl: true, why: 'as above' },
  { yaml: 'no', kubectl: false, why: 'n, no, off are false (YAML 1.2: a string)' },
  { yaml: 'OFF', kubectl: false, why: 'as above' },
  { yaml: 'y', kubectl: true, why: 'a single y is true too' },
  { yaml: 'True', kubectl: true, why: 'true, True, TRUE' },
  { yaml: 'tRUE', kubectl: 'tRUE', why: 'other casings are strings' },
  { yaml: '~', kubectl: null, why: '~, null, Null, NULL and nothing are null' },
  { yaml: '', kubectl: null, why: 'an empty value is null' },
  { yaml: 'nULL', kubectl: 'nULL', why: 'other casings are strings' },
  { yaml: '0777', kubectl: 511, why: 'a leading zero is octal (Go strconv.ParseInt base 0) (YAML 1.2: decimal 777)' },
  { yaml: '0o17', kubectl: 15, why: '0o is octal' },
  { yaml: '08', kubectl: 8, why: 'not octal, so go-yaml reads it as a float: 8' },
  { yaml: '0x1F', kubectl: 31, why: 'hexadecimal' },
  { yaml: '-0x1F', kubectl: -31, why: 'a signed hexadecimal is a number too (YAML 1.2: a string)' },
  { yaml: '0b101', kubectl: 5, why: 'binary (YAML 1.2: a string)' },
  { yaml: '1_000', kubectl: 1000, why: 'underscores are dropped before parsing (YAML 1.2: a string)' },
  { yaml: '+12', kubectl: 12, why: 'a sign is allowed' },
  { yaml: '1e3', kubectl: 1000, why: 'a float' },
  { yaml: '.5', kubectl: 0.5, why: 'a float' },
  { yaml: '1.2.3.4', kubectl: '1.2.3.4', why: 'not a number: a string' },
  { yaml: '1.2.3', kubectl: '1.2.3', why: 'a version is a string' },
  {
    yaml: '2024-01-02',
    kubectl: '2024-01-02',
    why: 'go-yaml resolves timestamps but keeps them as strings when decoding into interface{}',
  },
  { yaml: '2001-12-14t21:59:43.10-05:00', kubectl: '2001-12-14t21:59:43.10-05:00', why: 'as above' },
  { yaml: '"yes"', kubectl: 'yes', why: 'a quoted scalar is always a string' },
  { yaml: "'0777'", kubectl: '0777', why: 'as above' },
  { yaml: '<<', kubectl: '<<', why: 'a merge key only as a key' },
];

for (const row of SCALARS) {
  Yaml(`value: ${row.yaml} → ${JSON.stringify(row.kubectl)}: ${row.why}`, () => {
    const r = parseDocuments(`value: ${row.yaml}\n`);
    assert.ok('docs' in r, JSON.stringify(r));
    assert.equal((r.docs[0]!.value as { value: unknown }).value, row.kubectl);
  });
}

/** Whole documents. */
const DOCUMENTS: readonly Row[] = [
  {
    yaml: 'yes: 1\n010: 2\n',
    kubectl: { true: 1, '8': 2 },
    why: 'keys resolve like values, then sigs.k8s.io/yaml writes them as JSON strings',
  },
  {
    yaml: 'base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  b: 3\n',
    kubectl: { base: { a: 1, b: 2 }, m: { a: 1, b: 3 } },
    why: 'an anchor, an alias and a merge key; a key after the merge overrides it',
  },
  {
    yaml: 'base: &b {a: 1}\nm:\n  a: 0\n  <<: *b\n',
    kubectl: { base: { a: 1 }, m: { a: 1 } },
    why: 'go-yaml v2 merges where the merge key stands, over the keys before it (YAML 1.1 would keep a: 0)',
  },
  { yaml: 'm: {<<: [{a: 1}, {a: 2, b: 2}], b: 3}\n', kubectl: { m: { a: 1, b: 3 } }, why: 'of a merged list the first map wins' },
  { yaml: 'm: {"<<": 1}\n', kubectl: { m: { '<<': 1 } }, why: 'a quoted "<<" is an ordinary key' },
  { yaml: 'a: &x [1, 2]\nb: *x\n', kubectl: { a: [1, 2], b: [1, 2] }, why: 'aliases repeat the anchored node' },
];

for (const row of DOCUMENTS) {
  Yaml(`${JSON.stringify(row.yaml)} → ${JSON.stringify(row.kubectl)}: ${row.why}`, () => {
    const r = parseDocuments(row.yaml);
    assert.ok('docs' in r, JSON.stringify(r));
    assert.equal(r.docs[0]!.value, row.kubectl);
  });
}

Yaml("a key written twice is an error with its line: kubectl's strict field validation (the default) refuses duplicate fields", () => {
  const r = parseDocuments('a: 1\nb: 2\na: 3\n');
  assert.ok('error' in r);
  assert.is(r.error.line, 3);
});

Yaml('a merge value that is not a map is an error, as in go-yaml', () => {
  const r = parseDocuments('m:\n  <<: 1\n');
  assert.ok('error' in r);
});

Yaml('field lines are kept when a flow scalar is read the go-yaml way', () => {
  const text = 'apiVersion: v1\nkind: X\nspec:\n  addresses: [1.2.3.4, 001:db8::]\n  ports:\n  - number: 80\n';
  const r = parseDocuments(text);
  assert.ok('docs' in r);
  const doc = r.docs[0]!;
  assert.is(doc.lineOf('spec.addresses[1]'), 4);
  assert.is(doc.lineOf('spec.ports[0].number'), 6);
});

Yaml.run();

// ---

const Errors = suite('yaml: syntax errors name their cause and its line');

const errorOf = (text: string) => {
  const r = parseDocuments(text);
  assert.ok('error' in r, JSON.stringify(r));
  return r.error;
};

/** Errors where js-yaml names the line it gave up on, and what the reader says instead. */
const UNCLOSED: ReadonlyArray<{ readonly yaml: string; readonly jsYaml: string; readonly line: number; readonly message: string }> = [
  {
    yaml: 'spec:\n  hosts: [a.example.com, b.example.com\n  location: MESH_EXTERNAL\n',
    jsYaml: 'deficient indentation, line 3',
    line: 2,
    message: 'unclosed flow sequence: "[" on line 2 has no matching "]" before line 3',
  },
  {
    yaml: 'metadata:\n  labels: {app: web, tier: front\n  name: web\n',
    jsYaml: 'deficient indentation, line 3',
    line: 2,
    message: 'unclosed flow mapping: "{" on line 2 has no matching "}" before line 3',
  },
  {
    yaml: 'spec:\n  ports: [{number: 80}, {number: 443]\n',
    jsYaml: 'missed comma between flow collection entries, line 2',
    line: 2,
    message: 'unclosed flow mapping: "{" on line 2 is closed by "]" on line 2',
  },
  {
    yaml: '{\n  "kind": "Egress",\n  "spec": {\n    "hosts": ["a"]\n  }\n',
    jsYaml: 'unexpected end of the stream within a flow collection, line 6',
    line: 1,
    message: 'unclosed flow mapping: "{" on line 1 has no matching "}" before the end of the document',
  },
  {
    yaml: '- [a, b\n- c\n---\nkind: Other\n',
    jsYaml: 'deficient indentation, line 2',
    line: 1,
    message: 'unclosed flow sequence: "[" on line 1 has no matching "]" before line 2',
  },
  {
    yaml: 'metadata:\n  name: "web\n  namespace: shop\nspec: {}\n',
    jsYaml: 'deficient indentation, line 3',
    line: 2,
    message: `unclosed double-quoted string: '"' on line 2 has no matching '"' before line 3`,
  },
];

for (const row of UNCLOSED) {
  Errors(`names the unclosed bracket or quote and its line where js-yaml says "${row.jsYaml}": ${JSON.stringify(row.yaml)}`, () => {
    assert.equal(errorOf(row.yaml), { line: row.line, message: row.message });
  });
}

Errors("keeps the parser's own message when a bracket is closed but indented too little", () => {
  assert.equal(errorOf('spec:\n  hosts: [a,\n  b]\n'), { line: 3, message: 'deficient indentation' });
  assert.equal(errorOf('spec:\n  hosts: [\n    a,\n  ]\n'), { line: 4, message: 'deficient indentation' });
});

Errors("keeps the parser's own message for an error before the unclosed bracket, or of another kind", () => {
  assert.equal(errorOf('a:\n\t- b\nc: [d\n'), { line: 2, message: 'tab characters must not be used in indentation' });
  assert.equal(errorOf('resolution: DNS: STATIC\nhosts: [a\n'), errorOf('resolution: DNS: STATIC\nhosts: [a]\n'));
});

Errors('brackets in quoted strings, comments and block scalars are not taken for unclosed ones', () => {
  const text = `# see [docs
metadata:
  annotations:
    note: "[x"   # {
    other: 'it''s ['
    script: |
      if [ -f x
      then {
  labels: {a: "]", b: c}
spec: [1,
`;
  assert.equal(errorOf(text), {
    line: 10,
    message: 'unclosed flow sequence: "[" on line 10 has no matching "]" before the end of the document',
  });
  const ok = parseDocuments(text.replace('spec: [1,', 'spec: [1]'));
  assert.ok('docs' in ok, JSON.stringify(ok));
});

Errors.run();
