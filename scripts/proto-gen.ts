/**
 * Generates the TypeScript types of proto/ into services/grpc/generated (committed).
 * Run after changing a .proto: `npm run proto:gen`. The output is deterministic, so a test
 * regenerates it into a scratch folder and fails when the committed copy is stale.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { protoFiles, protoLoaderOptions, protoRoot } from '../services/grpc/proto.ts';

export function generateProtoTypes(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  const bin = fileURLToPath(new URL('../node_modules/.bin/proto-loader-gen-types', import.meta.url));
  execFileSync(
    bin,
    [
      '--grpcLib=@grpc/grpc-js',
      `--outDir=${outDir}`,
      // Relative paths from the proto root, so the generated headers do not depend on where the clone is.
      '--includeDirs=.',
      '--importFileExtension=.ts',
      ...(protoLoaderOptions.keepCase ? ['--keepCase'] : []),
      `--longs=${protoLoaderOptions.longs.name}`,
      `--enums=${protoLoaderOptions.enums.name}`,
      ...(protoLoaderOptions.defaults ? ['--defaults'] : []),
      ...(protoLoaderOptions.oneofs ? ['--oneofs'] : []),
      ...protoFiles,
    ],
    { stdio: 'inherit', cwd: protoRoot },
  );
}

if (import.meta.main) {
  generateProtoTypes(fileURLToPath(new URL('../services/grpc/generated', import.meta.url)));
}
