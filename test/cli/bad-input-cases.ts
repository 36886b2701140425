/**
 * Malformed input for every command and every file the CLI reads, as a table: each case
 * runs in its own copy of the classic project (gateway → users, orders; nothing running)
 * and must end with its exit code, one "error:" line and the project untouched.
 */

/** A folder, a link, or no file at all where a case wants one. */
export const FOLDER = { folder: true } as const;
export const link = (target: string) => ({ link: target });
export type Entry = string | null | typeof FOLDER | { link: string };

export interface BadInput {
  args: string[];
  exit: 2 | 3;
  /** Files to write into the project first (relative paths); null removes one. */
  files?: Record<string, Entry>;
  /** What the one line must say. */
  says?: RegExp;
  /** A case whose message lists several problems: the first few show under it. */
  details?: boolean;
}

const SPEC = 'scaffold.yaml';
const CLASSIC = `name: shop
services:
  users: { port: 3001 }
  orders: { port: 3002, replicas: 2, dependsOn: [users] }
  api-gateway: { pattern: gateway, port: 8080, routes: { /users: users, /orders: orders } }
`;
/** The classic system with a resilience section: its policies, then its targets. */
const withResilience = (policies: string, targets: string) =>
  `${CLASSIC}resilience:\n  policies:\n    ${policies}\n  targets:\n    ${targets}\n`;
const withUsers = (users: string) => CLASSIC.replace('users: { port: 3001 }', `users: ${users}`);

/** A NATS server with one topic, for the event cases. */
const NATS = 'infrastructure:\n  nats:\n    topics:\n      order-created: { ackWait: 2s }\n';
const withTopics = (topics: string) => `${CLASSIC}infrastructure:\n  nats:\n    topics:\n      ${topics}\n`;

/** Names that exist on every JavaScript object. */
const PROTOTYPE_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'prototype', 'isPrototypeOf'];

/** Service names no DNS label can be; some carry a newline or a terminal escape. */
const BAD_NAMES = ['Users', '1users', 'users-', 'a_b', 'a.b', 'a b', 'a\nb', '\u001b[31mred', 'x'.repeat(41), 'postgres', 'kubernetes', '-x'];

const BILLION_LAUGHS = [
  'a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
  ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`),
].join('\n');

/** scaffold.yaml contents that are not a valid system, each with what the line names. */
const BAD_SPECS: [string, RegExp | undefined, boolean?][] = [
  ['', /name/],
  ['null\n', /name/],
  ['[]\n', undefined],
  ['42\n', undefined],
  ['"just a string"\n', undefined],
  ['name: shop\nname: shop\n', /unique|duplicate/i],
  ['name: shop\n\tservices: {}\n', undefined],
  ['name: [unclosed\n', undefined],
  ['name: shop\nservices: *nowhere\n', /nowhere|alias|anchor/i],
  [`${BILLION_LAUGHS}\nname: shop\n`, /alias/i],
  ['name: Shop\n', /name/],
  ['name: shop\nextra: 1\n', /unknown field/],
  ['name: shop\nservices: []\n', undefined],
  ['name: shop\nservices:\n  __proto__: { port: 3001 }\n', /__proto__/],
  ['name: shop\nservices:\n  constructor: { port: 3001, dependsOn: [toString] }\n', /toString/],
  [withUsers('{ port: 3001, dependsOn: [__proto__] }'), /__proto__/, true],
  [withUsers('{ port: 3001, dependsOn: [constructor] }'), /constructor/],
  [withUsers('{ port: 3001, dependsOn: [toString] }'), /toString/],
  [withUsers('{ port: 3001, dependsOn: [users] }'), /itself/],
  [withUsers('{ port: 3001, dependsOn: [orders] }'), /cycle/],
  [withUsers('{ port: 3001, dependsOn: [nobody] }'), /unknown service/],
  [withUsers('{ port: 80 }'), /1024/],
  [withUsers('{ port: 70000 }'), /65535/],
  [withUsers('{ port: "3001" }'), /port/],
  [withUsers('{ port: 3001.5 }'), /whole/],
  [withUsers('{ port: 3002 }'), /already taken/],
  [withUsers('{ port: 3001, replicas: 0 }'), /replica/],
  [withUsers('{ port: 3001, replicas: 51 }'), /50/],
  [withUsers('{ port: 3001, pattern: lambda }'), /pattern/],
  [withUsers('{ port: 3001, routes: { /x: orders } }'), /gateway/],
  [withUsers('{ port: 3001, uses: [postgres] }'), /not declared/],
  [withUsers('{ port: 3001, uses: [mongo] }'), /uses/],
  [withUsers('{ port: 3001, env: { HOST: x } }'), /HOST/],
  [withUsers('{ port: 3001, env: { 1X: x } }'), /environment variable/],
  [withUsers('{ port: 3001, health: { liveness: /h, readiness: /h } }'), /different paths/],
  [withUsers('{ port: 3001, health: { liveness: h, readiness: /r } }'), /path/],
  [withUsers('{ port: 3001, resources: { requests: { cpu: lots, memory: 1Gi }, limits: { cpu: 1, memory: 1Gi } } }'), /CPU/],
  [withUsers('{ port: 3001, restart: sometimes }'), /expected one of/],
  [withUsers('{ port: 3001, balancing: random }'), /expected one of/],
  [withUsers('{ port: 3001, rateLimit: -1 }'), undefined],
  [withUsers('{ port: 3001, colour: blue }'), /unknown field/],
  [CLASSIC.replace('/users: users', '/users: toString'), /toString/],
  [CLASSIC.replace('/users: users', '/users: constructor'), /constructor/],
  [CLASSIC.replace('/users: users', '/../x: users'), /"\."/],
  [CLASSIC.replace('/users: users', '/Users: users'), /route prefix/],
  [CLASSIC.replace('/users: users', '/users/: users'), /route prefix/],
  [CLASSIC.replace('/users: users', 'users: users'), /route prefix/],
  [CLASSIC.replace('/users: users', '/api-gateway: api-gateway'), /itself/],
  [CLASSIC.replace('/users: users, /orders: orders', '/users: users, /users: orders'), /unique|duplicate/i],
  // background jobs: queues on the redis entry, workers, producers
  [withUsers('{ port: 3001, pattern: worker }'), /services\.users\.queue: required/],
  [withUsers('{ port: 3001, pattern: worker, queue: payments }'), /unknown queue "payments"/],
  [withUsers('{ port: 3001, enqueues: [payments] }') + 'infrastructure: { redis: { queues: { mail: {} } } }\n', /unknown queue "payments".*declared: mail/],
  [withUsers('{ port: 3001, enqueues: [__proto__] }') + 'infrastructure: { redis: { queues: { mail: {} } } }\n', /unknown queue "__proto__"/],
  [withUsers('{ port: 3001, queue: mail }') + 'infrastructure: { redis: { queues: { mail: {} } } }\n', /queue belongs to pattern worker/],
  [CLASSIC + 'infrastructure: { postgres: { queues: { payments: {} } } }\n', /queues/],
  [CLASSIC + 'infrastructure: { nats: { queues: { payments: {} } } }\n', /queues/],
  [CLASSIC + 'infrastructure: { redis: { queues: { Pay_ments: {} } } }\n', /queue names use lowercase/],
  [CLASSIC + 'infrastructure: { redis: { queues: { a: {}, b: { deadLetter: a } } } }\n', /queue "a" is declared twice/],
  [CLASSIC + 'infrastructure: { redis: { queues: { a: { attempts: 0 } } } }\n', /attempts|>=1/],
  [CLASSIC + 'infrastructure: { redis: { queues: { a: { stalledIntervalMs: 10 } } } }\n', /stalledIntervalMs|>=1000/],
  [CLASSIC + 'infrastructure: { redis: { queues: { a: { backoff: { type: linear } } } } }\n', /expected one of/],
  // SLOs: each names scaffold.yaml, the line and the field
  [withUsers('{ port: 3001, slo: { p99: fast } }'), /scaffold\.yaml:3\b.*slo\.p99.*duration/],
  [withUsers('{ port: 3001, slo: { p99: 1.5s } }'), /scaffold\.yaml:3\b.*duration/],
  [withUsers('{ port: 3001, slo: { availability: 101% } }'), /scaffold\.yaml:3\b.*percentage/],
  [withUsers('{ port: 3001, slo: { availability: 100% } }'), /percentage above 0 and below 100/],
  [withUsers('{ port: 3001, slo: { availability: 99.9 } }'), /scaffold\.yaml:3\b.*availability/],
  [withUsers('{ port: 3001, slo: { for: 1m } }'), /scaffold\.yaml:3\b.*availability, p99 or both/],
  [withUsers('{ port: 3001, slo: { p99: 250ms, for: 0s } }'), /duration/],
  [withUsers('{ port: 3001, slo: { p99: 250ms, burn: fast } }'), /unknown field/],
  [withUsers('{ port: 3001, slo: { p99: 250ms, for: 2s } }'), /scaffold\.yaml:3\b.*slo\.for.*shorter than the scrape interval \(5s\)/],
  [`${withUsers('{ port: 3001, slo: { p99: 250ms, for: 500ms } }')}monitoring: { scrapeInterval: 1s }\n`, /scaffold\.yaml:3\b.*shorter than the scrape interval \(1s\)/],
  [`${CLASSIC}monitoring: { scrapeInterval: often }\n`, /scaffold\.yaml:6\b.*scrapeInterval.*duration/],
  [`${CLASSIC}monitoring: { scrape: 1s }\n`, /unknown field/],
  [`${withUsers('{ port: 3001, subscribes: [{ topic: order-shipped, group: billing }] }')}${NATS}`, /unknown topic "order-shipped"/],
  [`${withUsers('{ port: 3001, publishes: [order-shipped] }')}${NATS}`, /unknown topic "order-shipped"/],
  [withUsers('{ port: 3001, publishes: [order-created] }'), /NATS server/],
  [withUsers('{ port: 3001, subscribes: [{ topic: order-created }] }'), /NATS server/],
  [`${withUsers('{ port: 3001, publishes: [Order_Created] }')}${NATS}`, /topic name/],
  [`${withUsers('{ port: 3001, publishes: [toString] }')}${NATS}`, /topic name/],
  [`${withUsers('{ port: 3001, subscribes: [order-created] }')}${NATS}`, /expected object/i],
  [`${withUsers('{ port: 3001, subscribes: [{ topic: order-created, group: Billing } ] }')}${NATS}`, /group name/],
  [`${withUsers('{ port: 3001, subscribes: [{ topic: order-created, concurrency: 0 }] }')}${NATS}`, /concurrency/],
  [`${withUsers('{ port: 3001, subscribes: [{ topic: order-created }, { topic: order-created, group: other }] }')}${NATS}`, /twice/],
  [`${withUsers('{ port: 3001, subscribes: [{ topic: order-created, group: billing }] }').replace('dependsOn: [users] }', 'dependsOn: [users], subscribes: [{ topic: order-created, group: billing }] }')}${NATS}`, /already "users"'s/],
  [`${withUsers('{ port: 3001, subscribes: [{ topic: order-created, colour: red }] }')}${NATS}`, /unknown field/],
  [withTopics('order.created: {}'), /topic name/],
  [withTopics('constructor: { ackWait: soon }'), /duration/],
  [withTopics('order-created: { ackWait: 0s }'), /duration from/],
  [withTopics('order-created: { maxDeliver: 0 }'), /maxDeliver/],
  [withTopics('order-created: { dedupeWindow: 2 }'), /duration/],
  [withTopics('order-created: { deadLetter: "order.>" }'), /NATS subject/],
  [withTopics('order-created: {}\n      order-shipped: { deadLetter: order-created }'), /already the subject/],
  [withTopics('order-created: { retries: 3 }'), /unknown field/],
  [`${CLASSIC}infrastructure:\n  redis: { topics: { order-created: {} } }\n`, /unknown field/],
  [withResilience('timeouts: { fast: 300ms }', '"orders -> users": { timeout: slow }'), /unknown timeout policy "slow"/],
  [withResilience('retries: { r: { maxRetries: 2 } }', '"orders -> users": { retry: standard }'), /unknown retry policy "standard"/],
  [withResilience('circuitBreakers: { b: { trip: "consecutiveFailures > 5", openFor: 5s } }', '"orders -> users": { circuitBreaker: b }'), /trip expression/],
  [withResilience('circuitBreakers: { b: { trip: "failureRate >= 50% over soon", openFor: 5s } }', '"orders -> users": { circuitBreaker: b }'), /duration/],
  [withResilience('timeouts: { fast: 300ms }', '"users -> orders": { timeout: fast }'), /not a call of this system/],
  [withResilience('timeouts: { fast: 300ms }', '"orders -> nobody": { timeout: fast }'), /not a call of this system/],
  [withResilience('timeouts: { fast: 300ms }', '"orders => users": { timeout: fast }'), /caller -> callee/],
  [withResilience('timeouts: { fast: 0ms }', '"orders -> users": { timeout: fast }'), /more than zero/],
  [withResilience('timeouts: { fast: -300ms }', '"orders -> users": { timeout: fast }'), /more than zero/],
  [withResilience('circuitBreakers: { b: { trip: "consecutiveFailures >= 5", openFor: 0s } }', '"orders -> users": { circuitBreaker: b }'), /more than zero/],
  [withResilience('retries: { r: { maxRetries: 2, budget: 150% } }', '"orders -> users": { retry: r }'), /share/],
  [withResilience('retries: { r: { maxRetries: 2, retryOn: [404] } }', '"orders -> users": { retry: r }'), /5xx/],
  [withResilience('bulkheads: { b: { maxConcurrent: 0 } }', '"orders -> users": { bulkhead: b }'), undefined],
  [withResilience('timeouts: { toString: 300ms }', '"orders -> users": { timeout: constructor }'), /constructor/],
  [`name: shop\nservices:\n${Array.from({ length: 300 }, (_, i) => `  s${i}: { port: 80 }`).join('\n')}\n`, /and \d+ more problems/, true],
];

/** Result files `report` reads. */
export const LOAD_RESULT = {
  kind: 'load',
  target: 'http://127.0.0.1:8080/',
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1000,
  config: {},
  summary: { requests: 10, ok: 10, errors: 0, rps: 10, latency: { p50: 1, p90: 1, p95: 1, p99: 1, p999: 1, max: 1, mean: 1 }, statusCodes: { 200: 10 }, errorsByKind: {} },
  series: [{ second: 0, requests: 10, errors: 0, p50: 1, p99: 1 }],
  distribution: [],
  slos: [],
  passed: true,
};
const BAD_RESULTS: [string, string][] = [
  ['null', 'null'],
  ['array', '[]'],
  ['number', '42'],
  ['not JSON', '{ kind: load'],
  ['empty', ''],
  ['empty object', '{}'],
  ['empty summary', JSON.stringify({ ...LOAD_RESULT, summary: {} })],
  ['NaN-ish duration', JSON.stringify({ ...LOAD_RESULT, durationMs: 'soon' })],
  ['negative rps', JSON.stringify({ ...LOAD_RESULT, summary: { ...LOAD_RESULT.summary, rps: -5 } })],
  ['string latency', JSON.stringify({ ...LOAD_RESULT, summary: { ...LOAD_RESULT.summary, latency: { ...LOAD_RESULT.summary.latency, p99: 'fast' } } })],
  ['series not a list', JSON.stringify({ ...LOAD_RESULT, series: {} })],
  ['bad date', JSON.stringify({ ...LOAD_RESULT, startedAt: 'yesterday' })],
  ['unknown kind', JSON.stringify({ ...LOAD_RESULT, kind: 'benchmark' })],
  ['junk journal', JSON.stringify({ kind: 'experiment', before: [], method: [] })],
  ['journal with a junk step', JSON.stringify({ kind: 'experiment', title: 't', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1, status: 'held', before: [], after: [], method: [{ activity: { type: 'fault' }, atMs: 0, outcome: 'x' }], rollbacks: [] })],
  ['journal with a null probe', JSON.stringify({ kind: 'experiment', title: 't', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1, status: 'held', before: [null], after: null, method: [], rollbacks: [] })],
];

const HYPOTHESIS = 'steady-state-hypothesis:\n  title: t\n  probes:\n    - { name: p, type: http, service: users }\n';
const METHOD = 'method:\n  - { type: wait, for: 1s }\n';
const BAD_EXPERIMENTS: [string, string, RegExp | undefined][] = [
  ['empty', '', /title/],
  ['no method', `title: t\n${HYPOTHESIS}`, /method/],
  ['unknown fault', `title: t\n${HYPOTHESIS}method:\n  - { type: fault, service: users, fault: { kind: gremlins }, for: 1s }\n`, /fault\.kind/],
  ['bad duration', `title: t\n${HYPOTHESIS}method:\n  - { type: wait, for: forever }\n`, /duration/],
  ['alias to nowhere', `title: *t\n${HYPOTHESIS}${METHOD}`, /alias|anchor/i],
  ['alias bomb', `${BILLION_LAUGHS}\ntitle: t\n${HYPOTHESIS}${METHOD}`, /alias/i],
  ['remote http probe', `title: t\nsteady-state-hypothesis:\n  title: t\n  probes:\n    - { name: p, type: http, url: "http://192.0.2.1:8080" }\n${METHOD}`, /not on this machine/],
  ['remote load probe', `title: t\nsteady-state-hypothesis:\n  title: t\n  probes:\n    - { name: p, type: load, url: "http://example.com", slos: ["p99<1s"] }\n${METHOD}`, /not on this machine/],
  ['remote background load', `title: t\n${HYPOTHESIS}${METHOD}load: { url: "http://10.0.0.1:80" }\n`, /not on this machine/],
  ['a probe path that leaves the host', `title: t\nsteady-state-hypothesis:\n  title: t\n  probes:\n    - { name: p, type: http, service: users, path: "//example.com/x" }\n${METHOD}`, /not on this machine/],
  ['a probe path without "/"', `title: t\nsteady-state-hypothesis:\n  title: t\n  probes:\n    - { name: p, type: http, service: users, path: "health" }\n${METHOD}`, /path/],
  ['a non-http url', `title: t\nsteady-state-hypothesis:\n  title: t\n  probes:\n    - { name: p, type: http, url: "ftp://127.0.0.1" }\n${METHOD}`, /http/],
  ['a bad background method', `title: t\n${HYPOTHESIS}${METHOD}load: { service: users, method: "BAD METHOD" }\n`, /method/],
  ['an error rate over 100%', `title: t\n${HYPOTHESIS}${METHOD}load: { service: users, slos: ["error_rate<200%"] }\n`, /100%/],
  ['a prototype key', `title: t\n${HYPOTHESIS}${METHOD}__proto__: { x: 1 }\n`, /__proto__/],
];

const BAD_SCENARIOS: [string, string, RegExp | undefined][] = [
  ['empty', '', /requests/],
  ['no requests', 'requests: []\n', /at least one/],
  ['no slash', 'requests:\n  - { path: orders }\n', /path/],
  ['bad method', 'requests:\n  - { path: /x, method: FETCH }\n', /expected one of/],
  ['zero weight', 'requests:\n  - { path: /x, weight: 0 }\n', /weight/],
  ['alias bomb', `${BILLION_LAUGHS}\nrequests:\n  - { path: /x }\n`, /alias/i],
  ['alias to nowhere', 'requests: *r\n', /alias|anchor/i],
  ['not YAML', 'requests: [\n', undefined],
];

const URL_OK = 'http://127.0.0.1:9/';

function specCases(): BadInput[] {
  return BAD_SPECS.flatMap(([text, says, details]) =>
    [['validate'], ['generate'], ['generate', '--dry-run'], ['new-service', 'extra', '--yes']].map((args) => ({ args, exit: 2 as const, files: { [SPEC]: text }, says, details: details ?? true })),
  );
}

function nameCases(): BadInput[] {
  return [
    ...PROTOTYPE_NAMES.flatMap((name): BadInput[] => [
      { args: ['new-service', 'extra', '--yes', '--depends-on', name], exit: 2, says: /unknown service|not a valid/ },
      { args: ['new-service', 'gw', '--yes', '--pattern', 'gateway', '--port', '8081', '--routes', `/x=${name}`], exit: 2, says: /unknown service|not a valid/ },
      { args: ['schema', name], exit: 2, says: /no schema/ },
      { args: ['help', name], exit: 2, says: /no command/ },
      { args: ['chaos', 'latency', name, '--ms', '5', '--with-load'], exit: 2, says: /no service/ },
      { args: ['chaos', 'latency', 'users', '--ms', '5', '--with-load', '--from', name], exit: 2, says: /no service/ },
    ]),
    ...BAD_NAMES.flatMap((name): BadInput[] => [
      { args: ['new-service', name, '--yes'], exit: 2, says: /service name|reserved|too long|unknown option/ },
      { args: ['new-service', 'extra', '--yes', '--depends-on', name], exit: 2 },
      ...(['postgres', 'kubernetes'].includes(name) ? [] : [{ args: ['init', 'fresh', '--yes', '--name', name], exit: 2 as const }]),
    ]),
    { args: ['new-service', 'users', '--yes'], exit: 2, says: /already exists/ },
    { args: ['new-service', 'extra', '--yes', '--port', '3001'], exit: 2, says: /already taken/ },
    { args: ['new-service', 'extra', '--yes', '--routes', '/x=users'], exit: 2, says: /gateway/ },
    // said of the flag: a file:line would be in a scaffold.yaml never written
    { args: ['new-service', 'w', '--yes', '--pattern', 'worker'], exit: 2, says: /^error: --queue <queue> is required for pattern worker\n/ },
    { args: ['new-service', 'w', '--yes', '--pattern', 'worker', '--queue', 'jobs'], exit: 2, says: /^error: --queue jobs: unknown queue "jobs": declare it under a Redis entry's queues/ },
  ];
}

function flagCases(): BadInput[] {
  const anywhere = ['init', 'new-service', 'generate', 'validate', 'schema', 'up', 'down', 'status', 'logs', 'scale', 'restart', 'simulate load', 'chaos kill-service', 'chaos pause', 'chaos latency', 'chaos errors', 'chaos partition', 'chaos reset', 'chaos run', 'chaos scenarios', 'chaos scenario', 'chaos list', 'chaos clear', 'report', 'demo', 'traces'];
  return [
    ...anywhere.map((command): BadInput => ({ args: [...command.split(' '), '--no-such-flag'], exit: 2, says: /unknown option|missing required|not specified/ })),
    { args: ['bogus'], exit: 2, says: /unknown command/ },
    { args: ['new-servic'], exit: 2, says: /Did you mean new-service\?/ },
    { args: ['chaos', 'latencyy', 'users'], exit: 2, says: /Did you mean latency\?/ },
    { args: ['help', 'bogus'], exit: 2 },
    { args: ['help', 'chaos', 'bogus'], exit: 2 },
    { args: ['init'], exit: 2, says: /missing required argument/ },
    { args: ['new-service'], exit: 2, says: /missing required argument/ },
    { args: ['scale', 'users'], exit: 2, says: /missing required argument/ },
    { args: ['scale', 'users', 'many'], exit: 2, says: /whole number/ },
    { args: ['scale', 'users', '51'], exit: 2, says: /whole number/ },
    { args: ['new-service', 'extra', '--yes', '--port', '80'], exit: 2 },
    { args: ['new-service', 'extra', '--yes', '--port', '70000'], exit: 2 },
    { args: ['new-service', 'extra', '--yes', '--port', '3e3'], exit: 2 },
    { args: ['new-service', 'extra', '--yes', '--replicas', '0'], exit: 2 },
    { args: ['new-service', 'extra', '--yes', '--pattern', 'lambda'], exit: 2, says: /Allowed choices/ },
    { args: ['new-service', 'gw', '--yes', '--pattern', 'gateway', '--port', '8081', '--routes', '/users=users,/users=orders'], exit: 2, says: /routed twice/ },
    { args: ['new-service', 'gw', '--yes', '--pattern', 'gateway', '--port', '8081', '--routes', '/users=users', '--routes', '/users=orders'], exit: 2, says: /routed twice/ },
    { args: ['new-service', 'gw', '--yes', '--pattern', 'gateway', '--port', '8081', '--routes', '/../x=users'], exit: 2, says: /"\."/ },
    { args: ['new-service', 'gw', '--yes', '--pattern', 'gateway', '--port', '8081', '--routes', '/./x=users'], exit: 2, says: /"\."/ },
    { args: ['new-service', 'gw', '--yes', '--pattern', 'gateway', '--port', '8081', '--routes', 'users=users'], exit: 2, says: /not a route/ },
    { args: ['new-service', 'gw', '--yes', '--pattern', 'gateway', '--port', '8081', '--routes', '/Users=users'], exit: 2, says: /route prefix/ },
    { args: ['up', '--runtime', 'nomad'], exit: 2, says: /Allowed choices/ },
    { args: ['up', '--base-image', 'node:20'], exit: 2, says: /--runtime compose/ },
    { args: ['report'], exit: 2, says: /name a result/ },
    { args: ['report', '--compare', 'a.json'], exit: 2, says: /exactly two/ },
    { args: ['schema', 'everything'], exit: 2, says: /no schema/ },
    ...[
      ['--method', 'BAD METHOD'],
      ['--method', ''],
      ['--method', 'FETCH'],
      ['--path', 'no-slash'],
      ['--path', '//example.com/x'],
      ['--path', ''],
      ['--slo', 'error_rate<200%'],
      ['--slo', 'p99<'],
      ['--slo', 'p99<5'],
      ['--slo', 'rps>5%'],
      ['--slo', 'error_rate<1'],
      ['--slo', 'latency<1s'],
      ['--duration', 'forever'],
      ['--duration', '0'],
      ['--duration', '2h'],
      ['-c', '0'],
      ['-c', 'ten'],
      ['--timeout', 'soon'],
      ['--rate', '0'],
      ['--rate', '-5'],
      ['--header', 'no colon'],
      ['--stages', '10:100'],
      ['--amount', '0'],
      ['--scenario', 'missing.yaml'],
      ['--scenario', '.scaffold'],
      ['--baseline', 'missing.json'],
      ['--service', 'users'],
    ].map((flags): BadInput => ({ args: ['simulate', 'load', URL_OK, ...flags], exit: 2 })),
    { args: ['simulate', 'load', 'not a url'], exit: 2, says: /not a URL/ },
    { args: ['simulate', 'load', 'ftp://127.0.0.1/'], exit: 2, says: /http/ },
    { args: ['simulate', 'load', 'http://example.com/'], exit: 2, says: /not on this machine/ },
    { args: ['simulate', 'load', 'http://192.168.1.1:8080/'], exit: 2, says: /not on this machine/ },
    { args: ['simulate', 'load', 'http://[fe80::1]:8080/'], exit: 2, says: /not on this machine/ },
    ...[
      ['--slo', 'p99<'],
      ['--slo', 'error_rate<200%'],
      ['--target', 'not a url'],
      ['--target', 'ftp://127.0.0.1/'],
      ['--target', 'http://example.com/'],
      ['--path', 'no-slash'],
      ['--path', '//example.com'],
      ['--method', 'BAD METHOD'],
      ['--load-rate', '0'],
      ['--before', 'never'],
    ].flatMap((flags): BadInput[] => [
      { args: ['chaos', 'latency', 'users', '--ms', '5', '--with-load', ...flags], exit: 2 },
      { args: ['chaos', 'kill-service', 'users', '--with-load', ...flags], exit: 2 },
    ]),
    ...[
      ['latency', 'users', '--ms', '-1'],
      ['latency', 'users'],
      ['latency', 'users', '--ms', '5', '--for', '0'],
      ['latency', 'users', '--ms', '5', '--for', 'ever'],
      ['errors', 'users', '--rate', '3'],
      ['errors', 'users', '--rate', '0.5', '--status', '200'],
      ['partition', 'users', '--mode', 'sideways'],
      ['reset', 'users', '--rate', 'half'],
      ['pause', 'users', '--for', 'a while'],
    ].map((args): BadInput => ({ args: ['chaos', ...args], exit: 2 })),
  ];
}

function fileCases(): BadInput[] {
  return [
    { args: ['validate'], exit: 2, files: { [SPEC]: null }, says: /no scaffold\.yaml/ },
    { args: ['validate'], exit: 2, files: { [SPEC]: FOLDER }, says: /is a folder/ },
    { args: ['generate'], exit: 2, files: { [SPEC]: link('services') }, says: /is a folder/ },
    { args: ['new-service', 'extra', '--yes'], exit: 2, files: { [SPEC]: link('nowhere') }, says: /no scaffold\.yaml/ },
    { args: ['--cwd', 'compose.yaml', 'validate'], exit: 2, says: /not a folder/ },
    { args: ['--cwd', 'compose.yaml', 'generate'], exit: 2, says: /not a folder/ },
    { args: ['--cwd', 'missing', 'validate'], exit: 2, says: /no scaffold\.yaml/ },
    { args: ['init', 'compose.yaml', '--yes'], exit: 2, says: /is a file/ },
    { args: ['init', 'compose.yaml/inner', '--yes'], exit: 2, says: /file where a folder/ },
    { args: ['init', '.', '--yes'], exit: 2, says: /already exists/ },
    { args: ['traces', '--since', '5m', '--until', '10m'], exit: 2, says: /^error: --until \S+ is not after --since \S+: no trace could match/ },
    // said of the name and where it came from, not of a line in a scaffold.yaml never written
    { args: ['init', 'Fresh Shop', '--yes'], exit: 2, says: /^error: "Fresh Shop" is not a valid project name \(the folder's name: pass --name <name>\): project names use/ },
    { args: ['init', 'fresh', '--yes', '--name', 'Shop'], exit: 2, says: /^error: "Shop" is not a valid project name \(--name\): project names use/ },
    { args: ['generate'], exit: 2, files: { 'compose.yaml': FOLDER }, says: /is a folder/ },
    { args: ['generate'], exit: 2, files: { 'services/users/Dockerfile': FOLDER }, says: /is a folder/ },
    { args: ['generate'], exit: 2, files: { 'deploy/k8s': 'a file where a folder was' }, says: /file where scaffold needs a folder/ },
    { args: ['new-service', 'extra', '--yes'], exit: 2, files: { services: 'a file' }, says: /file where scaffold needs a folder/ },
    { args: ['generate'], exit: 2, files: { '.scaffold/templates/compose/compose.yaml.hbs': FOLDER }, says: /is a folder/ },
    { args: ['generate'], exit: 2, files: { '.scaffold/templates/compose/compose.yaml.hbs': '{{nosuch}}\n' }, says: /"nosuch" not defined - / },
    { args: ['generate'], exit: 2, files: { '.scaffold/templates/compose/compose.yaml.hbs': '{{#each}}\n' }, says: /cannot render/ },
    { args: ['generate'], exit: 2, files: { '.scaffold/templates/compose/compose.yaml.hbs': '{{> nope}}\n' }, says: /partial/ },
    { args: ['generate'], exit: 2, files: { '.scaffold/templates/compose/compose.yaml.hbs': 'a: [\n' }, says: /invalid YAML/ },
    ...['{', '', 'null', '[]', '"process"', '{"runtime":"nomad"}', '{"runtime":null}'].flatMap((text) =>
      [['status'], ['chaos', 'list'], ['logs', 'users'], ['simulate', 'load', URL_OK], ['chaos', 'latency', 'users', '--ms', '5']].map(
        (args): BadInput => ({ args, exit: 2, files: { '.scaffold/runtime.json': text }, says: /runtime\.json is damaged/ }),
      ),
    ),
    { args: ['status'], exit: 2, files: { '.scaffold/runtime.json': FOLDER } },
    ...BAD_RESULTS.flatMap(([, text]): BadInput[] => [
      { args: ['report', 'r.json'], exit: 2, files: { 'r.json': text }, details: true },
      { args: ['report', '--compare', 'r.json', 'good.json'], exit: 2, files: { 'r.json': text, 'good.json': JSON.stringify(LOAD_RESULT) }, details: true },
      { args: ['report', 'good.json', '--baseline', 'r.json'], exit: 2, files: { 'r.json': text, 'good.json': JSON.stringify(LOAD_RESULT) }, details: true },
    ]),
    { args: ['logs'], exit: 2, says: /name a service/ },
    { args: ['logs', '--trace', 'a'.repeat(32), '--request', 'r1'], exit: 2, says: /not both/ },
    { args: ['logs', 'users', '--request', 'r1', '-f'], exit: 2, says: /leave out -f/ },
    { args: ['traces', 'not-a-trace'], exit: 2, says: /not a trace id/ },
    { args: ['traces', 'a'.repeat(32)], exit: 2, files: { '.scaffold/run/traces/spans.jsonl': '' }, says: /no trace a{32}/ },
    { args: ['traces', '--since', 'yesterday'], exit: 2, says: /duration ago/ },
    { args: ['traces', '--until', '5 minutes'], exit: 2, says: /duration ago/ },
    { args: ['traces', '--limit', '0'], exit: 2, says: /whole number/ },
    { args: ['report', 'missing.json'], exit: 2, says: /no such file/ },
    { args: ['report', 'services'], exit: 2, says: /is a folder/ },
    { args: ['report', 'good.json', '-o', 'services'], exit: 2, files: { 'good.json': JSON.stringify(LOAD_RESULT) }, says: /is a folder/ },
    { args: ['report', 'good.json', '-o', 'compose.yaml/out.html'], exit: 2, files: { 'good.json': JSON.stringify(LOAD_RESULT) }, says: /file where a folder/ },
    { args: ['simulate', 'load', URL_OK, '--baseline', 'r.json'], exit: 2, files: { 'r.json': 'null' } },
    ...BAD_EXPERIMENTS.map(([, text, says]): BadInput => ({ args: ['chaos', 'run', 'x.yaml'], exit: 2, files: { 'x.yaml': text }, says, details: true })),
    { args: ['chaos', 'run', 'missing.yaml'], exit: 2, says: /no such file/ },
    { args: ['chaos', 'run', 'services'], exit: 2, says: /is a folder/ },
    ...BAD_SCENARIOS.map(([, text, says]): BadInput => ({ args: ['simulate', 'load', URL_OK, '--scenario', 's.yaml'], exit: 2, files: { 's.yaml': text }, says, details: true })),
  ];
}

/** With nothing running, every command that acts on a running system: the environment's lack. */
function notRunningCases(): BadInput[] {
  return [
    ['status'],
    ['logs', 'users'],
    ['logs', '--trace', 'a'.repeat(32)],
    ['traces'],
    ['scale', 'users', '2'],
    ['restart', 'users'],
    ['chaos', 'list'],
    ['chaos', 'clear'],
    ['chaos', 'kill-service', 'users'],
    ['chaos', 'pause', 'users', '--for', '1s'],
    ['chaos', 'latency', 'users', '--ms', '5', '--for', '1s'],
    ['chaos', 'errors', 'users', '--rate', '0.5', '--for', '1s'],
    ['chaos', 'partition', 'users', '--for', '1s'],
    ['chaos', 'reset', 'users', '--rate', '0.5', '--for', '1s'],
    ['chaos', 'latency', 'users', '--ms', '5', '--for', '1s', '--with-load'],
    ['chaos', 'run', 'x.yaml'],
    ['simulate', 'load', '-d', '1s'],
    ['simulate', 'load', '--service', 'users', '-d', '1s'],
  ].map((args) => ({ args, exit: 3, files: { 'x.yaml': `title: t\n${HYPOTHESIS}${METHOD}` }, says: /nothing is running|cannot run/ }));
}

export function badInputs(): BadInput[] {
  return [...specCases(), ...nameCases(), ...flagCases(), ...fileCases(), ...notRunningCases()];
}
