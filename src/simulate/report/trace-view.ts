import { LOAD_NODE, type RunTraces } from '../load/run-traces.js';

const NODE_WIDTH = 150;
const NODE_HEIGHT = 34;
const COLUMN = 230;
const ROW = 64;
const MARGIN = 20;

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const percent = (value: number) => Math.round(value * 10_000) / 100;

/**
 * What the report draws of a run's traces, laid out here so the template only fills values
 * in: per phase its slowest traces as waterfalls (bars placed in % of the trace's time), and
 * the service map as SVG boxes, left to right in call order, with a line per caller→callee.
 */
export function traceView(traces: RunTraces | undefined) {
  if (!traces) return undefined;
  return {
    phases: traces.phases.map((phase) => ({
      name: phase.name,
      traces: phase.slowest.map((trace) => {
        const total = Math.max(trace.durationMs, 0.001);
        return {
          traceId: trace.traceId,
          requestId: trace.requestId,
          duration: ms(trace.durationMs),
          rows: trace.rows.map((row) => ({
            indent: row.depth * 14,
            label: `${row.service} ${row.name}${row.kind === 'client' ? ' →' : ''}`,
            left: percent(Math.min(row.offsetMs / total, 0.995)),
            width: Math.max(0.5, percent(Math.min(row.durationMs / total, 1 - row.offsetMs / total))),
            duration: ms(row.durationMs),
            failed: row.failed,
          })),
        };
      }),
    })),
    map: serviceMap(traces),
  };
}

function serviceMap({ services, calls }: RunTraces) {
  // columns: how many calls away from the load each service is (breadth first)
  const column = new Map<string, number>([[LOAD_NODE, 0]]);
  const queue = [LOAD_NODE];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    for (const call of calls) {
      if (call.from !== name || column.has(call.to)) continue;
      column.set(call.to, column.get(name)! + 1);
      queue.push(call.to);
    }
  }
  const rowsUsed = new Map<number, number>();
  const nodes = services.map((name) => {
    const x = MARGIN + (column.get(name) ?? 1) * COLUMN;
    const row = rowsUsed.get(x) ?? 0;
    rowsUsed.set(x, row + 1);
    return { name, x, y: MARGIN + row * ROW, textX: x + NODE_WIDTH / 2, textY: MARGIN + row * ROW + NODE_HEIGHT / 2 + 5, load: name === LOAD_NODE };
  });
  const at = new Map(nodes.map((node) => [node.name, node]));
  const edges = calls.flatMap((call) => {
    const from = at.get(call.from);
    const to = at.get(call.to);
    // a saved result edited by hand may name a service the map does not have
    if (from === undefined || to === undefined) return [];
    const x1 = from.x + NODE_WIDTH;
    const y1 = from.y + NODE_HEIGHT / 2;
    const x2 = to.x;
    const y2 = to.y + NODE_HEIGHT / 2;
    return [{ from: call.from, to: call.to, calls: call.calls, errors: call.errors, x1, y1, x2, y2, labelX: (x1 + x2) / 2, labelY: (y1 + y2) / 2 - 6 }];
  });
  return {
    width: Math.max(...nodes.map((node) => node.x)) + NODE_WIDTH + MARGIN,
    height: Math.max(...nodes.map((node) => node.y)) + NODE_HEIGHT + MARGIN,
    nodeWidth: NODE_WIDTH,
    nodeHeight: NODE_HEIGHT,
    nodes,
    edges,
  };
}
