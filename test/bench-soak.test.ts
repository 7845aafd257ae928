import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { flatness } from '../bench/soak.ts';

const Soak = suite("bench: the long run's memory verdict");

const mb = (...values: number[]) => values.map((v) => v * 2 ** 20);

Soak('a saw-tooth that falls back is flat', () => {
  const r = flatness(mb(300, 340, 310, 345, 305, 338, 312, 344));
  assert.is(r.verdict, 'flat');
  assert.is(r.first, 345 * 2 ** 20);
  assert.is(r.second, 344 * 2 ** 20);
});

Soak('memory that climbs window after window is climbing', () => {
  assert.is(flatness(mb(300, 310, 320, 330, 340, 350, 360, 370)).verdict, 'climbing');
});

Soak("a second half a little over the first, within what the allocator's rhythm moves, is flat", () => {
  assert.is(flatness(mb(300, 320, 318, 330)).verdict, 'flat');
});

Soak('three windows are too few to tell', () => {
  assert.is(flatness(mb(300, 400, 500)).verdict, 'too short to tell');
});

Soak.run();
