/**
 * Operator commands. Each prints one JSON line on stdout (errors: one line on stderr, exit 1).
 *
 *   org:create --name NAME --plan free|starter|pro|enterprise   → {"organizationId","apiKey"}
 *   key:create --org ORGANIZATION_ID                            → {"keyId","apiKey"}
 *   key:revoke --key KEY_ID_OR_KEY                              → {"revoked":true}
 *   credentials:reencrypt                                       → {"reencrypted":N,"total":N}
 *   migration:run                                               → {"applied":[...]}
 *
 * With the embedded database, a running API's server is reused (PGlite allows one process per
 * data directory); otherwise the CLI opens the directory itself.
 */
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { parseArgs } from 'node:util';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source-options';
import { openDatabase, runMigrations } from './database/database-runtime';
import { DomainError } from './common/errors/domain-error';
import { CryptoModule } from './modules/crypto/crypto.module';
import { ApiKeysService } from './modules/organizations/api-keys.service';
import { OrganizationsModule } from './modules/organizations/organizations.module';
import { CredentialRotationService } from './modules/crypto/credential-rotation.service';

function cliModule(config: AppConfig, url: string) {
  @Module({
    imports: [
      ConfigModule.forConfig(config, url),
      TypeOrmModule.forRoot({ ...dataSourceOptions(url), extra: { max: 2 } }),
      OrganizationsModule,
      CryptoModule,
    ],
  })
  class CliModule {}
  return CliModule;
}

type Handler = (
  context: INestApplicationContext,
  values: Record<string, string | undefined>,
) => Promise<unknown>;

const required = (values: Record<string, string | undefined>, name: string): string => {
  const value = values[name];
  if (!value) throw new DomainError('VALIDATION_FAILED', `--${name} is required`);
  return value;
};

const COMMANDS: Record<string, Handler> = {
  'org:create': (context, values) =>
    context
      .get(ApiKeysService)
      .createOrganization(required(values, 'name'), required(values, 'plan')),
  'key:create': (context, values) => context.get(ApiKeysService).createKey(required(values, 'org')),
  'key:revoke': async (context, values) => {
    const revoked = await context.get(ApiKeysService).revoke(required(values, 'key'));
    if (!revoked) throw new DomainError('NOT_FOUND', 'No active key matches --key');
    return { revoked };
  },
  'credentials:reencrypt': (context) => context.get(CredentialRotationService).reencryptAll(),
};

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      plan: { type: 'string' },
      org: { type: 'string' },
      key: { type: 'string' },
    },
    strict: true,
  });
  if (command !== 'migration:run' && !(command in COMMANDS)) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `Unknown command "${command ?? ''}". Commands: ${[...Object.keys(COMMANDS), 'migration:run'].join(', ')}`,
    );
  }
  const config = loadConfig();
  const database = await openDatabase(config, { reuseRunningEmbedded: true });
  try {
    const applied = await runMigrations(database.url);
    if (command === 'migration:run') {
      process.stdout.write(JSON.stringify({ applied }) + '\n');
      return;
    }
    const context = await NestFactory.createApplicationContext(cliModule(config, database.url), {
      logger: false,
    });
    try {
      const result = await COMMANDS[command](context, values);
      process.stdout.write(JSON.stringify(result) + '\n');
    } finally {
      await context.close();
    }
  } finally {
    await database.stop();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const message =
      error instanceof DomainError ||
      error instanceof ConfigError ||
      (error instanceof Error && error.name === 'TypeError')
        ? error.message
        : `Command failed: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`${message}\n`);
    process.exit(1);
  },
);
