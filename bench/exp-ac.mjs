import http from 'node:http';
import autocannon from 'autocannon';
let n = 0;
const server = http.createServer((req, res) => {
  if (++n % 2 === 0) { res.writeHead(503, { 'content-length': 2, connection: 'close' }); res.end('no'); }
  else { res.writeHead(200, { 'content-length': 2 }); res.end('ok'); }
}).listen(0, '127.0.0.1', async () => {
  const url = `http://127.0.0.1:${server.address().port}/`;
  const r = await autocannon({ url, connections: 10, duration: 2 });
  console.log('rps', r.requests.average, 'p50', r.latency.p50, 'p99', r.latency.p99, 'non2xx', r.non2xx, 'errors', r.errors);
  const lat = [];
  const inst = autocannon({ url, connections: 10, duration: 2 }, () => { lat.sort((a,b)=>a-b); console.log('response-event p50', lat[lat.length>>1], 'n', lat.length); server.close(); });
  inst.on('response', (_c, status, _b, ms) => lat.push(ms));
});
