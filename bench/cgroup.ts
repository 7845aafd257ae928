/**
 * A memory limit for one server process, as the kubelet gives the container: a memory cgroup made
 * under this process's own. Node reads the limit when it starts and sizes V8's heap from it (about
 * 294 MB of heap under 512 MiB, against 4.3 GB on a 24 GB machine without one), so a server measured
 * without it lets garbage pile up that the deployed one collects, and its resident memory says
 * little about the Deployment's. Making a cgroup takes write access to the cgroup file system
 * (root, or a delegated subtree); where there is none the server runs unlimited and the bench says so.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type MemoryCgroup = {
  /** the file a process writes its pid to, to enter the cgroup */
  readonly procs: string;
  /** removes the cgroup once no process is left in it; a failure leaves an empty folder behind */
  readonly remove: () => void;
};

const PREFIX = 'egress-warden-bench-';
let made = 0;

/** The folder of a process's memory cgroup, v1 or v2, from its `/proc/<pid>/cgroup`, or why there is none. */
export function memoryCgroupDir(procCgroup: string): { dir: string; v2: boolean } | string {
  const lines = procCgroup.split('\n');
  for (const line of lines) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m && m[1]!.split(',').includes('memory')) return { dir: join('/sys/fs/cgroup/memory', m[2]!), v2: false };
  }
  const unified = lines.find((l) => l.startsWith('0::'));
  if (unified !== undefined) return { dir: join('/sys/fs/cgroup', unified.slice(3)), v2: true };
  return 'no memory cgroup controller';
}

/** A new memory cgroup of `limitBytes` for one process, or the reason none could be made. */
export function memoryCgroup(limitBytes: number): MemoryCgroup | string {
  let own: ReturnType<typeof memoryCgroupDir>;
  try {
    own = memoryCgroupDir(readFileSync('/proc/self/cgroup', 'utf8'));
  } catch {
    return 'no /proc/self/cgroup (not Linux)';
  }
  if (typeof own === 'string') return own;
  if (!existsSync(own.dir)) return `${own.dir} is not mounted`;
  // empty ones that an interrupted run left behind
  for (const name of readdirSync(own.dir)) {
    if (!name.startsWith(PREFIX)) continue;
    try {
      rmdirSync(join(own.dir, name));
    } catch {
      // a server still runs in it, or it is not ours to remove
    }
  }
  const dir = join(own.dir, `${PREFIX}${process.pid}-${made++}`);
  try {
    mkdirSync(dir);
  } catch (err) {
    return `cannot make a cgroup under ${own.dir}: ${(err as NodeJS.ErrnoException).code ?? err}`;
  }
  const remove = () => {
    try {
      rmdirSync(dir);
    } catch {
      // a process is still in it
    }
  };
  try {
    writeFileSync(join(dir, own.v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(limitBytes));
  } catch (err) {
    remove();
    return `cannot set a memory limit in ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}`;
  }
  return { procs: join(dir, 'cgroup.procs'), remove };
}

/** A command to spawn, in a memory cgroup where one could be made. */
export type Limited = {
  readonly file: string;
  readonly args: readonly string[];
  /** the limit it runs under, or why it has none */
  readonly limit: string;
  /** removes the cgroup; call once the process has exited */
  readonly done: () => void;
};

/**
 * `command` as a process under a memory limit of `limitBytes` (none when undefined). The shell
 * enters the cgroup and becomes the command, which keeps its pid and reads the limit as it starts.
 */
export function underMemoryLimit(command: readonly string[], limitBytes: number | undefined): Limited {
  const [file, ...args] = command as [string, ...string[]];
  const cgroup = limitBytes === undefined ? 'none' : memoryCgroup(limitBytes);
  if (typeof cgroup === 'string') return { file, args, limit: cgroup === 'none' ? 'none' : `none (${cgroup})`, done: () => {} };
  return {
    file: '/bin/sh',
    args: ['-c', 'echo $$ > "$0" && exec "$@"', cgroup.procs, ...command],
    limit: `${limitBytes! / 2 ** 20} MiB (memory cgroup)`,
    done: cgroup.remove,
  };
}
