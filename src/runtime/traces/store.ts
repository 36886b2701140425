import { createWriteStream, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { StoredSpan } from './span.js';

/** The file being written, and the one before it: at most twice this many bytes are kept. */
const CURRENT = 'spans.jsonl';
const PREVIOUS = 'spans.1.jsonl';
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Spans as JSON lines, bounded: when the file passes `maxBytes` it becomes the previous one
 * (dropping the one before), so the newest spans are always kept and the disk use is at most
 * twice `maxBytes`.
 */
export class SpanStore {
  readonly #dir: string;
  readonly #maxBytes: number;
  #stream: WriteStream;
  #bytes: number;

  constructor(dir: string, maxBytes = MAX_FILE_BYTES) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, CURRENT);
    this.#bytes = existsSync(file) ? statSync(file).size : 0;
    this.#stream = appending(file);
  }

  append(spans: readonly StoredSpan[]): void {
    if (spans.length === 0) return;
    const text = spans.map((span) => JSON.stringify(span)).join('\n') + '\n';
    if (this.#bytes > 0 && this.#bytes + text.length > this.#maxBytes) this.#rotate();
    this.#stream.write(text);
    this.#bytes += Buffer.byteLength(text);
  }

  #rotate(): void {
    this.#stream.end();
    renameSync(path.join(this.#dir, CURRENT), path.join(this.#dir, PREVIOUS));
    this.#stream = appending(path.join(this.#dir, CURRENT));
    this.#bytes = 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#stream.end(resolve));
  }
}

/** Opened at once (not on the next tick), so a rotation can rename it right away; writes
 * still pending then land in the renamed file, through the same descriptor. */
function appending(file: string): WriteStream {
  return createWriteStream(file, { fd: openSync(file, 'a') });
}

/** Every stored span, oldest file first; a line cut short by a crash is skipped. */
export function readSpans(dir: string): StoredSpan[] {
  const spans: StoredSpan[] = [];
  for (const name of [PREVIOUS, CURRENT]) {
    let text: string;
    try {
      text = readFileSync(path.join(dir, name), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        spans.push(JSON.parse(line) as StoredSpan);
      } catch {
        // a partial last line
      }
    }
  }
  return spans;
}
