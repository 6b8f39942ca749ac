/**
 * Operator commands, compiled with the app (`node dist/src/cli.js …`, or `npm run cli -- …`), so
 * a production install runs them without any dev dependency. Each prints one JSON line on stdout;
 * an error prints one line on stderr and exits 1. `--help` for the list, `<command> --help` for one.
 *
 * With the embedded database, a running API's server is reused (PGlite allows one process per
 * data directory); otherwise the CLI opens the directory itself. An in-memory embedded database
 * belongs to one process, so the CLI refuses it rather than print a key no server will know.
 */
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Command } from 'commander';
import { DomainError } from './common/errors/domain-error';
import { Errors } from './common/errors/errors';
import { isDatabaseUnavailable } from './common/errors/http-exception.filter';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source-options';
import { openDatabase, runMigrations } from './database/database-runtime';
import { isInMemoryDataDir } from './database/embedded-postgres';
import { CredentialRotationService } from './modules/crypto/credential-rotation.service';
import { CryptoModule } from './modules/crypto/crypto.module';
import { ApiKeysService } from './modules/organizations/api-keys.service';
import { PLANS } from './modules/organizations/organization.entity';
import { OrganizationsModule } from './modules/organizations/organizations.module';

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

type Task = (context: INestApplicationContext) => Promise<unknown>;

/** Opens the database the running server uses, migrates it, runs `task` and prints its result. */
async function run(task: Task | 'migrations-only'): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl && isInMemoryDataDir(config.pgliteDataDir)) {
    throw new ConfigError(
      'PGLITE_DATA_DIR',
      `is ${config.pgliteDataDir}, an in-memory database only the process holding it can see: what the CLI wrote there would not exist for the running server. Set DATABASE_URL, or PGLITE_DATA_DIR to the server's data folder`,
    );
  }
  const database = await openDatabase(config, { reuseRunningEmbedded: true });
  try {
    const applied = await runMigrations(database.url);
    if (task === 'migrations-only') {
      process.stdout.write(JSON.stringify({ applied }) + '\n');
      return;
    }
    const context = await NestFactory.createApplicationContext(cliModule(config, database.url), {
      logger: false,
    });
    try {
      process.stdout.write(JSON.stringify(await task(context)) + '\n');
    } finally {
      await context.close();
    }
  } finally {
    await database.stop();
  }
}

function program(): Command {
  const cli = new Command('npm run cli --')
    .description(
      'Operator commands of the SMS channel API, on the database the server uses (DATABASE_URL, ' +
        'or the embedded one under PGLITE_DATA_DIR). Each prints one JSON line on stdout; an ' +
        'error prints one line on stderr and exits 1. Also runs as `node dist/src/cli.js`.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  npm run cli -- org:create --name "Acme" --plan starter\n' +
        '  node dist/src/cli.js key:create --org 3f0b6a9e-8d0c-4c1e-9a51-2b7f5f7f2f10\n' +
        '  npm run cli -- org:create --help',
    )
    .helpCommand(false)
    .showHelpAfterError(false)
    .configureOutput({
      // commander's own errors (unknown command, missing option) as one line, like ours.
      outputError: (text, write) => write(`${text.trim().replace(/\s*\n\s*/g, ' ')}\n`),
    });

  cli
    .command('org:create')
    .description('Create an organization and its first API key → {"organizationId","apiKey"}')
    .requiredOption('--name <name>', 'the organization name')
    .requiredOption('--plan <plan>', `its plan: ${PLANS.join(', ')}`)
    .action(({ name, plan }: { name: string; plan: string }) =>
      run((context) => context.get(ApiKeysService).createOrganization(name, plan)),
    );

  cli
    .command('key:create')
    .description('Issue another API key for an organization → {"keyId","apiKey"}')
    .requiredOption('--org <organizationId>', 'the organization id')
    .action(({ org }: { org: string }) =>
      run((context) => context.get(ApiKeysService).createKey(org)),
    );

  cli
    .command('key:revoke')
    .description('Revoke an API key, by its id or the key itself → {"revoked":true}')
    .requiredOption('--key <keyIdOrKey>', 'the key id (from key:create) or the sk_… key')
    .action(({ key }: { key: string }) =>
      run(async (context) => {
        const revoked = await context.get(ApiKeysService).revoke(key);
        if (!revoked) throw Errors.noSuchApiKey();
        return { revoked };
      }),
    );

  cli
    .command('credentials:reencrypt')
    .description(
      'Re-encrypt every stored credential under CREDENTIALS_ENCRYPTION_KEY (after a key rotation) → {"reencrypted":N,"total":N}',
    )
    .action(() => run((context) => context.get(CredentialRotationService).reencryptAll()));

  cli
    .command('migration:run')
    .description('Apply pending database migrations → {"applied":[names]}')
    .action(() => run('migrations-only'));

  return cli;
}

program()
  .parseAsync(process.argv)
  .then(
    () => process.exit(0),
    (error: unknown) => {
      const message =
        error instanceof DomainError
          ? error.message
          : isDatabaseUnavailable(error)
            ? `Cannot reach the database: ${error instanceof Error ? error.message : String(error)}`
            : `Command failed: ${error instanceof Error ? error.message : String(error)}`;
      process.stderr.write(`${message}\n`);
      process.exit(1);
    },
  );
