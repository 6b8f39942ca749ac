import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateKnowledge1764000002000 implements MigrationInterface {
  name = 'CreateKnowledge1764000002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE knowledge_documents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL CONSTRAINT knowledge_documents_organization_id_fkey REFERENCES organizations(id) ON DELETE CASCADE,
        chatbot_id uuid NOT NULL CONSTRAINT knowledge_documents_chatbot_id_fkey REFERENCES chatbots(id) ON DELETE CASCADE,
        title text NOT NULL,
        content text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX knowledge_documents_organization_id_idx ON knowledge_documents (organization_id)`,
    );
    await queryRunner.query(
      `CREATE INDEX knowledge_documents_chatbot_id_created_at_idx ON knowledge_documents (chatbot_id, created_at)`,
    );
    // search_vector is filled with to_tsvector(<chatbot language>, content) by the application and
    // rebuilt when the chatbot's language changes: a generated column could not follow the
    // language, which lives on another table.
    await queryRunner.query(`
      CREATE TABLE knowledge_passages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        document_id uuid NOT NULL CONSTRAINT knowledge_passages_document_id_fkey REFERENCES knowledge_documents(id) ON DELETE CASCADE,
        chatbot_id uuid NOT NULL CONSTRAINT knowledge_passages_chatbot_id_fkey REFERENCES chatbots(id) ON DELETE CASCADE,
        position integer NOT NULL,
        content text NOT NULL,
        search_vector tsvector NOT NULL
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX knowledge_passages_document_id_position_key ON knowledge_passages (document_id, position)`,
    );
    await queryRunner.query(
      `CREATE INDEX knowledge_passages_chatbot_id_idx ON knowledge_passages (chatbot_id)`,
    );
    await queryRunner.query(
      `CREATE INDEX knowledge_passages_search_vector_idx ON knowledge_passages USING gin (search_vector)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE knowledge_passages`);
    await queryRunner.query(`DROP TABLE knowledge_documents`);
  }
}
