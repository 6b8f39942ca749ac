import type { AppConfig } from '../../../config/app-config';
import type { JobInfo } from '../../../queue/job-queue';
import { AgentError, AgentService, ChatbotsService } from '../../agent';
import type { BotReply, InboundForReply, MessageStore } from '../../inbox';
import type { SmsDeliveryService } from '../delivery/sms-delivery.service';
import type { SmsErrorReporter } from '../sms-error-reporter';
import { SendSmsReplyUseCase } from './send-sms-reply.use-case';

const CHATBOT = {
  fallbackMessage: 'A person will follow up.',
  mediaOnlyReply: 'Text only, please.',
};
const INBOUND: InboundForReply = {
  id: 'in-1',
  body: 'When are you open?',
  conversation_id: 'conv-1',
  organization_id: 'org-1',
  chatbot_id: 'bot-1',
  channel_id: 'channel-1',
  status: 'bot',
  opted_out: false,
  bot_may_answer: true,
  existing_reply_id: null,
  bot_replies_last_minute: 0,
  history: [{ author: 'customer', body: 'Hello' }],
};
const JOB: JobInfo = { id: 'job-1', retryCount: 0, retryLimit: 2 };

/** The reply job with its stores and the agent faked: what it stored, asked and delivered. */
function setUp(inbound: InboundForReply | null, answer: () => Promise<{ text: string }>) {
  const storedReplies: BotReply[] = [];
  const messages = {
    loadForReply: jest.fn(async () => inbound),
    storeBotReply: jest.fn(async (reply: BotReply) => {
      storedReplies.push(reply);
      return 'reply-1';
    }),
  };
  const agent = { reply: jest.fn(answer) };
  const delivered: string[] = [];
  const delivery = { deliver: jest.fn(async (id: string) => void delivered.push(id)) };
  const reporter = { capture: jest.fn() };
  const useCase = new SendSmsReplyUseCase(
    messages as unknown as MessageStore,
    { getForReply: jest.fn(async () => CHATBOT) } as unknown as ChatbotsService,
    agent as unknown as AgentService,
    delivery as unknown as SmsDeliveryService,
    reporter as unknown as SmsErrorReporter,
    { botRepliesPerMinute: 5 } as AppConfig,
  );
  return { useCase, storedReplies, agent, delivered, reporter };
}

describe('SendSmsReplyUseCase: the bot’s answer to one inbound SMS', () => {
  it('asks the agent with the history, stores the answer once and delivers it', async () => {
    const t = setUp(INBOUND, async () => ({ text: ' We open at 9. ' }));
    await expect(t.useCase.execute('in-1', JOB)).resolves.toBe('sent');
    expect(t.agent.reply).toHaveBeenCalledWith(
      expect.objectContaining({
        message: INBOUND.body,
        format: 'plain',
        conversationHistory: [{ author: 'customer', text: 'Hello' }],
      }),
    );
    expect(t.storedReplies).toEqual([
      expect.objectContaining({
        inboundId: 'in-1',
        body: 'We open at 9.',
        preview: 'We open at 9.',
      }),
    ]);
    expect(t.delivered).toEqual(['reply-1']);
  });

  it('where it may not answer, or the loop guard trips, the agent is never asked', async () => {
    for (const [changes, outcome] of [
      [{ bot_may_answer: false, status: 'human' }, 'skipped-not-bot'],
      [{ bot_may_answer: false, opted_out: true }, 'skipped-opted-out'],
      [{ channel_id: null }, 'skipped-no-channel'],
      [{ bot_replies_last_minute: 5 }, 'skipped-loop-guard'],
    ] as const) {
      const t = setUp({ ...INBOUND, ...changes }, async () => ({ text: 'no' }));
      await expect(t.useCase.execute('in-1', JOB)).resolves.toBe(outcome);
      expect(t.agent.reply).not.toHaveBeenCalled();
      expect(t.storedReplies).toEqual([]);
    }
  });

  it('an answer an earlier run stored is delivered, not written again', async () => {
    const t = setUp({ ...INBOUND, existing_reply_id: 'reply-0' }, async () => ({ text: 'no' }));
    await expect(t.useCase.execute('in-1', JOB)).resolves.toBe('sent');
    expect(t.agent.reply).not.toHaveBeenCalled();
    expect(t.delivered).toEqual(['reply-0']);
  });

  it('attachments only get the chatbot’s media-only reply', async () => {
    const t = setUp({ ...INBOUND, body: '' }, async () => ({ text: 'no' }));
    await t.useCase.execute('in-1', JOB);
    expect(t.agent.reply).not.toHaveBeenCalled();
    expect(t.storedReplies[0].body).toBe(CHATBOT.mediaOnlyReply);
  });

  it('a model outage is retried by the job; on the last try the customer gets the fallback', async () => {
    const down = async () => {
      throw new AgentError('The model API timed out', { transient: true, provider: 'openai' });
    };
    const first = setUp(INBOUND, down);
    await expect(first.useCase.execute('in-1', JOB)).rejects.toBeInstanceOf(AgentError);
    expect(first.storedReplies).toEqual([]);
    const last = setUp(INBOUND, down);
    await expect(last.useCase.execute('in-1', { ...JOB, retryCount: 2 })).resolves.toBe('sent');
    expect(last.storedReplies[0].body).toBe(CHATBOT.fallbackMessage);
    expect(last.reporter.capture).toHaveBeenCalled();
  });

  it('a message that is gone answers missing', async () => {
    const t = setUp(null, async () => ({ text: 'no' }));
    await expect(t.useCase.execute('in-1', JOB)).resolves.toBe('missing');
  });
});
