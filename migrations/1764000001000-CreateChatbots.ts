import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateChatbots1764000001000 implements MigrationInterface {
  name = 'CreateChatbots1764000001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE chatbots (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL CONSTRAINT chatbots_organization_id_fkey REFERENCES organizations(id) ON DELETE CASCADE,
        name text NOT NULL,
        system_prompt text NOT NULL DEFAULT '',
        fallback_message text NOT NULL DEFAULT 'Sorry, I don''t have an answer to that yet. A person from our team will follow up.',
        media_only_reply text NOT NULL DEFAULT 'Sorry, I can only read text messages. Please send your question as text.',
        language text NOT NULL DEFAULT 'simple',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX chatbots_organization_id_idx ON chatbots (organization_id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE chatbots`);
  }
}
