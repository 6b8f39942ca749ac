/**
 * Every statement on `conversations`: the inbox's reads, escalate/release, the row lock of a human
 * reply, and — as fragments the message statements embed (MessageStore) — opening a conversation
 * for an inbound SMS, moving it up the list, and whether the bot may answer in it.
 */
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { fetchPage, Page } from '../../common/pagination/page';
import type { Transaction } from '../../database/transactions';
import { optedOutSql } from '../opt-outs';
import { Conversation, ConversationStatus } from './conversation.entity';
import type { ListConversationsQuery } from './dto/conversation.dto';

/**
 * Moves a conversation up the inbox list with a new preview. `last_message_at` never goes
 * backwards: a statement's now() is its transaction's start, and a message committed meanwhile may
 * carry a later one.
 */
const touch = (table: string, preview: string): string =>
  `last_message_at = GREATEST(${table}.last_message_at, now()), last_message_preview = ${preview}`;

/** SQL the message statements embed (arguments are SQL expressions: placeholders, columns). */
export const ConversationSql = {
  touch,
  /**
   * For an inbound SMS, for each row of `source` (the channel still as the webhook read it): the
   * customer's conversation with the chatbot, opened in `bot` status or moved up the list, now on
   * this channel and sender. Returns the conversation's id, status, sender and customer_number.
   */
  openForInbound: (v: {
    source: string;
    organizationId: string;
    chatbotId: string;
    channelId: string;
    customerNumber: string;
    sender: string;
    preview: string;
  }): string =>
    `INSERT INTO conversations AS c
        (organization_id, chatbot_id, channel, channel_id, customer_number, sender, status, last_message_at, last_message_preview)
      SELECT ${v.organizationId}, ${v.chatbotId}, 'sms', ${v.channelId}, ${v.customerNumber}, ${v.sender}, 'bot', now(), ${v.preview}
      FROM ${v.source}
      ON CONFLICT (chatbot_id, channel, customer_number) DO UPDATE SET
        ${touch('c', 'EXCLUDED.last_message_preview')},
        channel_id = EXCLUDED.channel_id,
        sender = EXCLUDED.sender
      RETURNING c.id, c.status, c.sender, c.customer_number`,
  /**
   * Whether the bot may answer in conversation `alias`: nobody took it over (status `bot`), and the
   * customer has not opted out of the sender they texted.
   */
  botMayAnswer: (alias: string): string =>
    `(${alias}.status = 'bot' AND NOT ${optedOutSql(`${alias}.sender`, `${alias}.customer_number`)})`,
};

@Injectable()
export class ConversationStore {
  constructor(
    @InjectRepository(Conversation) private readonly conversations: Repository<Conversation>,
  ) {}

  /**
   * A chatbot's conversations, latest activity first: keyset pagination on (lastMessageAt DESC,
   * id DESC), served backwards from conversations_chatbot_last_message_idx; a page never costs
   * more than `limit + 1` rows.
   */
  page(
    organizationId: string,
    chatbotId: string,
    query: ListConversationsQuery,
  ): Promise<Page<Conversation>> {
    const qb = this.conversations.createQueryBuilder('c').where({
      organizationId,
      chatbotId,
      channel: query.channel ?? 'sms',
      ...(query.status ? { status: query.status } : {}),
    });
    return fetchPage(qb, { at: 'c.lastMessageAt', id: 'c.id', order: 'DESC' }, query);
  }

  find(organizationId: string, id: string): Promise<Conversation | null> {
    return this.conversations.findOneBy({ id, organizationId });
  }

  /** False when the organization has no such conversation. */
  async setStatus(
    organizationId: string,
    id: string,
    status: Extract<ConversationStatus, 'bot' | 'human'>,
  ): Promise<boolean> {
    const result = await this.conversations.update({ id, organizationId }, { status });
    return Boolean(result.affected);
  }

  /** The row lock orders a human reply with an inbound STOP or another reply on the same thread. */
  lockForAgentReply(
    tx: Transaction,
    organizationId: string,
    id: string,
  ): Promise<Conversation | null> {
    return tx.findOne(Conversation, {
      where: { id, organizationId },
      lock: { mode: 'pessimistic_write' },
    });
  }
}
