/**
 * Reads HTTP/1.1 answers off a connection that carries one request at a time, for the open
 * model's client: only what it needs — the status, where the answer ends (RFC 9112 §6.3:
 * HEAD/1xx/204/304, chunked, Content-Length, or the connection's close) and whether the
 * connection may be reused (Connection, Keep-Alive's timeout, HTTP/1.0).
 *
 * Why by hand, not http-parser-js or llhttp: the load generator shares the machine with the
 * server it measures, so its CPU per request caps the rate it can hold. http-parser-js turns
 * every header line into strings (a regular expression per line) and cost 4–6 µs per
 * answer, a fifth of the client's whole CPU per request; node:http's llhttp costs more
 * (an object per request and response). Here the head is scanned as bytes in place, and
 * strings are made only of the four framing headers' values.
 */

/** What the reader reports when an answer has ended. */
export interface ReadAnswer {
  status: number;
  /** The server will close (or the framing needs it closed) after this answer. */
  closes: boolean;
  /** The server's Keep-Alive timeout, if it announced one (ms). */
  keepAliveMs: number | undefined;
}

export class ProtocolError extends Error {
  readonly code = 'HPE_INVALID_RESPONSE';
}

const IDLE = 0;
const HEAD = 1;
const SIZED = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_DATA_END = 5;
const TRAILERS = 6;
const UNTIL_CLOSE = 7;
/** #readHead's answer when the head's end has not arrived yet. */
const INCOMPLETE = -1;

/** A head (or a chunk's size line) longer than this is not an answer worth reading. */
const MAX_HEAD_BYTES = 64 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding', 'latin1');
const CONNECTION = Buffer.from('connection', 'latin1');
const KEEP_ALIVE = Buffer.from('keep-alive', 'latin1');
const CLOSE = Buffer.from('close', 'latin1');
const TIMEOUT = Buffer.from('timeout=', 'latin1');
const HTTP_1 = Buffer.from('HTTP/1.', 'latin1');

export class ResponseReader {
  #state = IDLE;
  /** The request was a HEAD: its answer has no body, whatever its headers say. */
  #head = false;
  /** Bytes of an unfinished head or line, kept until the rest arrives. */
  #pending: Buffer | undefined;
  /** Body bytes left (Content-Length), or bytes left in the current chunk. */
  #remaining = 0;
  /** Answers completed so far: `read` notices one ended mid-chunk. */
  #answers = 0;
  readonly #answer: ReadAnswer = { status: 0, closes: false, keepAliveMs: undefined };
  readonly #ended: (answer: ReadAnswer) => void;

  constructor(ended: (answer: ReadAnswer) => void) {
    this.#ended = ended;
  }

  /** A request was sent: what arrives next is its answer. */
  expect(head: boolean): void {
    this.#head = head;
    this.#state = HEAD;
    this.#pending = undefined;
    this.#answer.status = 0;
  }

  /** The status read so far (0 before the status line). */
  get status(): number {
    return this.#answer.status;
  }

  /** Reads bytes from the connection; an error means it is out of step and must be closed. */
  read(chunk: Buffer): ProtocolError | undefined {
    if (this.#pending) {
      chunk = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    let at = 0;
    const answers = this.#answers;
    while (at < chunk.length) {
      switch (this.#state) {
        case HEAD: {
          const next = this.#readHead(chunk, at);
          if (next === INCOMPLETE) return this.#keep(chunk, at);
          if (typeof next !== 'number') return next;
          at = next;
          break;
        }
        case SIZED: {
          const take = Math.min(this.#remaining, chunk.length - at);
          this.#remaining -= take;
          at += take;
          if (this.#remaining === 0) this.#complete();
          break;
        }
        case CHUNK_SIZE: {
          const lf = chunk.indexOf(LF, at);
          if (lf < 0) return this.#keep(chunk, at);
          const size = chunkSize(chunk.toString('latin1', at, lf));
          if (size < 0) return new ProtocolError('a chunk size that is not hexadecimal');
          at = lf + 1;
          if (size === 0) this.#state = TRAILERS;
          else {
            this.#remaining = size;
            this.#state = CHUNK_DATA;
          }
          break;
        }
        case CHUNK_DATA: {
          const take = Math.min(this.#remaining, chunk.length - at);
          this.#remaining -= take;
          at += take;
          if (this.#remaining === 0) this.#state = CHUNK_DATA_END;
          break;
        }
        case CHUNK_DATA_END:
        case TRAILERS: {
          const lf = chunk.indexOf(LF, at);
          if (lf < 0) return this.#keep(chunk, at);
          const empty = lf === at || (lf === at + 1 && chunk[at] === CR);
          at = lf + 1;
          if (this.#state === CHUNK_DATA_END) {
            if (!empty) return new ProtocolError('a chunk longer than its size');
            this.#state = CHUNK_SIZE;
          } else if (empty) this.#complete();
          // else a trailer field: skipped
          break;
        }
        case UNTIL_CLOSE:
          return undefined;
        default:
          // one request at a time: bytes past its answer belong to nothing sent
          return new ProtocolError('bytes past the end of the answer');
      }
      // (the answer's callback may already have sent the next request on this connection)
      if (this.#answers !== answers && at < chunk.length) return new ProtocolError('bytes past the end of the answer');
    }
    return undefined;
  }

  /** The connection ended: an answer framed by the close is complete; any other is cut short. */
  end(): boolean {
    if (this.#state !== UNTIL_CLOSE) return this.#state === IDLE;
    this.#complete();
    return true;
  }

  #keep(chunk: Buffer, at: number): ProtocolError | undefined {
    if (chunk.length - at > MAX_HEAD_BYTES) return new ProtocolError(`a head or line longer than ${MAX_HEAD_BYTES} bytes`);
    // a copy: the chunk may be the connections' shared read buffer, which the next read overwrites
    this.#pending = Buffer.from(chunk.subarray(at));
    return undefined;
  }

  #complete(): void {
    this.#state = IDLE;
    this.#answers += 1;
    this.#ended(this.#answer);
  }

  /**
   * Reads the head that starts at `start`: the index after its blank line, INCOMPLETE, or an
   * error. One pass over the bytes in JS: at a few hundred bytes that is cheaper than the
   * native calls (indexOf per line) it would take to skip them.
   */
  #readHead(chunk: Buffer, start: number): number | ProtocolError {
    const limit = chunk.length;
    if (limit - start < 12) return INCOMPLETE;
    if (chunk.compare(HTTP_1, 0, HTTP_1.length, start, start + HTTP_1.length) !== 0 || chunk[start + 8] !== 0x20) {
      return new ProtocolError('an answer that does not start with an HTTP/1 status line');
    }
    const hundreds = chunk[start + 9]!;
    const tens = chunk[start + 10]!;
    const units = chunk[start + 11]!;
    if (!isDigit(hundreds) || !isDigit(tens) || !isDigit(units) || hundreds === 0x30) return new ProtocolError('a status that is not three digits');
    const status = (hundreds - 0x30) * 100 + (tens - 0x30) * 10 + (units - 0x30);
    // HTTP/1.0 closes unless it says otherwise
    let closes = chunk[start + 7] === 0x30;
    let length = -1;
    let chunked = false;
    let transferEncoding = false;
    let keepAliveMs: number | undefined;
    let i = start + 12;
    while (i < limit && chunk[i] !== LF) i += 1;
    i += 1;
    for (;;) {
      if (i >= limit) return INCOMPLETE;
      // the blank line that ends the head
      if (chunk[i] === LF) {
        i += 1;
        break;
      }
      if (chunk[i] === CR) {
        if (i + 1 >= limit) return INCOMPLETE;
        if (chunk[i + 1] === LF) {
          i += 2;
          break;
        }
      }
      const line = i;
      let colon = -1;
      while (i < limit && chunk[i] !== LF) {
        if (colon < 0 && chunk[i] === COLON) colon = i;
        i += 1;
      }
      if (i >= limit) return INCOMPLETE;
      const valueEnd = chunk[i - 1] === CR ? i - 1 : i;
      i += 1;
      if (colon <= line) continue;
      const nameLength = colon - line;
      // only the framing headers are read, and only their unusual values become strings
      if (nameIs(chunk, line, nameLength, CONTENT_LENGTH)) {
        const value = digitsOf(chunk, colon + 1, valueEnd);
        if (value < 0 || (length >= 0 && value !== length)) return new ProtocolError(`a Content-Length of "${valueOf(chunk, colon, valueEnd)}"`);
        length = value;
      } else if (nameIs(chunk, line, nameLength, TRANSFER_ENCODING)) {
        transferEncoding = true;
        chunked = /(?:^|,)\s*chunked$/i.test(valueOf(chunk, colon, valueEnd));
      } else if (nameIs(chunk, line, nameLength, CONNECTION)) {
        const [from, to] = trimmed(chunk, colon + 1, valueEnd);
        if (nameIs(chunk, from, to - from, KEEP_ALIVE)) closes = false;
        else if (nameIs(chunk, from, to - from, CLOSE)) closes = true;
        else {
          const value = valueOf(chunk, colon, valueEnd);
          if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) closes = true;
          else if (/(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(value)) closes = false;
        }
      } else if (nameIs(chunk, line, nameLength, KEEP_ALIVE)) {
        const [from, to] = trimmed(chunk, colon + 1, valueEnd);
        // Node's own "timeout=5" read without a string; anything else by a regular expression
        const seconds = nameIs(chunk, from, TIMEOUT.length, TIMEOUT) ? digitsOf(chunk, from + TIMEOUT.length, to) : -1;
        if (seconds >= 0) keepAliveMs = seconds * 1000;
        else {
          const found = /timeout=(\d+)/i.exec(valueOf(chunk, colon, valueEnd))?.[1];
          if (found !== undefined) keepAliveMs = Number(found) * 1000;
        }
      }
    }
    if (status < 200 && status !== 101) {
      // an interim answer (100 Continue): the real one follows
      this.#state = HEAD;
      return i;
    }
    const answer = this.#answer;
    answer.status = status;
    if (keepAliveMs !== undefined) answer.keepAliveMs = keepAliveMs;
    if (this.#head || status === 204 || status === 304 || status === 101) {
      answer.closes = closes || status === 101;
      this.#complete();
    } else if (transferEncoding) {
      // a Transfer-Encoding overrides Content-Length, and a connection that had both is
      // not trusted again (RFC 9112 §6.3); one not ending in chunked runs until the close
      answer.closes = closes || length >= 0 || !chunked;
      this.#state = chunked ? CHUNK_SIZE : UNTIL_CLOSE;
    } else if (length >= 0) {
      answer.closes = closes;
      this.#remaining = length;
      if (length === 0) this.#complete();
      else this.#state = SIZED;
    } else {
      answer.closes = true;
      this.#state = UNTIL_CLOSE;
    }
    return i;
  }
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** Whether the header name at [start, start + length) is `lower`, in any case. */
function nameIs(chunk: Buffer, start: number, length: number, lower: Buffer): boolean {
  if (length !== lower.length) return false;
  for (let i = 0; i < length; i += 1) {
    const expected = lower[i]!;
    const byte = chunk[start + i]!;
    if ((expected >= 0x61 ? byte | 0x20 : byte) !== expected) return false;
  }
  return true;
}

/** [from, to) without the optional whitespace around a header value. */
function trimmed(chunk: Buffer, from: number, to: number): [number, number] {
  while (from < to && (chunk[from] === 0x20 || chunk[from] === 0x09)) from += 1;
  while (to > from && (chunk[to - 1] === 0x20 || chunk[to - 1] === 0x09)) to -= 1;
  return [from, to];
}

/** The decimal number at [from, to) (whitespace around it allowed), or −1. */
function digitsOf(chunk: Buffer, from: number, to: number): number {
  [from, to] = trimmed(chunk, from, to);
  if (from === to || to - from > 15) return -1;
  let value = 0;
  for (let i = from; i < to; i += 1) {
    const byte = chunk[i]!;
    if (!isDigit(byte)) return -1;
    value = value * 10 + (byte - 0x30);
  }
  return value;
}

function valueOf(chunk: Buffer, colon: number, lineEnd: number): string {
  return chunk.toString('latin1', colon + 1, lineEnd).trim();
}

/** A chunk-size line's size (extensions after ';' ignored), or −1. */
function chunkSize(line: string): number {
  const digits = line.split(';', 1)[0]!.trim();
  return /^[0-9a-f]{1,12}$/i.test(digits) ? Number.parseInt(digits, 16) : -1;
}
