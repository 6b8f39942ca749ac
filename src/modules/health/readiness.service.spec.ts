import type { DataSource } from 'typeorm';
import type { JobQueue } from '../../queue/job-queue';
import { ReadinessService } from './readiness.service';

class CreateThings1764000000000 {}

function readiness(options: { queueRunning?: boolean; applied?: string[] } = {}) {
  const dataSource = {
    options: { migrationsTableName: 'typeorm_migrations' },
    migrations: [new CreateThings1764000000000()],
    query: async () => (options.applied ?? ['CreateThings1764000000000']).map((name) => ({ name })),
  } as unknown as DataSource;
  const queue = { isRunning: options.queueRunning ?? true } as JobQueue;
  return new ReadinessService(dataSource, queue);
}

describe('ReadinessService', () => {
  it('is ready with the database answering, migrations applied and the queue running', async () => {
    expect(await readiness().problems()).toEqual([]);
  });

  it('names a stopped job queue and a pending migration', async () => {
    expect(await readiness({ queueRunning: false, applied: [] }).problems()).toEqual([
      'job queue not running',
      'migrations pending (CreateThings1764000000000)',
    ]);
  });

  it('answers "shutting down" alone once draining', async () => {
    const service = readiness({ queueRunning: false });
    service.startDraining();
    expect(await service.problems()).toEqual(['shutting down']);
  });
});
