import { existsSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import { isUserError } from '../../errors.js';
import type { Fault } from '../faults.js';
import type { Supervisor } from './supervisor.js';

/**
 * The supervisor's control API: HTTP on a unix socket that only the project's user can
 * reach. The CLI and the chaos commands talk to the running system through it.
 */
export function serveControl(supervisor: Supervisor, socket: string, onDown: () => void): Promise<http.Server> {
  const routes: Record<string, (body: Record<string, unknown>, service: string) => unknown> = {
    'GET /status': () => supervisor.status(),
    'POST /down': () => {
      setImmediate(onDown);
      return { stopping: true };
    },
    'POST /monitoring': () => supervisor.startMonitoring(),
    'POST /scale': (body, service) => supervisor.scale(service, Number(body.replicas)),
    'POST /restart': (_body, service) => supervisor.restart(service),
    'POST /faults': (body, service) => supervisor.inject(service, body.fault as Fault, Number(body.durationMs), body.from as string | undefined),
    'GET /faults': () => supervisor.faults(),
    'POST /faults/clear': (body) => {
      supervisor.clearFaults(body.id as string | undefined);
      return { cleared: true };
    },
    'POST /pause': (body, service) =>
      supervisor.pause(service, { instance: body.instance as string | undefined, all: body.instance === undefined }, Number(body.durationMs)),
    'POST /signal': (body, service) =>
      supervisor.signal(service, body.signal as NodeJS.Signals, { instance: body.instance as string | undefined, all: body.all === true }),
  };

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://supervisor');
    const route = routes[`${request.method} ${url.pathname}`];
    let status = 200;
    let result: unknown;
    try {
      if (!route) {
        status = 404;
        result = { error: `no route ${request.method} ${url.pathname}` };
      } else {
        const body = request.method === 'POST' ? await readJson(request) : {};
        result = await route(body, url.searchParams.get('service') ?? '');
      }
    } catch (error) {
      status = isUserError(error) ? 400 : 500;
      result = { error: (error as Error).message, details: isUserError(error) ? error.details : [], exitCode: isUserError(error) ? error.exitCode : undefined };
    }
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(result));
  });

  if (existsSync(socket)) unlinkSync(socket);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve(server));
  });
}

async function readJson(request: http.IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of request) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
