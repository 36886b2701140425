import { writeFileAtomic } from '../../atomic-write.js';
import type { LoadResult } from '../load/result.js';
import { renderLoadReport } from './html.js';

export async function writeLoadReport(file: string, result: LoadResult, options: { baseline?: LoadResult; projectDir?: string } = {}): Promise<void> {
  await writeFileAtomic(file, renderLoadReport(result, options));
}
