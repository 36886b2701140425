import Fastify, { type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RequestLogger, requestLoggers } from '../src/platform/request-logger.js';

// pino's own child logger, bound to the request id as Fastify's default makes it, is the
// oracle: every line the lazy logger writes must be the line that child writes.

function captured(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level, name: 'svc', base: { pid: 1, hostname: 'h' }, timestamp: false }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('the request logger', () => {
  it('writes the lines pino’s child bound to the request id writes', () => {
    const ours = captured();
    const theirs = captured();
    const lazy = new RequestLogger(ours.logger, 'r-1');
    const child = theirs.logger.child({ reqId: 'r-1' });
    for (const log of [lazy, child]) {
      log.info('plain');
      log.warn({ order: 7 }, 'with fields %s', 'and an argument');
      log.error(new Error('boom'));
      log.debug('below the level');
      log.child({ step: 'payment' }).info('from a child');
    }
    expect(ours.lines).toEqual(theirs.lines);
    expect(ours.lines).toHaveLength(4);
  });

  it('writes the access line with the request id, made through its child or not', () => {
    const ours = captured();
    const theirs = captured();
    new RequestLogger(ours.logger, 'r-2').write('info', { reqId: undefined, statusCode: 200 } as { reqId: string | undefined }, 'request completed');
    const used = new RequestLogger(ours.logger, 'r-3');
    used.info('handler line');
    used.write('error', { reqId: undefined, statusCode: 500 } as { reqId: string | undefined }, 'request errored');
    theirs.logger.child({ reqId: 'r-2' }).info({ statusCode: 200 }, 'request completed');
    const child = theirs.logger.child({ reqId: 'r-3' });
    child.info('handler line');
    child.error({ statusCode: 500 }, 'request errored');
    expect(ours.lines).toEqual(theirs.lines);
  });

  it('makes no pino child for a request that logs nothing but its access line', () => {
    const { logger, lines } = captured();
    let children = 0;
    const route: FastifyBaseLogger = Object.create(logger);
    route.child = (bindings, options) => {
      children += 1;
      return logger.child(bindings, options);
    };
    const quiet = new RequestLogger(route, 'r-6');
    expect(quiet.level).toBe('info');
    quiet.write('info', { reqId: undefined } as { reqId: string | undefined }, 'request completed');
    expect(children).toBe(0);
    new RequestLogger(route, 'r-7').info('a line of its own');
    expect(children).toBe(1);
    expect(lines.map((line) => line.reqId)).toEqual(['r-6', 'r-7']);
  });

  it('reads the route’s level, and a level set on it stays with the request', () => {
    const { logger, lines } = captured();
    const lazy = new RequestLogger(logger, 'r-4');
    expect(lazy.level).toBe('info');
    lazy.level = 'debug';
    lazy.debug('now written');
    expect(lazy.level).toBe('debug');
    expect(logger.level).toBe('info');
    expect(new RequestLogger(logger, 'r-5').level).toBe('info');
    expect(lines.map((line) => line.msg)).toEqual(['now written']);
  });

  it('gives each route its level in a Fastify app, and every request its id', async () => {
    const lines: Record<string, unknown>[] = [];
    const app = Fastify({
      logger: { level: 'info', stream: { write: (line: string) => void lines.push(JSON.parse(line)) } },
      childLoggerFactory: requestLoggers(),
      disableRequestLogging: true,
    });
    app.get('/quiet', { logLevel: 'warn' }, async (request) => {
      request.log.info('not written');
      request.log.warn('written');
      return { level: request.log.level };
    });
    app.get('/loud', async (request) => {
      request.log.info('written too');
      return { level: request.log.level };
    });
    const quiet = await app.inject('/quiet');
    const loud = await app.inject('/loud');
    expect(quiet.json()).toEqual({ level: 'warn' });
    expect(loud.json()).toEqual({ level: 'info' });
    expect(lines.map((line) => [line.msg, line.reqId])).toEqual([
      ['written', 'req-1'],
      ['written too', 'req-2'],
    ]);
    await app.close();
  });
});
