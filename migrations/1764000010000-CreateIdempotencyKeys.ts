import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency-Key results of the dashboard's writes (common/idempotency), per organization and
 * key, shared by every instance. `response_body` is json (not jsonb) so a replay keeps the first
 * answer's key order byte for byte.
 */
export class CreateIdempotencyKeys1764000010000 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1764000010000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE idempotency_keys (
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        key text NOT NULL,
        request_hash text NOT NULL,
        claim_id uuid NOT NULL,
        state text NOT NULL CHECK (state IN ('running', 'done')),
        response_status integer,
        response_body json,
        created_at timestamptz NOT NULL,
        locked_until timestamptz NOT NULL,
        PRIMARY KEY (organization_id, key)
      )`);
    await queryRunner.query(
      `CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE idempotency_keys`);
  }
}
