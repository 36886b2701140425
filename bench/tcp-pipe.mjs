// The floor for any TCP proxy written in Node: accept, connect, pipe both ways, nothing
// else. The balancer is measured against it. Usage: PORT=… node tcp-pipe.mjs <target port>
import net from 'node:net';

const target = Number(process.argv.at(-1));
net
  .createServer({ noDelay: true }, (client) => {
    const upstream = net.connect({ port: target, host: '127.0.0.1', noDelay: true });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
