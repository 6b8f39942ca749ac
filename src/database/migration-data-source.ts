/**
 * Data source for TypeORM's own CLI (`npm run migration:generate -- migrations/DoSomething`).
 * Against DATABASE_URL when set; otherwise a throwaway in-memory embedded database with every
 * existing migration applied, so the generated migration holds exactly the new change.
 */
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';
import { openDatabase, runMigrations } from './database-runtime';

async function create(): Promise<DataSource> {
  const config = loadConfig();
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDataDir: 'memory://',
  });
  await runMigrations(database.url);
  const dataSource = new DataSource(dataSourceOptions(database.url));
  const destroy = dataSource.destroy.bind(dataSource);
  dataSource.destroy = async () => {
    await destroy();
    await database.stop();
  };
  return dataSource;
}

export default create();
