/**
 * Every statement on `messages`: storing an inbound SMS (the webhook's one statement), the bot's
 * reply and a human agent's, the delivery's bookkeeping, Twilio's status callbacks, and the
 * inbox's reads. The hot statements are named prepared statements, one round trip each; where one
 * also opens a conversation, touches the channel row, records an opt-out or queues a job, that
 * part is the owner's fragment (ConversationSql, SmsChannelSql, the opt-outs' SQL, JobQueue's
 * insertJobsSql), so each rule is still written once.
 */
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { fetchPage, Page, PageQuery } from '../../common/pagination/page';
import { AUTHENTICATION_FAILED, DELIVERY_RANK, deliveryRankOf } from '../../common/sms';
import { PreparedStatements } from '../../database/prepared-statements';
import { Placeholders, statement } from '../../database/statement';
import type { Transaction } from '../../database/transactions';
import { insertJobsSql } from '../../queue/job-queue';
import { QUEUES } from '../../queue/queue-names';
import { OutboundChannelColumns, SmsChannelSql } from '../channels';
import { channelOptOutSenderSql, clearOptOutSql, optedOutSql, recordOptOutSql } from '../opt-outs';
import { ConversationSql } from './conversation.store';
import { Message, MessageAuthor } from './message.entity';

/**
 * A delivery status only moves forward (DELIVERY_RANK): a late `sent` after `delivered`, a
 * repeated callback or a send's answer after its callback changes nothing.
 */
const advanceDelivery = (status: string, rank: string): string =>
  `delivery_status = CASE WHEN delivery_rank < ${rank} THEN ${status} ELSE delivery_status END,
    delivery_rank = GREATEST(delivery_rank, ${rank})`;

/** An inbound SMS as the webhook stores it, with what the use case decided about it. */
export interface InboundSms {
  /** The channel row the signature was checked with: stored only if it is still so. */
  channel: {
    id: string;
    organizationId: string;
    chatbotId: string;
    phoneNumber: string;
    authTokenEncrypted: string;
  };
  /** Whose opt-outs apply (optOutSender: the number, or its Messaging Service). */
  sender: string;
  from: string;
  messageSid: string;
  body: string;
  segments: number;
  encoding: string;
  mediaDropped: number;
  preview: string;
  /** An opt-out keyword: record that `from` opted out of `sender`. */
  optOut: boolean;
  /** An opt-in keyword: `sender` may text `from` again. */
  optIn: boolean;
  /** The message asks for an answer; the bot gives one if it may (ConversationSql.botMayAnswer). */
  wantsReply: boolean;
  requestId: string | null;
  receivedAt: number | null;
}

export interface InboundStored {
  /** False: the channel changed since it was read, and nothing was stored. */
  channelStillAsRead: boolean;
  /** False: a message with this MessageSid was stored before (Twilio's retry). */
  stored: boolean;
  replyQueued: boolean;
}

type StoreInboundParams = Omit<InboundSms, 'channel'> & {
  channelId: string;
  organizationId: string;
  chatbotId: string;
  phoneNumber: string;
  authTokenEncrypted: string;
  receivedRank: number;
  queue: string;
};

/**
 * The webhook's one autocommit statement: the channel row the signature was checked with is still
 * current, the conversation is opened or found, the message stored (once per MessageSid, so a
 * retry or a concurrent duplicate stores once), an opt-out or opt-in recorded for a message stored
 * now (a late retry of an old STOP must not undo a later START), and the reply queued when the
 * message wants one and the bot may answer. All of it or nothing.
 */
const STORE_INBOUND = statement<StoreInboundParams>(
  'store-inbound-sms',
  (p) => `WITH current_channel AS (
      ${SmsChannelSql.stillAsRead(p.channelId, p.phoneNumber, p.authTokenEncrypted)}
    ),
    conversation AS (
      ${ConversationSql.openForInbound({
        source: 'current_channel',
        organizationId: p.organizationId,
        chatbotId: p.chatbotId,
        channelId: p.channelId,
        customerNumber: p.from,
        sender: p.sender,
        preview: p.preview,
      })}
    ),
    channel AS (${SmsChannelSql.touchLastInbound(p.channelId, 'EXISTS (SELECT 1 FROM current_channel)')}),
    message AS (
      INSERT INTO messages
        (conversation_id, organization_id, direction, author, body, twilio_sid, delivery_status, delivery_rank, segments, encoding, media_dropped)
      SELECT conversation.id, ${p.organizationId}, 'inbound', 'customer', ${p.body}, ${p.messageSid}, 'received',
        ${p.receivedRank}, ${p.segments}, ${p.encoding}, ${p.mediaDropped}
      FROM conversation
      ON CONFLICT (twilio_sid) DO NOTHING
      RETURNING id
    ),
    opt_out AS (${recordOptOutSql(p.sender, p.from, `'keyword'`, `${p.optOut} AND EXISTS (SELECT 1 FROM message)`)}),
    opt_in AS (${clearOptOutSql(p.sender, p.from, `${p.optIn} AND EXISTS (SELECT 1 FROM message)`)}),
    reply AS (
      SELECT jsonb_build_object('messageId', message.id, 'organizationId', ${p.organizationId}::text,
          'requestId', ${p.requestId}::text, 'receivedAt', ${p.receivedAt}::float8) AS data,
        message.id::text AS singleton_key
      FROM message, conversation
      WHERE ${p.wantsReply} AND ${ConversationSql.botMayAnswer('conversation')}
    ),
    job AS (${insertJobsSql('reply', p.queue)})
    SELECT EXISTS (SELECT 1 FROM current_channel) AS "channelStillAsRead",
      EXISTS (SELECT 1 FROM message) AS stored,
      EXISTS (SELECT 1 FROM job) AS "replyQueued"`,
);

/** An inbound message as the reply job sees it, read in one round trip. */
export interface InboundForReply {
  id: string;
  body: string;
  conversation_id: string;
  organization_id: string;
  chatbot_id: string;
  channel_id: string | null;
  status: string;
  /** Opted out of the sender this message was sent to. */
  opted_out: boolean;
  /** ConversationSql.botMayAnswer, now. */
  bot_may_answer: boolean;
  /** A reply an earlier run already stored (then it only needs delivering). */
  existing_reply_id: string | null;
  bot_replies_last_minute: number;
  /** The messages before this one, oldest first, at most `history` of them. */
  history: { author: MessageAuthor; body: string }[];
}

/** Everything the reply job decides on. */
const LOAD_FOR_REPLY = statement<{ id: string; history: number }>(
  'sms-reply-load-inbound',
  (
    p,
  ) => `SELECT m.id, m.body, m.conversation_id, c.organization_id, c.chatbot_id, c.channel_id, c.status,
      ${optedOutSql('c.sender', 'c.customer_number')} AS opted_out,
      ${ConversationSql.botMayAnswer('c')} AS bot_may_answer,
      (SELECT r.id FROM messages r WHERE r.reply_to_message_id = m.id) AS existing_reply_id,
      (SELECT count(*)::int FROM messages b
       WHERE b.conversation_id = m.conversation_id AND b.author = 'bot'
         AND b.created_at > now() - interval '1 minute') AS bot_replies_last_minute,
      (SELECT COALESCE(json_agg(json_build_object('author', h.author, 'body', h.body)
                                ORDER BY h.created_at, h.id), '[]'::json)
       FROM (SELECT author, body, created_at, id FROM messages
             WHERE conversation_id = m.conversation_id AND (created_at, id) < (m.created_at, m.id)
             ORDER BY created_at DESC, id DESC LIMIT ${p.history}) h) AS history
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE m.id = ${p.id}`,
);

/** A reply to store as a pending outbound message, and the conversation's new preview. */
export interface OutboundText {
  conversationId: string;
  organizationId: string;
  body: string;
  segments: number;
  encoding: string;
  preview: string;
}

export interface BotReply extends OutboundText {
  /** The inbound message it answers: one reply per inbound message. */
  inboundId: string;
}

/** A pending outbound message by `author`, answering the inbound message `replyTo` (SQL). */
const insertPendingOutbound = (
  p: Placeholders<OutboundText & { pendingRank: number }>,
  author: 'bot' | 'agent',
  replyTo: string,
): string =>
  `INSERT INTO messages (conversation_id, organization_id, direction, author, body, delivery_status,
                         delivery_rank, segments, encoding, reply_to_message_id)
    VALUES (${p.conversationId}, ${p.organizationId}, 'outbound', '${author}', ${p.body}, 'pending',
            ${p.pendingRank}, ${p.segments}, ${p.encoding}, ${replyTo})`;

/**
 * Stores the reply (once per inbound message: unique on reply_to_message_id) and moves the
 * conversation up, in one autocommit statement; answers the reply's id, or nothing when another
 * run's reply, committed after this statement began, won the race.
 */
const STORE_BOT_REPLY = statement<BotReply & { pendingRank: number }>(
  'sms-reply-store',
  (p) => `WITH reply AS (
      ${insertPendingOutbound(p, 'bot', p.inboundId)}
      ON CONFLICT (reply_to_message_id) DO NOTHING
      RETURNING id
    ),
    conversation AS (
      UPDATE conversations SET ${ConversationSql.touch('conversations', p.preview)}
      WHERE id = ${p.conversationId} AND EXISTS (SELECT 1 FROM reply)
    )
    SELECT id FROM reply
    UNION ALL
    SELECT id FROM messages WHERE reply_to_message_id = ${p.inboundId} AND NOT EXISTS (SELECT 1 FROM reply)`,
);

/** An outbound message as the delivery needs it, with the channel it goes out on. */
export interface OutboundForDelivery extends OutboundChannelColumns {
  id: string;
  body: string;
  twilio_sid: string | null;
  delivery_rank: number;
  send_attempted_at: Date | null;
  customer_number: string;
  chatbot_id: string;
  /** Opted out of the sender we would send from (false without a channel). */
  opted_out: boolean;
}

const LOAD_FOR_DELIVERY = statement<{ id: string }>(
  'sms-delivery-load',
  (
    p,
  ) => `SELECT m.id, m.body, m.twilio_sid, m.delivery_rank, m.send_attempted_at, c.customer_number,
      c.chatbot_id, ${optedOutSql(channelOptOutSenderSql('s'), 'c.customer_number')} AS opted_out,
      ${SmsChannelSql.sendingColumns('s')}
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
      LEFT JOIN sms_channels s ON s.id = c.channel_id
    WHERE m.id = ${p.id} AND m.direction = 'outbound'`,
);

/**
 * About to call Messages.create. The first attempt that may have reached Twilio is the one a later
 * lookup must reach back to: an earlier mark stays until a failure proves Twilio created nothing.
 */
const MARK_ATTEMPTED = statement<{ id: string; status: string; rank: number }>(
  'sms-delivery-attempted',
  (p) => `UPDATE messages SET send_attempted_at = COALESCE(send_attempted_at, now()),
      ${advanceDelivery(p.status, p.rank)}, updated_at = now()
    WHERE id = ${p.id} AND twilio_sid IS NULL`,
);

/**
 * Stores Twilio's SID unless the row already names another one (never overwritten), with the
 * status Twilio answered, and the channel's last outbound time. Answers whether the row holds our
 * SID.
 */
const MARK_SENT = statement<{
  id: string;
  sid: string;
  status: string;
  rank: number;
  channelId: string;
}>(
  'sms-delivery-sent',
  (p) => `WITH sent AS (
      UPDATE messages SET twilio_sid = ${p.sid}, ${advanceDelivery(p.status, p.rank)}, updated_at = now()
      WHERE id = ${p.id} AND (twilio_sid IS NULL OR twilio_sid = ${p.sid})
      RETURNING id
    ),
    channel AS (${SmsChannelSql.touchLastOutbound(p.channelId)})
    SELECT EXISTS (SELECT 1 FROM sent) AS stored`,
);

/** A status callback for one of our messages, scoped to the signing channel's chatbot. */
const APPLY_DELIVERY_STATUS = statement<{
  sid: string;
  status: string;
  rank: number;
  errorCode: number | null;
  errorMessage: string | null;
  chatbotId: string;
}>(
  'update-sms-delivery-status',
  (p) => `UPDATE messages m SET ${advanceDelivery(p.status, p.rank)},
      error_code = COALESCE(${p.errorCode}, m.error_code),
      error_message = COALESCE(${p.errorMessage}, m.error_message), updated_at = now()
    FROM conversations c
    WHERE m.twilio_sid = ${p.sid} AND m.direction = 'outbound' AND m.delivery_rank < ${p.rank}
      AND c.id = m.conversation_id AND c.chatbot_id = ${p.chatbotId}
    RETURNING m.id`,
);

/**
 * A callback for a message whose SID we do not hold yet: the message its URL names takes the SID,
 * unless it already holds one (never overwritten) or another message does. Only a message we
 * tried to send can have one.
 */
const ADOPT_SID_FROM_CALLBACK = statement<{ sid: string; id: string; chatbotId: string }>(
  'store-sms-sid-from-callback',
  (p) => `UPDATE messages m SET twilio_sid = ${p.sid}, updated_at = now()
    FROM conversations c
    WHERE m.id = ${p.id} AND m.twilio_sid IS NULL AND m.send_attempted_at IS NOT NULL
      AND m.direction = 'outbound' AND c.id = m.conversation_id AND c.chatbot_id = ${p.chatbotId}
      AND NOT EXISTS (SELECT 1 FROM messages taken WHERE taken.twilio_sid = ${p.sid})
    RETURNING m.id`,
);

/** A reply Twilio refused for its credentials: not failed, sent again once the token is fixed. */
const HOLD_FOR_CREDENTIALS = statement<{ id: string; rank: number; reason: string }>(
  'sms-delivery-held-for-credentials',
  (p) => `UPDATE messages SET delivery_status = 'pending', delivery_rank = ${p.rank},
      error_code = ${AUTHENTICATION_FAILED}, error_message = ${p.reason}, send_attempted_at = NULL,
      updated_at = now()
    WHERE id = ${p.id} AND twilio_sid IS NULL`,
);

/** The replies held for a channel's credentials, queued for sending again, once per message. */
const QUEUE_HELD_REPLIES = statement<{ channelId: string; queue: string }>(
  'sms-channel-release-held',
  (p) => `WITH held AS (
      SELECT jsonb_build_object('messageId', m.id) AS data, m.id::text AS singleton_key
      FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE c.channel_id = ${p.channelId} AND m.direction = 'outbound' AND m.twilio_sid IS NULL
        AND m.delivery_status = 'pending' AND m.error_code = ${AUTHENTICATION_FAILED}
    ),
    job AS (${insertJobsSql('held', p.queue)})
    SELECT count(*)::int AS queued FROM job`,
);

/** What the inbox shows of a message (MessageResponse). */
export type StoredMessage = Pick<
  Message,
  | 'id'
  | 'direction'
  | 'author'
  | 'body'
  | 'deliveryStatus'
  | 'errorCode'
  | 'errorMessage'
  | 'segments'
  | 'encoding'
  | 'mediaDropped'
  | 'createdAt'
>;

/**
 * A person's reply: the message, and the conversation moved up the list and taken over (`human`:
 * the bot stays silent until released). Inside the caller's transaction, after its row locks.
 */
const STORE_AGENT_REPLY = statement<OutboundText & { pendingRank: number }>(
  'inbox-store-agent-reply',
  (p) => `WITH reply AS (
      ${insertPendingOutbound(p, 'agent', 'NULL')}
      RETURNING id, direction, author, body, delivery_status AS "deliveryStatus",
        error_code AS "errorCode", error_message AS "errorMessage", segments, encoding,
        media_dropped AS "mediaDropped", created_at AS "createdAt"
    ),
    conversation AS (
      UPDATE conversations SET ${ConversationSql.touch('conversations', p.preview)}, status = 'human'
      WHERE id = ${p.conversationId}
    )
    SELECT * FROM reply`,
);

@Injectable()
export class MessageStore {
  constructor(
    @InjectRepository(Message) private readonly messages: Repository<Message>,
    private readonly statements: PreparedStatements,
  ) {}

  // The inbound webhook.

  async storeInbound(sms: InboundSms): Promise<InboundStored> {
    const { channel, ...message } = sms;
    const [row] = await this.statements.run<InboundStored>(STORE_INBOUND, {
      ...message,
      channelId: channel.id,
      organizationId: channel.organizationId,
      chatbotId: channel.chatbotId,
      phoneNumber: channel.phoneNumber,
      authTokenEncrypted: channel.authTokenEncrypted,
      receivedRank: DELIVERY_RANK.received,
      queue: QUEUES.smsReply,
    });
    return row;
  }

  // The bot's reply.

  async loadForReply(inboundId: string, history: number): Promise<InboundForReply | null> {
    const [row] = await this.statements.run<InboundForReply>(LOAD_FOR_REPLY, {
      id: inboundId,
      history,
    });
    return row ?? null;
  }

  /** The reply's id: this one, or the one another run stored first for the same inbound message. */
  async storeBotReply(reply: BotReply): Promise<string> {
    const params = { ...reply, pendingRank: DELIVERY_RANK.pending };
    const [stored] = await this.statements.run<{ id: string }>(STORE_BOT_REPLY, params);
    if (stored) return stored.id;
    // Lost a race to a reply committed after the statement's snapshot: read it now.
    const [winner] = await this.statements.run<{ id: string }>(STORE_BOT_REPLY, params);
    return winner.id;
  }

  // A human agent's reply.

  async storeAgentReply(tx: Transaction, reply: OutboundText): Promise<StoredMessage> {
    const [row]: StoredMessage[] = await tx.query(
      STORE_AGENT_REPLY.text,
      STORE_AGENT_REPLY.values({ ...reply, pendingRank: DELIVERY_RANK.pending }),
    );
    return row;
  }

  // Delivery (twilio-sms/delivery: exactly once through Twilio).

  async loadForDelivery(messageId: string): Promise<OutboundForDelivery | null> {
    const [row] = await this.statements.run<OutboundForDelivery>(LOAD_FOR_DELIVERY, {
      id: messageId,
    });
    return row ?? null;
  }

  /** Time since the first attempt that may have reached Twilio, on the database's clock (null: none). */
  async millisSinceAttempt(messageId: string): Promise<number | null> {
    const [row]: { ms: number }[] = await this.messages.query(
      `SELECT (extract(epoch FROM now() - send_attempted_at) * 1000)::float8 AS ms
        FROM messages WHERE id = $1 AND send_attempted_at IS NOT NULL`,
      [messageId],
    );
    return row?.ms ?? null;
  }

  /** Which of these SIDs other messages already hold. */
  async sidsTakenByOthers(sids: string[], messageId: string): Promise<Set<string>> {
    const rows: { twilio_sid: string }[] = await this.messages.query(
      `SELECT twilio_sid FROM messages WHERE twilio_sid = ANY($1) AND id <> $2`,
      [sids, messageId],
    );
    return new Set(rows.map((row) => row.twilio_sid));
  }

  async markAttempted(messageId: string): Promise<void> {
    await this.statements.run(MARK_ATTEMPTED, {
      id: messageId,
      status: 'sending',
      rank: DELIVERY_RANK.sending,
    });
  }

  /** Twilio certainly created nothing: the next attempt may send without looking first. */
  async clearAttempt(messageId: string): Promise<void> {
    await this.messages.query(
      `UPDATE messages SET send_attempted_at = NULL WHERE id = $1 AND twilio_sid IS NULL`,
      [messageId],
    );
  }

  /** False when the row holds another SID (read it with sidOf). */
  async markSent(sent: {
    messageId: string;
    sid: string;
    status: string;
    channelId: string;
  }): Promise<boolean> {
    const [{ stored }] = await this.statements.run<{ stored: boolean }>(MARK_SENT, {
      id: sent.messageId,
      sid: sent.sid,
      status: sent.status,
      rank: deliveryRankOf(sent.status) ?? DELIVERY_RANK.queued,
      channelId: sent.channelId,
    });
    return stored;
  }

  async sidOf(messageId: string): Promise<string | null> {
    const [row]: { twilio_sid: string | null }[] = await this.messages.query(
      'SELECT twilio_sid FROM messages WHERE id = $1',
      [messageId],
    );
    return row?.twilio_sid ?? null;
  }

  /** Not sent, for good: the reason a person reads in the inbox. */
  async markFailed(messageId: string, code: number | null, reason: string): Promise<void> {
    await this.messages.query(
      `UPDATE messages SET delivery_status = 'failed', delivery_rank = $2, error_code = $3,
          error_message = $4, updated_at = now()
        WHERE id = $1 AND twilio_sid IS NULL`,
      [messageId, DELIVERY_RANK.failed, code, reason],
    );
  }

  async holdForCredentials(messageId: string, reason: string): Promise<void> {
    await this.statements.run(HOLD_FOR_CREDENTIALS, {
      id: messageId,
      rank: DELIVERY_RANK.pending,
      reason,
    });
  }

  /** Answers how many held replies were queued. */
  async queueHeldReplies(channelId: string): Promise<number> {
    const [{ queued }] = await this.statements.run<{ queued: number }>(QUEUE_HELD_REPLIES, {
      channelId,
      queue: QUEUES.smsSend,
    });
    return queued;
  }

  // Twilio's status callbacks.

  /** The ids of the messages it moved forward (none: unknown SID or status, or not forward). */
  async applyDeliveryStatus(update: {
    sid: string;
    status: string;
    errorCode: number | null;
    errorMessage: string | null;
    chatbotId: string;
  }): Promise<string[]> {
    const rank = deliveryRankOf(update.status);
    if (rank === undefined) return [];
    const rows = await this.statements.run<{ id: string }>(APPLY_DELIVERY_STATUS, {
      ...update,
      rank,
    });
    return rows.map((row) => row.id);
  }

  async adoptSidFromCallback(callback: {
    sid: string;
    messageId: string;
    chatbotId: string;
  }): Promise<boolean> {
    const rows = await this.statements.run(ADOPT_SID_FROM_CALLBACK, {
      sid: callback.sid,
      id: callback.messageId,
      chatbotId: callback.chatbotId,
    });
    return rows.length > 0;
  }

  // The inbox's reads.

  /** A conversation's messages newest first (messages_conversation_created_idx). */
  page(organizationId: string, conversationId: string, query: PageQuery): Promise<Page<Message>> {
    const qb = this.messages.createQueryBuilder('m').where({ conversationId, organizationId });
    return fetchPage(qb, { at: 'm.createdAt', id: 'm.id', order: 'DESC' }, query);
  }

  /** At most `take` of a conversation's latest messages, newest first. */
  latest(organizationId: string, conversationId: string, take: number): Promise<Message[]> {
    return this.messages.find({
      where: { conversationId, organizationId },
      order: { createdAt: 'DESC', id: 'DESC' },
      take,
    });
  }
}
