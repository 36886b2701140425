import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Document, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Node } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../errors.js';

/** Reads a YAML file of a given kind (`what` names it in the message when it is missing). */
export async function readYamlFile<T>(file: string, schema: z.ZodType<T>, what: string): Promise<T> {
  return parseYamlFile(await readTextFile(file, what), file, schema).value;
}

/** A file the user names, read whole; when it cannot be, one line says why. */
export async function readTextFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${file}: no such file (the ${what} to read)`);
    if (code === 'EISDIR') throw new UserError(`${file} is a folder: name the ${what} file`);
    if (code === 'ENOTDIR') throw new UserError(`${file}: a part of this path is a file, not a folder`);
    throw error;
  }
}

/** Aliases a document may expand, all told: a few hundred serve any real file, and the
 * limit stops an alias bomb ("billion laughs") before it takes the memory. */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses YAML and validates it with a zod schema; every problem names file:line:column and
 * the field, and says how to fix it where it can. Throws one UserError for all of them.
 */
export function parseYamlFile<T>(text: string, file: string, schema: z.ZodType<T>): { value: T; document: Document } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const where = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${displayPath(file)}:${line}:${col}`;
  };

  if (document.errors.length > 0) {
    const problems = document.errors.map((error) => `${where(error.pos[0])}: ${firstLine(error.message)}`);
    throw invalid(problems);
  }

  // the schema library drops a "__proto__" key without a word: refuse it where it stands
  const prototypeKeys: string[] = [];
  visit(document, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === '__proto__') prototypeKeys.push(`${where(pair.key.range?.[0] ?? 0)}: "__proto__" cannot be a key`);
    },
  });
  if (prototypeKeys.length > 0) throw invalid(prototypeKeys);

  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // the parser reports aliases to a missing anchor, and expansions past the limit, only here
    throw invalid([`${where(0)}: ${firstLine((error as Error).message)}`]);
  }
  const result = schema.safeParse(data ?? {}, { error: defaultMessage });
  if (!result.success) {
    const fields = result.error.issues.map((issue) => {
      const { offset, found } = locate(document, issue.path, issue.code === 'invalid_key');
      // a union's missing discriminator (an entry's `kind`) says what it may be
      const problem = found ? describeIssue(issue) : issue.code === 'invalid_union' ? `required: ${issue.message}` : 'required: add it';
      return { path: issue.path, problem, at: where(offset) };
    });
    const problems = fields.map(({ path, problem, at }) => `${at}: ${path.length > 0 ? `${path.join('.')}: ` : ''}${problem}`);
    throw Object.assign(invalid(problems), { fields });
  }
  return { value: result.data, document };
}

/** A schema's problems with a YAML file, each also by the path of its field: a caller that
 * put the field there from a flag can name the flag instead of a line. */
export type FieldProblems = UserError & { fields: { path: readonly PropertyKey[]; problem: string }[] };

export function hasFieldProblems(error: unknown): error is FieldProblems {
  return error instanceof UserError && Array.isArray((error as Partial<FieldProblems>).fields);
}

function invalid(problems: string[]): UserError {
  const [first, ...rest] = problems;
  const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  return new UserError(`${first}${more}`, rest);
}

/** "unknown field "prot": check the spelling" */
export function unknownFields(keys: string[]): string {
  return `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}: check the spelling`;
}

/** Messages for issues whose schema says nothing of its own (a schema's `error` wins:
 * the spec's service schema names the pattern a stray field belongs to). */
function defaultMessage(issue: z.core.$ZodRawIssue): string | undefined {
  return issue.code === 'unrecognized_keys' ? unknownFields(issue.keys) : undefined;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key') return issue.issues.map((inner) => inner.message).join('; ');
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return issue.message;
}

/**
 * Where in the text `issuePath` points: the deepest node that exists (so a missing field
 * points at its parent, `found` false), or the key itself when the key is the problem.
 */
function locate(document: Document, issuePath: PropertyKey[], atKey: boolean): { offset: number; found: boolean } {
  let node: unknown = document.contents;
  let offset = (node as Node | null)?.range?.[0] ?? 0;
  for (const [index, segment] of issuePath.entries()) {
    const last = index === issuePath.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === segment);
      if (!pair) return { offset, found: false };
      offset = (pair.key as Node).range?.[0] ?? offset;
      if (last && atKey) return { offset, found: true };
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
      node = node.items[segment];
    } else {
      return { offset, found: false };
    }
    offset = (node as Node | null)?.range?.[0] ?? offset;
  }
  return { offset, found: true };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative || file;
}
