/**
 * The reply job for one inbound SMS: decide whether the bot may answer, ask the agent (same
 * logic as the website widget), store the reply, then hand it to SmsDeliveryService. Re-running
 * it (retry, crash, second instance) never writes a second reply: the reply row is unique on the
 * inbound message it answers.
 */
import { messagePreview } from '../../inbox/message-preview';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { JobInfo } from '../../../queue/job-queue';
import { AgentError } from '../../agent/agent.errors';
import { AgentService } from '../../agent/agent.service';
import { ChatbotsService } from '../../agent/chatbots.service';
import { DELIVERY_RANK } from '../../inbox/message.entity';
import { SmsDeliveryService } from '../delivery/sms-delivery.service';
import { SmsErrorReporter } from '../sms-error-reporter';
import { countSegments, fitSmsReply, TWILIO_MAX_BODY_CHARS } from '../sms-text';

const HISTORY_MESSAGES = 20;

interface InboundRow {
  id: string;
  body: string;
  media_dropped: number;
  created_at: Date;
  conversation_id: string;
  organization_id: string;
  chatbot_id: string;
  channel_id: string | null;
  status: string;
  opted_out: boolean;
}

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
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly chatbots: ChatbotsService,
    private readonly agent: AgentService,
    private readonly delivery: SmsDeliveryService,
    private readonly reporter: SmsErrorReporter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute(inboundId: string, job: JobInfo): Promise<ReplyOutcome> {
    const existing: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM messages WHERE reply_to_message_id = $1`,
      [inboundId],
    );
    if (existing[0]) {
      await this.delivery.deliver(existing[0].id, job);
      return 'sent';
    }
    const [inbound]: InboundRow[] = await this.dataSource.query(
      `SELECT m.id, m.body, m.media_dropped, m.created_at, m.conversation_id, c.organization_id, c.chatbot_id,
              c.channel_id, c.status, c.opted_out_at IS NOT NULL AS opted_out
       FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = $1`,
      [inboundId],
    );
    if (!inbound) return 'missing';
    if (inbound.status !== 'bot') return 'skipped-not-bot';
    if (inbound.opted_out) return 'skipped-opted-out';
    if (!inbound.channel_id) return 'skipped-no-channel';
    if (await this.loopGuardTripped(inbound)) return 'skipped-loop-guard';

    const text = await this.compose(inbound, job);
    const reply = fitSmsReply(text, TWILIO_MAX_BODY_CHARS);
    const { encoding, segments } = countSegments(reply);
    const replyId = await this.dataSource.transaction(async (manager) => {
      const rows: { id: string }[] = await manager.query(
        `INSERT INTO messages (conversation_id, organization_id, direction, author, body, delivery_status, delivery_rank,
                               segments, encoding, reply_to_message_id)
         VALUES ($1, $2, 'outbound', 'bot', $3, 'pending', $4, $5, $6, $7)
         ON CONFLICT (reply_to_message_id) DO NOTHING RETURNING id`,
        [
          inbound.conversation_id,
          inbound.organization_id,
          reply,
          DELIVERY_RANK.pending,
          segments,
          encoding,
          inbound.id,
        ],
      );
      if (!rows[0]) {
        const [other] = await manager.query(
          `SELECT id FROM messages WHERE reply_to_message_id = $1`,
          [inbound.id],
        );
        return other.id as string;
      }
      await manager.query(
        `UPDATE conversations SET last_message_at = now(), last_message_preview = $2 WHERE id = $1`,
        [inbound.conversation_id, messagePreview(reply)],
      );
      return rows[0].id;
    });
    await this.delivery.deliver(replyId, job);
    return 'sent';
  }

  /** An auto-responder on the other end must not ping-pong with the bot forever. */
  private async loopGuardTripped(inbound: InboundRow): Promise<boolean> {
    const [{ count }] = await this.dataSource.query(
      `SELECT count(*)::int AS count FROM messages
       WHERE conversation_id = $1 AND author = 'bot' AND created_at > now() - interval '1 minute'`,
      [inbound.conversation_id],
    );
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
    const history: { author: 'customer' | 'bot' | 'agent'; body: string }[] =
      await this.dataSource.query(
        `SELECT author, body FROM messages
       WHERE conversation_id = $1 AND (created_at, id) < ($2, $3)
       ORDER BY created_at DESC, id DESC LIMIT $4`,
        [inbound.conversation_id, inbound.created_at, inbound.id, HISTORY_MESSAGES],
      );
    try {
      const answer = await this.agent.reply({
        chatbot,
        conversationHistory: history
          .reverse()
          .map((turn) => ({ author: turn.author, text: turn.body })),
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
