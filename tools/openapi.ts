/**
 * `npm run openapi` writes openapi.json, the HTTP contract the dashboard team reviews;
 * `npm run openapi -- --check` (CI) fails when the committed file differs from the code;
 * `--file PATH` writes or checks another file.
 * Built from the controllers' metadata in Nest's preview mode: no database, nothing listens.
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AppModule } from '../src/app.module';
import { buildOpenApiDocument } from '../src/bootstrap';
import { loadConfig } from '../src/config/app-config';

/** Run from the sources (`npm run openapi` uses ts-node): the repository root is one level up. */
export const OPENAPI_FILE = resolve(__dirname, '..', 'openapi.json');

/** Object keys sorted at every level (arrays keep their order): a stable, reviewable diff. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

export async function generateOpenApiJson(): Promise<string> {
  const config = loadConfig({
    CREDENTIALS_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
    PGLITE_DATA_DIR: 'memory://',
    LOG_LEVEL: 'silent',
  });
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.register(config, 'postgres://openapi@127.0.0.1:9/none'),
    { preview: true, logger: false },
  );
  try {
    app.setGlobalPrefix('api');
    return JSON.stringify(sortKeys(buildOpenApiDocument(app)), null, 2) + '\n';
  } finally {
    await app.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { check: { type: 'boolean' }, file: { type: 'string' } },
    strict: true,
  });
  const generated = await generateOpenApiJson();
  const file = values.file ? resolve(values.file) : OPENAPI_FILE;
  if (values.check) {
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {
      committed = '';
    }
    if (committed === generated) {
      process.stdout.write(`${file} is up to date\n`);
      return 0;
    }
    process.stderr.write(
      `${file} differs from the API the code defines: run \`npm run openapi\` and commit openapi.json\n`,
    );
    return 1;
  }
  writeFileSync(file, generated);
  process.stdout.write(`wrote ${file}\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`openapi: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
