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
  const exists = await execa('docker', ['image', 'inspect', NODE_BASE_IMAGE], { reject: false, stdin: 'ignore' });
  if (exists.exitCode === 0) return NODE_BASE_IMAGE;
  const root = mkdtempSync(path.join(tmpdir(), 'node-base-'));
  try {
    chmodSync(root, 0o755); // it becomes the image's "/", which mkdtemp made 0700
    for (const link of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${link}`, path.join(root, link));
    const libraries = new Set<string>();
    for (const tool of TOOLS) {
      const { stdout } = await execa('ldd', [tool]);
      for (const match of stdout.matchAll(/(\/\S+\.so[^\s]*)/g)) libraries.add(match[1]!);
    }
    for (const file of [...TOOLS, ...libraries]) {
      // merged /usr: /lib/x.so is /usr/lib/x.so
      const inside = file.startsWith('/usr/') ? file : `/usr${file}`;
      cpSync(file, path.join(root, inside), { dereference: true });
    }
    cpSync(NPM, path.join(root, NPM), { recursive: true });
    symlinkSync('dash', path.join(root, 'usr/bin/sh'));
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(root, 'usr/bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(root, 'usr/bin/npx'));
    mkdirSync(path.join(root, 'etc'));
    writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n');
    writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
    for (const dir of ['root', 'home/node', 'tmp']) mkdirSync(path.join(root, dir), { recursive: true });
    await execa('chmod', ['1777', path.join(root, 'tmp')]);
    await execa('chown', ['1000:1000', path.join(root, 'home/node')]);
    const archive = `${root}.tar`;
    await execa('tar', ['-C', root, '-cf', archive, '.']);
    await execa('docker', ['import', '--change', 'ENV PATH=/usr/local/bin:/usr/bin', '--change', 'ENV HOME=/root', '--change', 'CMD ["node"]', archive, NODE_BASE_IMAGE], { stdin: 'ignore' });
    rmSync(archive);
    return NODE_BASE_IMAGE;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
