import { MigrationInterface, QueryRunner } from 'typeorm';

/** The dashboard API's per-key budget, shared by every instance (common/rate-limit). */
export class CreateRateLimitWindows1764000005000 implements MigrationInterface {
  name = 'CreateRateLimitWindows1764000005000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE rate_limit_windows (
        key text PRIMARY KEY,
        window_index bigint NOT NULL,
        current_hits integer NOT NULL,
        previous_hits integer NOT NULL,
        allowed boolean NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE rate_limit_windows`);
  }
}
