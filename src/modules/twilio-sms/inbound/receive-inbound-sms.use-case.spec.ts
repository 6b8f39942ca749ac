import { DomainError } from '../../../common/errors/domain-error';
import type { JobQueue } from '../../../queue/job-queue';
import type { WebhookChannel } from '../../channels';
import type { InboundSms, InboundStored, MessageStore } from '../../inbox';
import { ReceiveInboundSmsUseCase, SignedInbound } from './receive-inbound-sms.use-case';

const CHANNEL: WebhookChannel = {
  id: 'channel-1',
  organizationId: 'org-1',
  chatbotId: 'bot-1',
  accountSid: `AC${'0'.repeat(32)}`,
  phoneNumber: '+15005550006',
  authTokenEncrypted: 'v1.key.iv.tag.data',
  pendingAuthTokenEncrypted: null,
  messagingServiceSid: null,
};
const SERVICE_SID = `MG${'a'.repeat(32)}`;
const STORED: InboundStored = { channelStillAsRead: true, stored: true, replyQueued: true };

/** MessageStore faked at its one method the webhook calls: what it was asked to store. */
function setUp(answers: InboundStored[] = [STORED]) {
  const stored: InboundSms[] = [];
  const messages = {
    storeInbound: jest.fn(async (sms: InboundSms) => {
      stored.push(sms);
      return answers[Math.min(stored.length - 1, answers.length - 1)];
    }),
  };
  const queue = { nudge: jest.fn() };
  const useCase = new ReceiveInboundSmsUseCase(
    messages as unknown as MessageStore,
    queue as unknown as JobQueue,
  );
  const verifyWithCurrentRow = jest.fn(async () => CHANNEL);
  const receive = (params: Record<string, string>, channel = CHANNEL) =>
    useCase.execute({
      channel,
      params: { MessageSid: `SM${'1'.repeat(32)}`, From: '+358401234567', ...params },
      trace: { requestId: 'req-1', receivedAt: 1 },
      verifyWithCurrentRow,
    } satisfies SignedInbound);
  return { stored, queue, receive, verifyWithCurrentRow };
}

describe('ReceiveInboundSmsUseCase: what an inbound SMS means, decided before it is stored', () => {
  it('a question asks for an answer: stored with wantsReply, and the workers are woken', async () => {
    const { stored, queue, receive } = setUp();
    await expect(receive({ Body: 'When are you open?' })).resolves.toEqual({
      stored: true,
      replyQueued: true,
      keyword: null,
    });
    expect(stored[0]).toMatchObject({
      wantsReply: true,
      optOut: false,
      optIn: false,
      sender: CHANNEL.phoneNumber,
      preview: 'When are you open?',
      requestId: 'req-1',
    });
    expect(queue.nudge).toHaveBeenCalledTimes(1);
  });

  it('STOP records an opt-out and asks for no answer; START clears it; HELP does neither', async () => {
    const { stored, receive } = setUp([{ ...STORED, replyQueued: false }]);
    await receive({ Body: 'Stop.' });
    await receive({ Body: 'start' });
    await receive({ Body: 'HELP' });
    expect(stored.map(({ optOut, optIn, wantsReply }) => ({ optOut, optIn, wantsReply }))).toEqual([
      { optOut: true, optIn: false, wantsReply: false },
      { optOut: false, optIn: true, wantsReply: false },
      { optOut: false, optIn: false, wantsReply: false },
    ]);
  });

  it("Twilio's OptOutType wins over the words (a Messaging Service's own keywords)", async () => {
    const { stored, receive } = setUp();
    await receive({ Body: 'arrêt', OptOutType: 'STOP' });
    expect(stored[0]).toMatchObject({ optOut: true, wantsReply: false });
  });

  it('opt-outs of a number in a Messaging Service belong to the service', async () => {
    const { stored, receive } = setUp();
    await receive(
      { Body: 'STOP', MessagingServiceSid: SERVICE_SID },
      { ...CHANNEL, messagingServiceSid: SERVICE_SID },
    );
    expect(stored[0]).toMatchObject({ sender: SERVICE_SID, optOut: true });
  });

  it('a sender we cannot text back is stored, never answered', async () => {
    const { stored, receive } = setUp();
    await receive({ Body: 'Your code is 1234', From: 'ACMEBANK' });
    await receive({ Body: 'echo', From: CHANNEL.phoneNumber });
    expect(stored.map((sms) => sms.wantsReply)).toEqual([false, false]);
  });

  it('attachments only: counted, previewed as dropped, and answered', async () => {
    const { stored, receive } = setUp();
    await receive({ Body: '', NumMedia: '2' });
    expect(stored[0]).toMatchObject({
      mediaDropped: 2,
      preview: '[2 attachment(s) dropped]',
      wantsReply: true,
    });
  });

  it('a channel changed behind the cache: verified again with the current row, stored once more', async () => {
    const { stored, receive, verifyWithCurrentRow } = setUp([
      { channelStillAsRead: false, stored: false, replyQueued: false },
      STORED,
    ]);
    const moved = { ...CHANNEL, messagingServiceSid: SERVICE_SID, authTokenEncrypted: 'v1.new' };
    verifyWithCurrentRow.mockResolvedValueOnce(moved);
    await expect(receive({ Body: 'Hi' })).resolves.toMatchObject({ stored: true });
    expect(verifyWithCurrentRow).toHaveBeenCalledTimes(1);
    expect(stored[1]).toMatchObject({ channel: moved, sender: SERVICE_SID });
  });

  it('changed twice within one request: 503, so Twilio may try again', async () => {
    const stale = { channelStillAsRead: false, stored: false, replyQueued: false };
    const { receive } = setUp([stale, stale]);
    await expect(receive({ Body: 'Hi' })).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
  });

  it('a missing MessageSid or From is refused before anything is stored', async () => {
    const { stored, receive } = setUp();
    const refused = await receive({ MessageSid: 'nope', Body: 'Hi' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).details).toEqual([
      { field: 'MessageSid', message: 'missing or malformed' },
    ]);
    expect(stored).toHaveLength(0);
  });
});
