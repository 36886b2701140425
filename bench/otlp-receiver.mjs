// A plain OTLP/HTTP receiver for the tracing benchmark: takes POST /v1/traces (JSON or
// protobuf), counts the spans and answers 200; GET /spans says how many came.
// Usage: node otlp-receiver.mjs; PORT and HOST from the environment.
//
// It shares the two cores with the service measured and the load generator, where a real
// collector runs elsewhere, so it counts without decoding: JSON.parse of every batch cost
// 6.9 µs per span against 1.3–1.9 µs this way, and the tracing line read 0.56 against 0.63
// (same run, BENCHMARKS.md). The count is still the receiver's own, from the bytes sent.
import http from 'node:http';

let spans = 0;
const server = http.createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/readyz') return response.end('ready');
  if (request.method === 'GET' && request.url === '/spans') return response.end(String(spans));
  if (request.method !== 'POST' || request.url !== '/v1/traces') return response.writeHead(404).end();
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks);
    if (request.headers['content-type'] === 'application/x-protobuf') {
      spans += countProtobufSpans(body, 0, body.length, SPANS_PATH);
      return response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    }
    spans += countJsonSpans(body);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));

// Every span of OTLP/JSON has one "spanId" key (a parent's is "parentSpanId", a link's sits
// in "links", which our spans do not have).
const SPAN_ID_KEY = Buffer.from('"spanId":"');
function countJsonSpans(body) {
  let count = 0;
  for (let at = body.indexOf(SPAN_ID_KEY); at !== -1; at = body.indexOf(SPAN_ID_KEY, at + SPAN_ID_KEY.length)) count += 1;
  return count;
}

// ExportTraceServiceRequest.resource_spans (1) → ResourceSpans.scope_spans (2) → ScopeSpans.spans (2)
const SPANS_PATH = [1, 2, 2];
/** Walks protobuf's wire format down `path`, counting the messages at its end, decoding nothing else. */
function countProtobufSpans(bytes, start, end, path) {
  let count = 0;
  for (let at = start; at < end; ) {
    let tag;
    [tag, at] = readVarint(bytes, at);
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (wireType === 0) [, at] = readVarint(bytes, at);
    else if (wireType === 1) at += 8;
    else if (wireType === 5) at += 4;
    else if (wireType === 2) {
      let length;
      [length, at] = readVarint(bytes, at);
      if (field === path[0]) count += path.length === 1 ? 1 : countProtobufSpans(bytes, at, at + length, path.slice(1));
      at += length;
    } else throw new Error(`unexpected protobuf wire type ${wireType}`);
  }
  return count;
}

function readVarint(bytes, at) {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, at];
  }
}
