/**
 * Where an SMS enters: the signed inbound webhook. What the message means is decided here (an
 * opt-out or opt-in keyword, whether it asks for an answer), then MessageStore.storeInbound stores
 * it in one statement — the conversation opened or found, the message once per MessageSid, the
 * opt-out recorded, the reply queued — and Twilio gets its 200 as soon as that commits. The agent
 * is never awaited here.
 */
import { Injectable, Logger } from '@nestjs/common';
import { Errors } from '../../../common/errors/errors';
import { JobQueue, JobTrace } from '../../../queue/job-queue';
import { QUEUES } from '../../../queue/queue-names';
import type { WebhookChannel } from '../../channels';
import { InboundSms, MessageStore } from '../../inbox';
import { optOutSender } from '../../opt-outs';
import {
  classifyKeyword,
  countSegments,
  isStorableSender,
  MESSAGE_SID,
  messagePreview,
  SmsKeywordKind,
} from '../../../common/sms';
import { wantsReply } from '../replies/reply-rules';

const MAX_STORED_BODY = 10_000;

/** A webhook request whose signature the guard checked. */
export interface SignedInbound {
  /** The channel whose token signed it, as the guard read it: possibly from its cache. */
  channel: WebhookChannel;
  params: Record<string, string | string[]>;
  trace: JobTrace;
  /** Verifies the request again with the channel's row read now (403 when it no longer signs). */
  verifyWithCurrentRow(): Promise<WebhookChannel>;
}

export interface InboundResult {
  stored: boolean;
  replyQueued: boolean;
  keyword: SmsKeywordKind | null;
}

/** The message as Twilio signed it, before any channel is applied. */
interface ParsedInbound {
  messageSid: string;
  from: string;
  body: string;
  mediaDropped: number;
  keyword: SmsKeywordKind | null;
}

const field = (params: Record<string, string | string[]>, name: string): string | undefined => {
  const value = params[name];
  return Array.isArray(value) ? value[0] : value;
};

@Injectable()
export class ReceiveInboundSmsUseCase {
  private readonly logger = new Logger(ReceiveInboundSmsUseCase.name);

  constructor(
    private readonly messages: MessageStore,
    private readonly queue: JobQueue,
  ) {}

  async execute(request: SignedInbound): Promise<InboundResult> {
    const message = this.parse(request.params);
    this.noteServiceMismatch(request.channel, field(request.params, 'MessagingServiceSid') || null);
    let result = await this.messages.storeInbound(
      this.toStore(message, request.channel, request.trace),
    );
    if (!result.channelStillAsRead) {
      // The guard checked the signature with a cached row that changed since (a disconnect, a
      // reconnect or a key rotation, perhaps on another instance), so nothing was stored. Check
      // it with the row as it is now — 403 when the channel is gone or its token no longer signs —
      // and store once more.
      const channel = await request.verifyWithCurrentRow();
      result = await this.messages.storeInbound(this.toStore(message, channel, request.trace));
      if (!result.channelStillAsRead) {
        // Changed twice within one request: Twilio shows a 503 as unavailable and may retry.
        throw Errors.channelChangedWhileStoring();
      }
    }
    if (result.replyQueued) this.queue.nudge(QUEUES.smsReply);
    return { stored: result.stored, replyQueued: result.replyQueued, keyword: message.keyword };
  }

  private parse(params: Record<string, string | string[]>): ParsedInbound {
    const messageSid = field(params, 'MessageSid') ?? '';
    const from = field(params, 'From') ?? '';
    // Any sender Twilio signed is stored (a short code, an alphanumeric sender ID, our own
    // number): refusing it would lose the message, Twilio does not send it again.
    if (!MESSAGE_SID.test(messageSid) || !isStorableSender(from)) {
      throw Errors.webhookFieldMissing(MESSAGE_SID.test(messageSid) ? 'From' : 'MessageSid');
    }
    // PostgreSQL text cannot hold U+0000: drop it rather than lose the customer's message.
    const body = (field(params, 'Body') ?? '').replaceAll('\u0000', '').slice(0, MAX_STORED_BODY);
    // Attachments are never fetched: we only count what we drop.
    const mediaDropped = Math.min(
      Math.max(Number.parseInt(field(params, 'NumMedia') ?? '0', 10) || 0, 0),
      100,
    );
    const keyword = classifyKeyword(body, field(params, 'OptOutType'));
    return { messageSid, from, body, mediaDropped, keyword };
  }

  /** What to store for the message on this channel (its number and sender decide some of it). */
  private toStore(message: ParsedInbound, channel: WebhookChannel, trace: JobTrace): InboundSms {
    const { encoding, segments } = countSegments(message.body);
    return {
      channel,
      sender: optOutSender(channel),
      from: message.from,
      messageSid: message.messageSid,
      body: message.body,
      segments,
      encoding,
      mediaDropped: message.mediaDropped,
      preview: message.body.trim()
        ? messagePreview(message.body)
        : `[${message.mediaDropped} attachment(s) dropped]`,
      optOut: message.keyword === 'opt-out',
      optIn: message.keyword === 'opt-in',
      wantsReply: wantsReply({ ...message, channelNumber: channel.phoneNumber }),
      requestId: trace.requestId ?? null,
      receivedAt: trace.receivedAt ?? null,
    };
  }

  /**
   * The channel was found by AccountSid + To and the signature checked with its token: a
   * MessagingServiceSid that disagrees with the service stored at connect means the customer
   * moved the number into, out of or between services since. The message is still stored and
   * answered (dropping it would lose it: Twilio does not send it again); reconnecting picks the
   * new service up.
   */
  private noteServiceMismatch(channel: WebhookChannel, signedServiceSid: string | null): void {
    if (signedServiceSid === channel.messagingServiceSid) return;
    this.logger.warn(
      {
        channelId: channel.id,
        storedMessagingServiceSid: channel.messagingServiceSid,
        messagingServiceSid: signedServiceSid,
      },
      "inbound SMS names another Messaging Service than the channel's; reconnect the channel to follow the number",
    );
  }
}
