/**
 * The migration that moved opt-outs from conversations to sms_opt_outs, on a real database: its
 * down() gives the old schema back, rows are written in that shape, and its up() must carry every
 * opt-out it can attribute to a sender (and give every conversation its sender) without losing
 * the conversations.
 */
import { DataSource, QueryRunner } from 'typeorm';
import { MoveOptOutsToSenders1764000006000 } from '../migrations/1764000006000-MoveOptOutsToSenders';
import { runMigrations } from '../src/database/database-runtime';
import { dataSourceOptions } from '../src/database/data-source-options';
import { randomNumber } from './support/sms-fixtures';
import { createTestDatabase, TestDatabase } from './support/test-database';

describe('migration: opt-outs move from conversations to (sender, customer)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let runner: QueryRunner;
  const migration = new MoveOptOutsToSenders1764000006000();

  beforeAll(async () => {
    database = await createTestDatabase('optout_migration');
    await runMigrations(database.url);
    dataSource = new DataSource({ ...dataSourceOptions(database.url), extra: { max: 2 } });
    await dataSource.initialize();
    runner = dataSource.createQueryRunner();
    await migration.down(runner);
  });
  afterAll(async () => {
    await runner?.release();
    await dataSource?.destroy();
    await database?.drop();
  });

  const one = async (sql: string, params: unknown[] = []) => (await runner.query(sql, params))[0];

  it('carries every opt-out with a known sender, gives conversations their sender, and down() restores the column', async () => {
    const { id: organizationId } = await one(
      `INSERT INTO organizations (name, plan) VALUES ('Acme', 'starter') RETURNING id`,
    );
    const chatbot = async () =>
      (
        await one(`INSERT INTO chatbots (organization_id, name) VALUES ($1, 'Bot') RETURNING id`, [
          organizationId,
        ])
      ).id as string;
    const connected = await chatbot();
    const disconnected = await chatbot();
    const ourNumber = randomNumber();
    const { id: channelId } = await one(
      `INSERT INTO sms_channels (organization_id, chatbot_id, account_sid, auth_token_encrypted,
         phone_number, phone_number_sid, account_type, connected_at)
       VALUES ($1, $2, $3, 'v1:ciphertext', $4, $5, 'Full', now()) RETURNING id`,
      [organizationId, connected, `AC${'a'.repeat(32)}`, ourNumber, `PN${'b'.repeat(32)}`],
    );
    const conversation = async (
      chatbotId: string,
      channel: string | null,
      customer: string,
      optedOutAt: string | null,
    ) =>
      (
        await one(
          `INSERT INTO conversations (organization_id, chatbot_id, channel_id, customer_number,
             opted_out_at, last_message_at)
           VALUES ($1, $2, $3, $4, $5, now()) RETURNING id`,
          [organizationId, chatbotId, channel, customer, optedOutAt],
        )
      ).id as string;
    const [optedOut, stillIn, other] = [randomNumber(), randomNumber(), randomNumber()];
    const optedOutAt = '2025-10-01T08:00:00.000Z';
    const withSender = await conversation(connected, channelId, optedOut, optedOutAt);
    const notOptedOut = await conversation(connected, channelId, stillIn, null);
    const senderUnknown = await conversation(disconnected, null, other, optedOutAt);

    await migration.up(runner);

    expect(
      await runner.query(
        `SELECT sender, customer_number, opted_out_at, source FROM sms_opt_outs ORDER BY customer_number`,
      ),
    ).toEqual([
      {
        sender: ourNumber,
        customer_number: optedOut,
        opted_out_at: new Date(optedOutAt),
        source: 'migrated',
      },
    ]);
    const senders = Object.fromEntries(
      (await runner.query(`SELECT id, sender FROM conversations`)).map(
        (row: { id: string; sender: string | null }) => [row.id, row.sender],
      ),
    );
    expect(senders).toEqual({
      [withSender]: ourNumber,
      [notOptedOut]: ourNumber,
      [senderUnknown]: null,
    });
    expect(
      await one(
        `SELECT count(*)::int AS count FROM information_schema.columns
         WHERE table_name = 'conversations' AND column_name = 'opted_out_at'`,
      ),
    ).toEqual({ count: 0 });

    await migration.down(runner);
    const restored = await runner.query(
      `SELECT id, opted_out_at FROM conversations WHERE opted_out_at IS NOT NULL`,
    );
    expect(restored).toEqual([{ id: withSender, opted_out_at: new Date(optedOutAt) }]);
    await migration.up(runner);
  });
});
