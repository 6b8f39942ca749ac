import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOrganizationsAndApiKeys1764000000000 implements MigrationInterface {
  name = 'CreateOrganizationsAndApiKeys1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE organizations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        plan text NOT NULL CHECK (plan IN ('free', 'starter', 'pro', 'enterprise')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL CONSTRAINT api_keys_organization_id_fkey REFERENCES organizations(id) ON DELETE CASCADE,
        prefix text NOT NULL,
        hash bytea NOT NULL,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix)`);
    await queryRunner.query(
      `CREATE INDEX api_keys_organization_id_idx ON api_keys (organization_id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE api_keys`);
    await queryRunner.query(`DROP TABLE organizations`);
  }
}
