/**
 * Bundles the workflow code ahead of time, as Temporal recommends for production: the image's build
 * runs this, and the worker loads the bundle (WORKFLOW_BUNDLE_PATH) instead of bundling at every start,
 * so the runtime image needs no bundler (webpack, swc) and a worker starts in a second.
 * Usage: node scripts/bundle-workflows.ts [output path, default dist/workflow-bundle.js]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type Logger } from '@temporalio/worker';
import { workflowTracingInterceptors } from '../services/tracing/temporal.ts';

export async function bundleWorkflows(outputPath: string, logger?: Logger): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    workflowInterceptorModules: [workflowTracingInterceptors],
    ...(logger ? { logger } : {}),
  });
  mkdirSync(path.dirname(outputPath), { recursive: true });
  writeFileSync(outputPath, code);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const output = path.resolve(process.argv[2] ?? fileURLToPath(new URL('../dist/workflow-bundle.js', import.meta.url)));
  await bundleWorkflows(output);
  process.stdout.write(`workflow bundle written to ${output}\n`);
}
