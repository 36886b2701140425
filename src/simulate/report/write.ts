import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../atomic-write.js';
import type { Journal } from '../chaos/experiment.js';
import { readResult, type LoadResult } from '../load/result.js';
import { renderExperimentReport, renderLoadReport } from './html.js';

export async function writeLoadReport(file: string, result: LoadResult, options: { baseline?: LoadResult; projectDir?: string } = {}): Promise<void> {
  await writeFileAtomic(file, renderLoadReport(result, options));
}

export async function writeExperimentReport(file: string, journal: Journal, options: { projectDir?: string } = {}): Promise<void> {
  await writeFileAtomic(file, renderExperimentReport(journal, options));
}

/** The report of a saved result: a load's, or an experiment's journal. */
export async function writeSavedReport(input: string, output: string, options: { baseline?: LoadResult; projectDir?: string } = {}): Promise<void> {
  let journal: Partial<Journal> | undefined;
  try {
    journal = JSON.parse(await readFile(input, 'utf8')) as Partial<Journal>;
  } catch {
    // not there or not JSON: readResult below says so in the words the user needs
  }
  if (journal?.kind === 'experiment' && Array.isArray(journal.before) && Array.isArray(journal.method)) {
    return writeExperimentReport(output, journal as Journal, options);
  }
  return writeLoadReport(output, await readResult(input), options);
}
