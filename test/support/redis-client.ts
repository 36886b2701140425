import net from 'node:net';

/**
 * A minimal Redis client of the test's own, independent of the code under test: one
 * connection, commands sent inline, each round trip timed from the write to the reply's
 * first line.
 */
export class RedisConnection {
  readonly #socket: net.Socket;
  #buffer = '';
  #waiting: ((line: string) => void) | undefined;
  #failed: Error | undefined;
  #onFail: ((error: Error) => void) | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      this.#buffer += data;
      const end = this.#buffer.indexOf('\r\n');
      if (end < 0 || !this.#waiting) return;
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2); // a bulk reply's body, if any
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting(line);
    });
    const fail = (error: Error) => {
      this.#failed ??= error;
      this.#onFail?.(this.#failed);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static open(url: string): Promise<RedisConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: hostname, port: Number(port), noDelay: true }, () => resolve(new RedisConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** The reply's first line (e.g. "+PONG", or "$1234" before a bulk reply). */
  command(text: string): Promise<string> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#onFail = reject;
      this.#waiting = resolve;
      this.#socket.write(`${text}\r\n`);
    });
  }

  /** Milliseconds of one PING round trip. */
  async ping(): Promise<number> {
    const started = performance.now();
    const reply = await this.command('PING');
    if (reply !== '+PONG') throw new Error(`PING answered ${reply}`);
    return performance.now() - started;
  }

  /** The median of `count` PING round trips, one after another. */
  async medianPing(count = 5): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < count; i += 1) times.push(await this.ping());
    return times.sort((a, b) => a - b)[Math.floor(count / 2)]!;
  }

  /** The pid of the redis-server answering (INFO server's process_id). */
  async serverPid(): Promise<number> {
    const head = await this.command('INFO server');
    const length = Number(head.slice(1));
    while (Buffer.byteLength(this.#buffer) < length + 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const body = this.#buffer;
    this.#buffer = '';
    return Number(/process_id:(\d+)/.exec(body)![1]);
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** A PING on a new connection: its reply, or the error that ended it. */
export async function pingOnce(url: string): Promise<string> {
  try {
    const connection = await RedisConnection.open(url);
    try {
      await connection.ping();
      return '+PONG';
    } finally {
      connection.close();
    }
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
}
