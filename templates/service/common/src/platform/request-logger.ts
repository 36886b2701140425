import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

/** Fastify's hook for making each request's logger (its type is not exported by name). */
type ChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>;

/** The level of a line written with RequestLogger.write. */
type LineLevel = 'info' | 'error';

/** pino's log methods, called with what the caller gave. */
type Log = (...args: unknown[]) => void;

/**
 * Each request's logger (`request.log`, `reply.log`), made only when something logs
 * through it. Fastify's default makes a pino child per request, bound to its id (and at
 * the route's level when the route has one), whether or not a line is ever written: a
 * probe, a scrape, or any request of a service running at LOG_LEVEL=warn paid ~1 µs for
 * it, the largest share of what this platform adds to an unlogged request (BENCHMARKS.md,
 * "The log destination and the request's logger"). This one keeps the route's logger and
 * the id, and makes the pino child the first time a line is logged, a level set or a child
 * asked for: the lines are the ones the default writes.
 */
export class RequestLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly route: FastifyBaseLogger,
    readonly reqId: string,
  ) {}

  private get logger(): FastifyBaseLogger {
    return (this.#child ??= this.route.child({ reqId: this.reqId }));
  }

  get level(): string {
    return (this.#child ?? this.route).level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  // methods on the prototype, not arrow fields: nothing is allocated per request beyond
  // the object itself
  fatal(...args: unknown[]): void {
    (this.logger.fatal as Log)(...args);
  }
  error(...args: unknown[]): void {
    (this.logger.error as Log)(...args);
  }
  warn(...args: unknown[]): void {
    (this.logger.warn as Log)(...args);
  }
  info(...args: unknown[]): void {
    (this.logger.info as Log)(...args);
  }
  debug(...args: unknown[]): void {
    (this.logger.debug as Log)(...args);
  }
  trace(...args: unknown[]): void {
    (this.logger.trace as Log)(...args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }

  /**
   * One line carrying the request's id, as the request's own logger writes it, without
   * making that logger when nothing else has: the access line, once per request. `fields`
   * holds a `reqId` key (undefined), set here when the id is not already bound.
   */
  write(level: LineLevel, fields: { reqId: string | undefined }, message: string): void {
    if (this.#child !== undefined) return this.#child[level](fields, message);
    fields.reqId = this.reqId;
    this.route[level](fields, message);
  }
}

/**
 * Fastify's childLoggerFactory: a RequestLogger per request, over one pino child per route
 * level made once (a level change rebuilds every log method of a pino logger). A route
 * with serializers of its own gets pino's child, as by default.
 */
export function requestLoggers(): ChildLoggerFactory {
  const atLevel = new Map<string, FastifyBaseLogger>();
  const routeAt = (level: string, logger: FastifyBaseLogger) => {
    let route = atLevel.get(level);
    if (route === undefined) atLevel.set(level, (route = logger.child({}, { level })));
    return route;
  };
  return function childLogger(logger, bindings, options) {
    if (options.serializers !== undefined) return logger.child(bindings, options);
    return new RequestLogger(options.level === undefined ? logger : routeAt(options.level, logger), String(bindings.reqId));
  };
}
