/**
 * `npm run openapi` writes openapi.json, the HTTP contract the dashboard team reviews and
 * generates its client from, and openapi.webhooks.json, Twilio's webhooks;
 * `npm run openapi -- --check` (CI) fails when either committed file differs from the code;
 * `--file PATH` writes or checks another dashboard file (the webhooks' beside it, PATH with
 * `.json` → `.webhooks.json`).
 * Built from the controllers' metadata in Nest's preview mode: no database, nothing listens.
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AppModule } from '../src/app.module';
import { buildOpenApiDocuments } from '../src/openapi/openapi-documents';
import { loadConfig } from '../src/config/app-config';

/** Run from the sources (`npm run openapi` uses ts-node): the repository root is one level up. */
export const OPENAPI_FILE = resolve(__dirname, '..', 'openapi.json');

/** Where the webhooks' document goes beside a dashboard document. */
export const webhooksFileFor = (file: string): string =>
  file.replace(/\.json$/, '') + '.webhooks.json';

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

const render = (document: unknown): string => JSON.stringify(sortKeys(document), null, 2) + '\n';

export async function generateOpenApiJson(): Promise<{ dashboard: string; webhooks: string }> {
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
    const documents = buildOpenApiDocuments(app, config.publicBaseUrl);
    return { dashboard: render(documents.dashboard), webhooks: render(documents.webhooks) };
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
  const files: [string, string][] = [
    [file, generated.dashboard],
    [webhooksFileFor(file), generated.webhooks],
  ];
  if (values.check) {
    let stale = 0;
    for (const [path, text] of files) {
      let committed = '';
      try {
        committed = readFileSync(path, 'utf8');
      } catch {
        committed = '';
      }
      if (committed === text) {
        process.stdout.write(`${path} is up to date\n`);
        continue;
      }
      stale += 1;
      process.stderr.write(
        `${path} differs from the API the code defines: run \`npm run openapi\` and commit it\n`,
      );
    }
    return stale ? 1 : 0;
  }
  for (const [path, text] of files) {
    writeFileSync(path, text);
    process.stdout.write(`wrote ${path}\n`);
  }
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
