import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { imageRuntime } from '../bench/processes.ts';

const Runtime = suite('bench: servers measured for memory run as the container image runs them');

Runtime("reads the Dockerfile's environment and node's flags before the script", () => {
  const dockerfile = [
    'FROM node:24-slim',
    'ENV NODE_ENV=production MALLOC_MMAP_THRESHOLD_=131072',
    'ENV EXTRA=1',
    'ENTRYPOINT ["node", "--max-semi-space-size=8", "--enable-source-maps", "/app/src/cli.ts", "--not-a-node-flag"]',
    'CMD ["serve"]',
  ].join('\n');
  assert.equal(imageRuntime(dockerfile), {
    nodeFlags: ['--max-semi-space-size=8', '--enable-source-maps'],
    env: { NODE_ENV: 'production', MALLOC_MMAP_THRESHOLD_: '131072', EXTRA: '1' },
  });
});

Runtime('an entrypoint that is not node gives no node flags', () => {
  assert.equal(imageRuntime('ENTRYPOINT ["/bin/tini", "--", "node", "--max-semi-space-size=8"]'), { nodeFlags: [], env: {} });
});

Runtime("the project's own Dockerfile caps V8's young generation and pins glibc's mmap threshold", () => {
  const runtime = imageRuntime();
  assert.ok(
    runtime.nodeFlags.some((f) => f.startsWith('--max-semi-space-size=')),
    runtime.nodeFlags.join(' '),
  );
  assert.ok(runtime.env.MALLOC_MMAP_THRESHOLD_ !== undefined);
});

Runtime.run();
