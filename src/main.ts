import './instrument';
import { createApplication } from './bootstrap';
import { usePrettyLogs } from './common/logging/logger-options';
import { startBanner } from './common/logging/start-banner';
import { ConfigError, loadConfig } from './config/app-config';
import { DatabaseUnavailableError } from './database/database-runtime';

/** A refusal to start that one line explains (configuration, the database): no stack trace. */
function exitOnRefusal(error: unknown): never {
  if (error instanceof ConfigError || error instanceof DatabaseUnavailableError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logLine = (level: number, msg: string, fields: object) =>
  process.stdout.write(JSON.stringify({ level, time: Date.now(), msg, ...fields }) + '\n');

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    exitOnRefusal(error);
  }
  if (config.encryptionKeys.generatedAt) {
    process.stderr.write(
      `WARNING: CREDENTIALS_ENCRYPTION_KEY is not set; using a development key generated in ${config.encryptionKeys.generatedAt}. ` +
        'Set CREDENTIALS_ENCRYPTION_KEY (32 bytes, base64) before storing real credentials.\n',
    );
  }
  let running;
  try {
    running = await createApplication(config, {
      onDatabaseRetry: (retry) => logLine(40, 'database not reachable yet; retrying', retry),
    });
  } catch (error) {
    exitOnRefusal(error);
  }
  await running.app.listen(config.port, '0.0.0.0');
  process.stdout.write(
    startBanner(
      {
        url: await running.app.getUrl(),
        database: running.database.embedded
          ? `embedded PGlite (${config.pgliteDataDir})`
          : 'DATABASE_URL',
        docs: config.apiDocs ? `${config.publicBaseUrl}/api/docs` : null,
      },
      usePrettyLogs(config),
    ) + '\n',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(JSON.stringify({ msg: 'shutting down', signal }) + '\n');
    // A hard deadline: a stuck connection must not keep the process past its grace period.
    setTimeout(() => process.exit(1), 9_000 + config.shutdownDrainSeconds * 1_000).unref();
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  // pg-boss 10 does not await some of its own database calls; during a database outage they
  // reject with nobody listening. Log them instead of letting Node end the process.
  process.on('unhandledRejection', (reason: unknown) => {
    const message = reason instanceof Error ? reason.message : String(reason);
    process.stderr.write(
      JSON.stringify({ level: 40, msg: 'unhandled rejection', err: message }) + '\n',
    );
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  if (config.demoOrganization) {
    // Loaded only when it may seed: a production start never loads dev code.
    const { demoOrganizationBanner, seedDemoOrganization } =
      await import('./dev/demo-organization');
    const demo = await seedDemoOrganization(running.app);
    if (demo) process.stdout.write(demoOrganizationBanner(demo, config.publicBaseUrl) + '\n');
  }
}

void main();
