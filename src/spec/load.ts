import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Document } from 'yaml';
import { UserError } from '../errors.js';
import { specSchema, type Spec } from './schema.js';
import { parseYamlFile } from './yaml-file.js';

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
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UserError(
        `no ${SPEC_FILE} in ${projectDir}: run "scaffold init <dir>" first, or pass --cwd <project dir>`,
      );
    }
    if (code === 'ENOTDIR') throw new UserError(`${projectDir} is not a folder: pass --cwd <project dir>`);
    if (code === 'EISDIR') throw new UserError(`${file} is a folder: scaffold.yaml is a file`);
    throw error;
  }
  return parseSpec(text, file);
}

/** Parses and validates; every problem names file:line:column and the field. */
export function parseSpec(text: string, file: string): LoadedSpec {
  const { value, document } = parseYamlFile(text, file, specSchema());
  return { spec: value, document, file };
}
