/**
 * Whether this instance should get traffic: the database answers, every migration this build
 * knows is applied, the job queue runs, and we are not shutting down. On SIGTERM readiness turns
 * 503 first, so a load balancer polling it moves traffic away before the server stops listening.
 */
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobQueue } from '../../queue/job-queue';

const QUERY_TIMEOUT_MS = 2_000;

@Injectable()
export class ReadinessService {
  private draining = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly queue: JobQueue,
  ) {}

  /** From now on readiness answers 503 (liveness stays 200). */
  startDraining(): void {
    this.draining = true;
  }

  /** What keeps this instance from serving, in words for the 503 message; empty when ready. */
  async problems(): Promise<string[]> {
    if (this.draining) return ['shutting down'];
    const problems: string[] = [];
    if (!this.queue.isRunning) problems.push('job queue not running');
    const pending = await this.pendingMigrations().catch(() => null);
    if (pending === null) problems.push('database unavailable');
    else if (pending.length) problems.push(`migrations pending (${pending.join(', ')})`);
    return problems;
  }

  /**
   * The migrations of this build not recorded in the database. One bounded query, through the
   * pool (a failed query gives its connection back), so it also proves the database answers.
   */
  private async pendingMigrations(): Promise<string[]> {
    const table = this.dataSource.options.migrationsTableName ?? 'migrations';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), QUERY_TIMEOUT_MS);
    });
    try {
      const rows: { name: string }[] = await Promise.race([
        this.dataSource.query(`SELECT name FROM ${table}`),
        timeout,
      ]);
      const applied = new Set(rows.map((row) => row.name));
      return this.dataSource.migrations
        .map((migration) => migration.name ?? migration.constructor.name)
        .filter((name) => !applied.has(name));
    } finally {
      clearTimeout(timer);
    }
  }
}
