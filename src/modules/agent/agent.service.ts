import { Injectable } from '@nestjs/common';
import { MetricsService } from '../../common/metrics/metrics.service';
import { fitSmsReply, TWILIO_MAX_BODY_CHARS, truncateSmsText } from '../../common/sms';
import { AgentProvider, ConversationTurn, ReplyFormat, UsedPassage } from './agent-provider';
import type { Chatbot } from './chatbot.entity';
import { PassageIndex } from './knowledge/passage-index';

/** Passages retrieved per message: enough context for a model, few enough to stay focused. */
export const PASSAGES_PER_REPLY = 4;

export interface AgentReplyInput {
  chatbot: Chatbot;
  /** Earlier messages, oldest first, without `message` itself. */
  conversationHistory: ConversationTurn[];
  message: string;
  /** Default `markdown`. `plain` strips markdown and caps the reply (1,600 characters by default). */
  format?: ReplyFormat;
  /** Upper bound on the reply's length in UTF-16 code units. */
  maxChars?: number;
}

export interface AgentReply {
  text: string;
  /** The knowledge the reply drew on; empty for the fallback message. */
  usedPassages: UsedPassage[];
}

/**
 * The agent every channel uses (SMS, web widget, the dashboard's "try your bot"): retrieve the
 * chatbot's knowledge for the message, let the configured provider answer, and shape the text
 * for the channel. Rejects with AgentError when the provider fails.
 */
@Injectable()
export class AgentService {
  constructor(
    private readonly passageIndex: PassageIndex,
    private readonly provider: AgentProvider,
    private readonly metrics: MetricsService,
  ) {}

  async reply(input: AgentReplyInput): Promise<AgentReply> {
    const { chatbot, message } = input;
    const format = input.format ?? 'markdown';
    const maxChars = input.maxChars ?? (format === 'plain' ? TWILIO_MAX_BODY_CHARS : undefined);
    if (maxChars !== undefined && !(Number.isInteger(maxChars) && maxChars >= 1)) {
      throw new RangeError(`maxChars must be a positive integer, got ${maxChars}`);
    }
    const fallback = {
      text: this.shape(chatbot.fallbackMessage, format, maxChars),
      usedPassages: [],
    };
    if (!message.trim()) return fallback;

    const knowledge = await this.passageIndex.search(chatbot, message, PASSAGES_PER_REPLY);
    const answer = await this.metrics.modelCall(this.provider.name, () =>
      this.provider.answer({
        chatbot,
        history: input.conversationHistory,
        message,
        format,
        maxChars,
        knowledge,
      }),
    );
    // Shaped before the emptiness check: a reply of only markdown markup is empty as plain text.
    const text = this.shape(answer.text, format, maxChars);
    return text ? { text, usedPassages: answer.usedPassages } : fallback;
  }

  /** Until then, work that needs the agent is better left queued (see AgentProvider). */
  pausedUntil(): number {
    return this.provider.pausedUntil();
  }

  private shape(text: string, format: ReplyFormat, maxChars: number | undefined): string {
    if (format === 'plain') return fitSmsReply(text, maxChars);
    const trimmed = text.trim();
    return maxChars === undefined ? trimmed : truncateSmsText(trimmed, maxChars);
  }
}
