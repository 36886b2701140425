import net from 'node:net';

/** Ports this process has handed out: free when asked, but maybe not yet taken by whoever
 * will listen on them, so the kernel could offer one again (two instances on one port). */
const handedOut = new Set<number>();

/** A loopback port the kernel just handed out, free again for an instance to take. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await kernelPort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
