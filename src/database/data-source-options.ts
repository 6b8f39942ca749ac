import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { SnakeNamingStrategy } from './snake-naming.strategy';

/**
 * One definition of the connection, shared by the app, the CLI and `migration:generate`.
 * `poolSize`: statements running at once (DATABASE_POOL_SIZE for the app).
 */
export function dataSourceOptions(url: string, poolSize = 4): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [join(__dirname, '..', '**', '*.entity.{ts,js}')],
    migrations: [join(__dirname, '..', '..', 'migrations', '*.{ts,js}')],
    migrationsTableName: 'typeorm_migrations',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    migrationsRun: false,
    extra: {
      // More than the database's cores only queue inside PostgreSQL instead of here: on 2
      // cores, web-only A/B (4 rounds each) 10 -> 4 connections took the database's CPU per
      // webhook from 0.92 to 0.68 ms (20: 0.94 ms), and with the reply workers from 2.07 to
      // 1.67 ms at the same reply drain rate.
      max: poolSize,
      // Fail fast instead of queueing forever when the database is gone: health answers 503
      // and webhooks answer 503 rather than hanging past Twilio's 15 s.
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    },
  };
}
