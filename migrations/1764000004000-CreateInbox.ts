import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateInbox1764000004000 implements MigrationInterface {
  name = 'CreateInbox1764000004000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE conversations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL CONSTRAINT conversations_organization_id_fkey REFERENCES organizations(id) ON DELETE CASCADE,
        chatbot_id uuid NOT NULL CONSTRAINT conversations_chatbot_id_fkey REFERENCES chatbots(id) ON DELETE CASCADE,
        channel text NOT NULL DEFAULT 'sms',
        channel_id uuid CONSTRAINT conversations_channel_id_fkey REFERENCES sms_channels(id) ON DELETE SET NULL,
        customer_number text NOT NULL,
        status text NOT NULL DEFAULT 'bot' CHECK (status IN ('bot', 'human', 'closed')),
        opted_out_at timestamptz,
        last_message_at timestamptz NOT NULL,
        last_message_preview text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX conversations_chatbot_channel_customer_key ON conversations (chatbot_id, channel, customer_number)`,
    );
    await queryRunner.query(
      `CREATE INDEX conversations_chatbot_last_message_idx ON conversations (chatbot_id, last_message_at, id)`,
    );
    await queryRunner.query(
      `CREATE INDEX conversations_channel_id_idx ON conversations (channel_id)`,
    );
    await queryRunner.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        conversation_id uuid NOT NULL CONSTRAINT messages_conversation_id_fkey REFERENCES conversations(id) ON DELETE CASCADE,
        organization_id uuid NOT NULL,
        direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
        author text NOT NULL CHECK (author IN ('customer', 'bot', 'agent')),
        body text NOT NULL,
        twilio_sid text,
        delivery_status text NOT NULL,
        delivery_rank smallint NOT NULL DEFAULT 0,
        error_code integer,
        error_message text,
        segments smallint NOT NULL DEFAULT 1,
        encoding text NOT NULL DEFAULT 'GSM-7',
        media_dropped smallint NOT NULL DEFAULT 0,
        reply_to_message_id uuid CONSTRAINT messages_reply_to_message_id_fkey REFERENCES messages(id) ON DELETE SET NULL,
        send_attempted_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX messages_twilio_sid_key ON messages (twilio_sid)`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX messages_reply_to_key ON messages (reply_to_message_id)`,
    );
    await queryRunner.query(
      `CREATE INDEX messages_conversation_created_idx ON messages (conversation_id, created_at, id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE messages`);
    await queryRunner.query(`DROP TABLE conversations`);
  }
}
