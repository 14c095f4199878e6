import { afterAll, beforeAll } from 'vitest';
import { type Pipeline, type PipelineOptions, startPipeline } from '../../src/harness/index.js';

/**
 * Starts a pipeline before the tests of the enclosing file or `describe`
 * (beforeAll) and closes it after them (afterAll). Returns an accessor for the
 * running pipeline, valid from the first test on. Vitest runs afterAll hooks
 * in reverse order, so hooks registered after this one run before the close.
 */
export function usePipeline(options?: PipelineOptions): () => Pipeline {
  let pipeline: Pipeline | undefined;
  beforeAll(async () => {
    pipeline = await startPipeline(options);
  });
  afterAll(async () => {
    await pipeline?.close();
  });
  return () => {
    if (!pipeline)
      throw new Error('usePipeline: the pipeline is not running (use it inside a test)');
    return pipeline;
  };
}
