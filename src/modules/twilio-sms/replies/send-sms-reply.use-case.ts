/**
 * The reply job for one inbound SMS: decide whether the bot may answer, ask the agent (same
 * logic as the website widget), store the reply, then hand it to SmsDeliveryService. Re-running
 * it (retry, crash, second instance) never writes a second reply: the reply row is unique on the
 * inbound message it answers.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { JobInfo } from '../../../queue/job-queue';
import { AgentError, AgentService, ChatbotsService } from '../../agent';
import { InboundForReply, MessageStore } from '../../inbox';
import { SmsDeliveryService } from '../delivery/sms-delivery.service';
import { SmsErrorReporter } from '../sms-error-reporter';
import { replyDecision, ReplySkip } from './reply-rules';
import {
  countSegments,
  fitSmsReply,
  messagePreview,
  TWILIO_MAX_BODY_CHARS,
} from '../../../common/sms';

const HISTORY_MESSAGES = 20;

export type ReplyOutcome = 'sent' | ReplySkip | 'missing';

@Injectable()
export class SendSmsReplyUseCase {
  private readonly logger = new Logger(SendSmsReplyUseCase.name);

  constructor(
    private readonly messages: MessageStore,
    private readonly chatbots: ChatbotsService,
    private readonly agent: AgentService,
    private readonly delivery: SmsDeliveryService,
    private readonly reporter: SmsErrorReporter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute(inboundId: string, job: JobInfo): Promise<ReplyOutcome> {
    const inbound = await this.messages.loadForReply(inboundId, HISTORY_MESSAGES);
    if (!inbound) return 'missing';
    const decision = replyDecision(inbound, this.config.botRepliesPerMinute);
    if (decision === 'deliver-existing') {
      await this.delivery.deliver(inbound.existing_reply_id as string, job);
      return 'sent';
    }
    if (decision !== 'answer') {
      if (decision === 'skipped-loop-guard') {
        this.logger.warn(
          {
            conversationId: inbound.conversation_id,
            botRepliesLastMinute: inbound.bot_replies_last_minute,
          },
          'loop guard: bot reply skipped',
        );
      }
      return decision;
    }
    const reply = fitSmsReply(await this.compose(inbound, job), TWILIO_MAX_BODY_CHARS);
    const replyId = await this.messages.storeBotReply({
      conversationId: inbound.conversation_id,
      organizationId: inbound.organization_id,
      inboundId: inbound.id,
      body: reply,
      ...countSegments(reply),
      preview: messagePreview(reply),
    });
    await this.delivery.deliver(replyId, job);
    return 'sent';
  }

  private async compose(inbound: InboundForReply, job: JobInfo): Promise<string> {
    const chatbot = await this.chatbots.getForReply(inbound.organization_id, inbound.chatbot_id);
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
