/**
 * The reply job for one inbound SMS: decide whether the bot may answer, ask the agent (same
 * logic as the website widget), store the reply, then hand it to SmsDeliveryService. Re-running
 * it (retry, crash, second instance) never writes a second reply: the reply row is unique on the
 * inbound message it answers.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { PreparedStatement, PreparedStatements } from '../../../database/prepared-statements';
import { JobInfo } from '../../../queue/job-queue';
import { AgentError, AgentService, ChatbotsService } from '../../agent';
import { optedOutSql } from '../../opt-outs';
import { SmsDeliveryService } from '../delivery/sms-delivery.service';
import { SmsErrorReporter } from '../sms-error-reporter';
import {
  countSegments,
  DELIVERY_RANK,
  fitSmsReply,
  messagePreview,
  TWILIO_MAX_BODY_CHARS,
} from '../../../common/sms';

const HISTORY_MESSAGES = 20;

interface InboundRow {
  id: string;
  body: string;
  conversation_id: string;
  organization_id: string;
  chatbot_id: string;
  channel_id: string | null;
  status: string;
  /** Opted out of the sender this message was sent to. */
  opted_out: boolean;
  /** A reply an earlier run already stored (then it only needs delivering). */
  existing_reply_id: string | null;
  bot_replies_last_minute: number;
  /** The messages before this one, oldest first, at most HISTORY_MESSAGES. */
  history: { author: 'customer' | 'bot' | 'agent'; body: string }[];
}

/** Everything the job decides on, in one round trip. */
const LOAD_INBOUND: PreparedStatement = {
  name: 'sms-reply-load-inbound',
  text: `SELECT m.id, m.body, m.conversation_id, c.organization_id, c.chatbot_id, c.channel_id, c.status,
      ${optedOutSql('c.sender', 'c.customer_number')} AS opted_out,
      (SELECT r.id FROM messages r WHERE r.reply_to_message_id = m.id) AS existing_reply_id,
      (SELECT count(*)::int FROM messages b
       WHERE b.conversation_id = m.conversation_id AND b.author = 'bot'
         AND b.created_at > now() - interval '1 minute') AS bot_replies_last_minute,
      (SELECT COALESCE(json_agg(json_build_object('author', h.author, 'body', h.body)
                                ORDER BY h.created_at, h.id), '[]'::json)
       FROM (SELECT author, body, created_at, id FROM messages
             WHERE conversation_id = m.conversation_id AND (created_at, id) < (m.created_at, m.id)
             ORDER BY created_at DESC, id DESC LIMIT $2) h) AS history
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE m.id = $1`,
};

/**
 * Stores the reply (once per inbound message: unique on reply_to_message_id) and moves the
 * conversation's preview, in one autocommit statement; answers the reply's id, or nothing when
 * another run's reply, committed after this statement began, won the race.
 */
const STORE_REPLY: PreparedStatement = {
  name: 'sms-reply-store',
  text: `WITH reply AS (
      INSERT INTO messages (conversation_id, organization_id, direction, author, body, delivery_status,
                            delivery_rank, segments, encoding, reply_to_message_id)
      VALUES ($1, $2, 'outbound', 'bot', $3, 'pending', $4, $5, $6, $7)
      ON CONFLICT (reply_to_message_id) DO NOTHING
      RETURNING id
    ),
    conversation AS (
      UPDATE conversations SET last_message_at = now(), last_message_preview = $8
      WHERE id = $1 AND EXISTS (SELECT 1 FROM reply)
    )
    SELECT id FROM reply
    UNION ALL
    SELECT id FROM messages WHERE reply_to_message_id = $7 AND NOT EXISTS (SELECT 1 FROM reply)`,
};

export type ReplyOutcome =
  | 'sent'
  | 'skipped-not-bot'
  | 'skipped-opted-out'
  | 'skipped-loop-guard'
  | 'skipped-no-channel'
  | 'missing';

@Injectable()
export class SendSmsReplyUseCase {
  private readonly logger = new Logger(SendSmsReplyUseCase.name);

  constructor(
    private readonly statements: PreparedStatements,
    private readonly chatbots: ChatbotsService,
    private readonly agent: AgentService,
    private readonly delivery: SmsDeliveryService,
    private readonly reporter: SmsErrorReporter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute(inboundId: string, job: JobInfo): Promise<ReplyOutcome> {
    const [inbound] = await this.statements.query<InboundRow>(LOAD_INBOUND, [
      inboundId,
      HISTORY_MESSAGES,
    ]);
    if (!inbound) return 'missing';
    if (inbound.existing_reply_id) {
      await this.delivery.deliver(inbound.existing_reply_id, job);
      return 'sent';
    }
    if (inbound.status !== 'bot') return 'skipped-not-bot';
    if (inbound.opted_out) return 'skipped-opted-out';
    if (!inbound.channel_id) return 'skipped-no-channel';
    if (this.loopGuardTripped(inbound)) return 'skipped-loop-guard';

    const text = await this.compose(inbound, job);
    const reply = fitSmsReply(text, TWILIO_MAX_BODY_CHARS);
    const { encoding, segments } = countSegments(reply);
    const values = [
      inbound.conversation_id,
      inbound.organization_id,
      reply,
      DELIVERY_RANK.pending,
      segments,
      encoding,
      inbound.id,
      messagePreview(reply),
    ];
    let [stored] = await this.statements.query<{ id: string }>(STORE_REPLY, values);
    // Lost a race to a reply committed after the statement's snapshot: read it now.
    stored ??= (await this.statements.query<{ id: string }>(STORE_REPLY, values))[0];
    await this.delivery.deliver(stored.id, job);
    return 'sent';
  }

  /** An auto-responder on the other end must not ping-pong with the bot forever. */
  private loopGuardTripped(inbound: InboundRow): boolean {
    const count = inbound.bot_replies_last_minute;
    if (count < this.config.botRepliesPerMinute) return false;
    this.logger.warn(
      { conversationId: inbound.conversation_id, botRepliesLastMinute: count },
      'loop guard: bot reply skipped',
    );
    return true;
  }

  private async compose(inbound: InboundRow, job: JobInfo): Promise<string> {
    const chatbot = await this.chatbots.get(inbound.organization_id, inbound.chatbot_id);
    if (!inbound.body.trim()) return chatbot.mediaOnlyReply;
    try {
      const answer = await this.agent.reply({
        chatbot,
        conversationHistory: inbound.history.map((turn) => ({
          author: turn.author,
          text: turn.body,
        })),
        message: inbound.body,
        format: 'plain',
        maxChars: TWILIO_MAX_BODY_CHARS,
      });
      return answer.text.trim() || chatbot.fallbackMessage;
    } catch (error) {
      if (!(error instanceof AgentError)) throw error;
      const context = {
        chatbotId: inbound.chatbot_id,
        channelId: inbound.channel_id,
        messageId: inbound.id,
      };
      // Not attempted (the model API asked every call to wait): the job goes back to the queue
      // as it was, this try not counted.
      if (error.postponeSeconds !== undefined) throw error;
      // A transient failure is retried by the job; on the last try, or for a permanent one, the
      // customer still gets the chatbot's fallback message rather than silence.
      if (error.transient && job.retryCount < job.retryLimit) {
        this.reporter.capture(error, context, 'warning');
        throw error;
      }
      this.reporter.capture(error, context);
      return chatbot.fallbackMessage;
    }
  }
}
