// nginx (Debian's) as a baseline: the reverse proxy the gateway is compared with, and the TCP
// proxy (its stream module) the balancer is compared with.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitReady } from './lib.mjs';

const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

/** Why nginx cannot be a baseline here (the package to install), or undefined if it can. */
export function nginxMissing({ stream = false } = {}) {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
  } catch {
    return 'nginx not installed (apt-get install -y nginx)';
  }
  if (stream && !existsSync(STREAM_MODULE)) return 'nginx stream module not installed (apt-get install -y libnginx-mod-stream)';
  return undefined;
}

/**
 * nginx in the foreground with a config of its own on a free loopback port, one worker, like
 * the one process of the gateway or the supervisor. As an HTTP reverse proxy, it passes
 * /svc/<path> to the upstream's /<path> over a keep-alive pool; with `stream`, it passes TCP
 * connections through, as the balancer does. `ownSession` as in startNode.
 */
export async function startNginx(upstreamPort, { stream = false, ownSession = false } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'scaffold-bench-nginx-'));
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `${kind}_temp_path ${dir};`).join(' ');
  const proxy = stream
    ? `stream {
  server { listen 127.0.0.1:${port}; proxy_pass 127.0.0.1:${upstreamPort}; }
}`
    : `http {
  access_log /dev/null;
  # nginx closes a client's connection after 1000 requests by default: a reconnect the
  # load generator counts as an error, which no other variant has
  keepalive_requests 1000000;
  ${temp}
  upstream svc { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location /svc/ {
      proxy_pass http://svc/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}`;
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `${stream ? `load_module ${STREAM_MODULE};\n` : ''}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 1024; }
${proxy}
`,
  );
  const child = spawn('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore', detached: ownSession });
  const kill = () => child.kill();
  if (ownSession) process.once('exit', kill);
  const url = `http://127.0.0.1:${port}${stream ? '' : '/svc'}`;
  await waitReady(`${url}/readyz`);
  return {
    /** Where the upstream's paths start. */
    url,
    stop: () =>
      new Promise((resolve) => {
        process.off('exit', kill);
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        // nothing is in flight once the loads are done; a graceful stop (SIGQUIT) would wait
        // for the TCP proxy's idle sessions, such as the readiness probe's keep-alive, to end
        child.kill('SIGTERM');
      }),
  };
}
