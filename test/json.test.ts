import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sameJson } from '../src/json.ts';

const Same = suite('json: sameJson compares parsed JSON value by value');

Same('equal documents parsed apart are the same', () => {
  const text = '{"a":[1,"x",{"b":null,"c":true}],"d":{"e":"f"}}';
  assert.ok(sameJson(JSON.parse(text), JSON.parse(text)));
});

Same('a changed value, a missing key, a longer list or a list for an object differ', () => {
  const base = { a: [1, 2], b: { c: 'x' } };
  for (const other of [
    { a: [1, 3], b: { c: 'x' } },
    { a: [1, 2], b: {} },
    { a: [1, 2, 3], b: { c: 'x' } },
    { a: { 0: 1, 1: 2 }, b: { c: 'x' } },
  ])
    assert.not.ok(sameJson(base, other), JSON.stringify(other));
});

Same('the same keys in another order differ: a reader walking them in order would see them apart', () => {
  assert.not.ok(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 }));
});

Same('values nested deeper than the stack can walk count as different instead of throwing', () => {
  const deep = (n: number) => {
    let v: unknown = 'end';
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  assert.not.ok(sameJson(deep(200_000), deep(200_000)));
  assert.ok(sameJson(deep(100), deep(100)));
});

Same.run();
