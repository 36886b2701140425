import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/**
 * No image can be pulled here, so the compose tests build their base image from this
 * machine's own Node.js: node, npm, a shell and the few tools the Dockerfiles' RUN lines
 * use, with their shared libraries, imported as one layer.
 */
export const NODE_BASE_IMAGE = `scaffold-test/node:${process.versions.node}`;

const TOOLS = ['/usr/bin/node', '/usr/bin/dash', '/usr/bin/env', '/usr/bin/mkdir', '/usr/bin/rm', '/usr/bin/cat', '/usr/bin/ls'];
const NPM = '/usr/lib/node_modules/npm';

/** Whether a Docker engine answers; `reason` says why not. */
export async function dockerEngine(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const result = await execa('docker', ['version', '--format', '{{.Server.Version}}'], { reject: false, stdin: 'ignore' });
  return result.exitCode === 0 ? { ok: true } : { ok: false, reason: String(result.stderr).split('\n')[0] || 'docker is not installed' };
}

export async function ensureNodeBaseImage(): Promise<string> {
  return imageFromHost({
    image: NODE_BASE_IMAGE,
    tools: TOOLS,
    changes: ['ENV PATH=/usr/local/bin:/usr/bin', 'ENV HOME=/root', 'CMD ["node"]'],
    fill: async (root) => {
      cpSync(NPM, path.join(root, NPM), { recursive: true });
      symlinkSync('dash', path.join(root, 'usr/bin/sh'));
      symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(root, 'usr/bin/npm'));
      symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(root, 'usr/bin/npx'));
      writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n');
      writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
      for (const dir of ['root', 'home/node']) mkdirSync(path.join(root, dir), { recursive: true });
      await execa('chown', ['1000:1000', path.join(root, 'home/node')]);
    },
  });
}

/** A Redis image from this machine's redis-server, standing in for the official one: the
 * same command (redis-server), health command (redis-cli ping) and data folder (/data). */
export const REDIS_IMAGE = 'scaffold-test/redis:host';

export async function ensureRedisImage(): Promise<string> {
  return imageFromHost({
    image: REDIS_IMAGE,
    tools: ['/usr/bin/redis-server', '/usr/bin/redis-cli'],
    // the official image turns protected mode off: clients come from other containers
    changes: ['ENV PATH=/usr/bin', 'WORKDIR /data', 'CMD ["redis-server", "--protected-mode", "no"]'],
    fill: async (root) => {
      writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
      mkdirSync(path.join(root, 'data'));
    },
  });
}

/** A NATS image from this machine's nats-server, standing in for the official one: the
 * same entrypoint (nats-server, so compose's command is its arguments) and the wget its
 * health command runs. */
export const NATS_IMAGE = 'scaffold-test/nats:host';

export async function ensureNatsImage(): Promise<string> {
  return imageFromHost({
    image: NATS_IMAGE,
    tools: ['/usr/sbin/nats-server', '/usr/bin/wget'],
    changes: ['ENV PATH=/usr/bin:/usr/sbin', 'ENTRYPOINT ["nats-server"]'],
    fill: async (root) => {
      writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
      mkdirSync(path.join(root, 'data'));
    },
  });
}

/** An image of `tools` from this machine, with their shared libraries, imported as one
 * layer; `fill` adds the rest. Built once, kept for later runs. */
async function imageFromHost(options: { image: string; tools: string[]; changes: string[]; fill: (root: string) => Promise<void> }): Promise<string> {
  const exists = await execa('docker', ['image', 'inspect', options.image], { reject: false, stdin: 'ignore' });
  if (exists.exitCode === 0) return options.image;
  const root = mkdtempSync(path.join(tmpdir(), 'image-root-'));
  try {
    chmodSync(root, 0o755); // it becomes the image's "/", which mkdtemp made 0700
    for (const link of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${link}`, path.join(root, link));
    const libraries = new Set<string>();
    for (const tool of options.tools) {
      const { stdout } = await execa('ldd', [tool]);
      for (const match of stdout.matchAll(/(\/\S+\.so[^\s]*)/g)) libraries.add(match[1]!);
    }
    for (const file of [...options.tools, ...libraries]) {
      // merged /usr: /lib/x.so is /usr/lib/x.so
      const inside = file.startsWith('/usr/') ? file : `/usr${file}`;
      cpSync(file, path.join(root, inside), { dereference: true });
    }
    mkdirSync(path.join(root, 'etc'));
    mkdirSync(path.join(root, 'tmp'));
    await execa('chmod', ['1777', path.join(root, 'tmp')]);
    await options.fill(root);
    const archive = `${root}.tar`;
    await execa('tar', ['-C', root, '-cf', archive, '.']);
    await execa('docker', ['import', ...options.changes.flatMap((change) => ['--change', change]), archive, options.image], { stdin: 'ignore' });
    rmSync(archive);
    return options.image;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
