import { Option, type Command } from 'commander';
import { ARRIVAL_PROCESSES, type ArrivalProcess } from '../simulate/load/arrivals.js';
import { MAX_CONNECTIONS, MAX_RATE } from '../simulate/load/engine.js';
import { header, httpMethod, positiveNumber, requestPath, slo, timeOption, wholeNumber } from './parse.js';

/** The load options `simulate load` and `chaos … --with-load` share. */
export interface LoadFlags {
  path?: string;
  method?: string;
  header?: Record<string, string>;
  body?: string;
  connections?: number;
  maxConnections?: number;
  arrival?: ArrivalProcess;
  timeout?: number;
  rate?: number;
  /** --rate under its chaos name: there, `rate` is the fault's. */
  loadRate?: number;
  slo?: string[];
  allowRemote?: boolean;
}

/** `rateFlag` renames --rate where the command has a --rate of its own (chaos errors). */
export function addLoadOptions(command: Command, rateFlag = '--rate'): Command {
  return command
    .option('--path <path>', 'request path, e.g. /orders/items', requestPath)
    .option('--method <method>', 'HTTP method', httpMethod, 'GET')
    .option('--header <header>', '"Name: value" (repeatable)', header)
    .option('--body <body>', 'request body')
    .option('-c, --connections <n>', 'concurrent connections (open model: opened before the start)', wholeNumber(1, MAX_CONNECTIONS), 10)
    .addOption(timeOption('--timeout <time>', 'per request, e.g. 2s', '10s'))
    .option(`${rateFlag} <rps>`, 'requests per second (open model: each leaves at its time, latency counts from it)', positiveNumber(MAX_RATE))
    .option('--max-connections <n>', 'open model: the most connections the pool grows to; a request due while all are busy is dropped (default 1000)', wholeNumber(1, MAX_CONNECTIONS))
    .addOption(new Option('--arrival <process>', 'open model: evenly spaced arrivals, or a Poisson process').choices(ARRIVAL_PROCESSES).default('constant'))
    .option('--slo <expression>', 'e.g. "p99<250ms", "error_rate<1%", "rps>1000" (repeatable); a failing one exits 1', slo)
    .option('--allow-remote', 'allow a target outside this machine');
}

/** The shared flags as `simulateLoad` takes them. */
export function loadSettings(flags: LoadFlags) {
  return {
    path: flags.path,
    method: flags.method,
    headers: flags.header,
    body: flags.body,
    connections: flags.connections,
    maxConnections: flags.maxConnections,
    arrival: flags.arrival,
    timeoutMs: flags.timeout,
    rate: flags.rate,
    slos: flags.slo,
    allowRemote: flags.allowRemote,
  };
}
