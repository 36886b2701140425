import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One instance's lines, in the order it wrote them. */
export interface InstanceLines {
  id: string;
  lines: string[];
}

/** The `time` of a JSON log line (pino's epoch ms), or undefined for any other line. */
function timeOf(line: string): number | undefined {
  if (!line.startsWith('{')) return undefined;
  const match = /"time":(\d+)/.exec(line);
  return match ? Number(match[1]) : undefined;
}

/**
 * Several instances' lines as one stream ordered by time, each prefixed by its instance. A
 * line without a time (a stack trace, a plain print) keeps its place after the line before
 * it in its own file; lines of the same millisecond keep their file's order.
 */
export function mergeByTime(instances: readonly InstanceLines[]): string[] {
  const tagged: { time: number; instance: number; index: number; text: string }[] = [];
  instances.forEach(({ id, lines }, instance) => {
    let time = 0;
    lines.forEach((line, index) => {
      time = timeOf(line) ?? time;
      tagged.push({ time, instance, index, text: `${id} | ${line}` });
    });
  });
  tagged.sort((a, b) => a.time - b.time || a.instance - b.instance || a.index - b.index);
  return tagged.map((entry) => entry.text);
}

export interface LogSearch {
  /** Lines whose trace_id is this. */
  trace?: string;
  /** Lines whose reqId (the x-request-id) is this. */
  request?: string;
  /** Only this service's instances. */
  service?: string;
}

/** Whether a log line belongs to the trace or request searched for. */
export function searchedFor(search: LogSearch): (line: string) => boolean {
  const wanted = search.trace ?? search.request ?? '';
  const field = search.trace !== undefined ? 'trace_id' : 'reqId';
  // the id as a plain substring first: parsing every line of every file would be slow
  return (line) => line.includes(wanted) && matches(line, field, wanted);
}

/**
 * Every line of one trace or request, from every instance that ever wrote a log in this
 * run folder — instances since replaced or crashed included — merged by time.
 */
export function searchLogs(logsDir: string, search: LogSearch): string[] {
  const wanted = searchedFor(search);
  const instances: InstanceLines[] = [];
  for (const name of readdirSync(logsDir).sort()) {
    const id = name.replace(/\.log$/, '');
    if (!name.endsWith('.log') || (search.service !== undefined && !isInstanceOf(id, search.service))) continue;
    const lines = readFileSync(path.join(logsDir, name), 'utf8').split('\n').filter(wanted);
    if (lines.length > 0) instances.push({ id, lines });
  }
  return mergeByTime(instances);
}

/** `orders-3` is an instance of orders (the name is data: no pattern is built from it). */
function isInstanceOf(id: string, service: string): boolean {
  return id.startsWith(`${service}-`) && /^\d+$/.test(id.slice(service.length + 1));
}

function matches(line: string, field: string, wanted: string): boolean {
  try {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    return Object.hasOwn(parsed, field) && parsed[field] === wanted;
  } catch {
    return false;
  }
}
