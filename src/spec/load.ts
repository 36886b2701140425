import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Document, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../errors.js';
import { specSchema, type Spec } from './schema.js';

export const SPEC_FILE = 'scaffold.yaml';

/** A parsed and validated spec, with the YAML document kept so edits preserve comments. */
export interface LoadedSpec {
  spec: Spec;
  document: Document;
  file: string;
}

export async function loadSpec(projectDir: string): Promise<LoadedSpec> {
  const file = path.join(projectDir, SPEC_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserError(
        `no ${SPEC_FILE} in ${projectDir}: run "scaffold init <dir>" first, or pass --cwd <project dir>`,
      );
    }
    throw error;
  }
  return parseSpec(text, file);
}

/** Parses and validates; every problem names file:line:column and the field. */
export function parseSpec(text: string, file: string): LoadedSpec {
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

  const result = specSchema.safeParse(document.toJS() ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const offset = locate(document, issue.path) ?? 0;
      const field = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return `${where(offset)}: ${field}${describeIssue(issue)}`;
    });
    throw invalid(problems);
  }
  return { spec: result.data, document, file };
}

function invalid(problems: string[]): UserError {
  const [first, ...rest] = problems;
  const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  return new UserError(`${first}${more}`, rest);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: check the spelling (scaffold schema lists every field)`;
  }
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return `required: add it (expected ${issue.expected})`;
  }
  return issue.message;
}

/** The offset of the deepest node of `issuePath` that exists, so a missing field points at
 * its parent and a bad map key points at the key. */
function locate(document: Document, issuePath: PropertyKey[]): number | undefined {
  let node: unknown = document.contents;
  let offset = (node as Node | null)?.range?.[0];
  for (const segment of issuePath) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === segment);
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
      if ((node as Node | null)?.range) offset = (node as Node).range![0];
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if ((node as Node | null)?.range) offset = (node as Node).range![0];
    } else {
      break;
    }
  }
  return offset;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative || file;
}
