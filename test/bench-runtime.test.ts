import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { memoryCgroupDir } from '../bench/cgroup.ts';
import { imageRuntime } from '../bench/processes.ts';
import { MEMORY_LIMIT_MIB } from '../src/manifests/install.ts';

const Runtime = suite('bench: servers measured for memory run as the container image runs them');

Runtime("reads the Dockerfile's environment, node's flags before the script and the Deployment's memory limit", () => {
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
    memoryLimitBytes: MEMORY_LIMIT_MIB * 2 ** 20,
  });
});

Runtime('an entrypoint that is not node gives no node flags', () => {
  assert.equal(imageRuntime('ENTRYPOINT ["/bin/tini", "--", "node", "--max-semi-space-size=8"]').nodeFlags, []);
});

Runtime("the project's own Dockerfile caps V8's young generation and pins glibc's mmap threshold", () => {
  const runtime = imageRuntime();
  assert.ok(
    runtime.nodeFlags.some((f) => f.startsWith('--max-semi-space-size=')),
    runtime.nodeFlags.join(' '),
  );
  assert.ok(runtime.env.MALLOC_MMAP_THRESHOLD_ !== undefined);
});

Runtime('a memory-measured server runs in a memory cgroup beside the bench, on cgroup v1 and v2', () => {
  const v1 = ['12:pids:/user.slice', '4:memory:/process_api/abc', '1:name=systemd:/', '0::/'].join('\n');
  assert.equal(memoryCgroupDir(v1), { dir: '/sys/fs/cgroup/memory/process_api/abc', v2: false });
  assert.equal(memoryCgroupDir('5:cpu,memory:/k8s/pod1\n'), { dir: '/sys/fs/cgroup/memory/k8s/pod1', v2: false });
  assert.equal(memoryCgroupDir('0::/user.slice/user-1000.slice/app.scope\n'), {
    dir: '/sys/fs/cgroup/user.slice/user-1000.slice/app.scope',
    v2: true,
  });
  assert.type(memoryCgroupDir('3:cpu:/\n'), 'string');
});

Runtime.run();
