import type { Transaction, Transactions } from '../../database/transactions';
import type { JobQueue } from '../../queue/job-queue';
import type { SmsChannel, SmsChannelStore } from '../channels';
import type { SmsOptOutStore } from '../opt-outs';
import type { Conversation } from './conversation.entity';
import type { ConversationStore } from './conversation.store';
import type { MessageStore } from './message.store';
import { agentReplyRefusal, SendAgentReplyUseCase } from './send-agent-reply.use-case';

const CUSTOMER = '+358401234567';
const CONVERSATION = {
  id: 'conv-1',
  chatbotId: 'bot-1',
  channelId: 'channel-1',
  customerNumber: CUSTOMER,
} as Conversation;
const CHANNEL = { phoneNumber: '+15005550006', messagingServiceSid: null } as SmsChannel;

describe('agentReplyRefusal: may a person text this customer from this conversation', () => {
  it('yes, from the connected number to a customer who did not opt out', () => {
    expect(agentReplyRefusal(CONVERSATION, CHANNEL, false)).toBeNull();
  });

  it('no: disconnected, not textable, or opted out, in that order', () => {
    expect(agentReplyRefusal(CONVERSATION, null, true)?.code).toBe('CHANNEL_NOT_CONNECTED');
    expect(agentReplyRefusal({ customerNumber: 'ACMEBANK' }, CHANNEL, true)?.code).toBe(
      'CONTACT_NOT_REPLYABLE',
    );
    expect(agentReplyRefusal(CONVERSATION, CHANNEL, true)?.code).toBe('CONTACT_OPTED_OUT');
  });
});

describe('SendAgentReplyUseCase', () => {
  function setUp(found: { conversation: Conversation | null; optedOut?: boolean }) {
    const tx = {} as Transaction;
    const calls: string[] = [];
    const conversations = {
      lockForAgentReply: jest.fn(async () => found.conversation),
    };
    const channels = { lockForAgentReply: jest.fn(async () => CHANNEL) };
    const optOuts = {
      isOptedOut: jest.fn(async (sender: string, customer: string, inTx: Transaction) => {
        expect([sender, customer, inTx]).toEqual([CHANNEL.phoneNumber, CUSTOMER, tx]);
        return found.optedOut ?? false;
      }),
    };
    const messages = {
      storeAgentReply: jest.fn(async () => {
        calls.push('store');
        return { id: 'msg-1', body: 'Hi', deliveryStatus: 'pending' };
      }),
    };
    const queue = {
      sendInTransaction: jest.fn(async () => void calls.push('queue')),
      nudge: jest.fn(() => void calls.push('nudge')),
    };
    const transactions = {
      run: jest.fn(async (work: (tx: Transaction) => Promise<unknown>) => {
        const result = await work(tx);
        calls.push('commit');
        return result;
      }),
    };
    const useCase = new SendAgentReplyUseCase(
      transactions as unknown as Transactions,
      conversations as unknown as ConversationStore,
      messages as unknown as MessageStore,
      channels as unknown as SmsChannelStore,
      optOuts as unknown as SmsOptOutStore,
      queue as unknown as JobQueue,
    );
    return { useCase, calls, messages, queue };
  }

  it('stores the reply and queues its send in one transaction, then wakes the sender', async () => {
    const t = setUp({ conversation: CONVERSATION });
    await expect(t.useCase.execute('org-1', 'conv-1', 'Hi', 'req-1')).resolves.toMatchObject({
      id: 'msg-1',
    });
    expect(t.calls).toEqual(['store', 'queue', 'commit', 'nudge']);
    expect(t.queue.sendInTransaction).toHaveBeenCalledWith(
      {},
      'sms-send',
      { messageId: 'msg-1', organizationId: 'org-1', requestId: 'req-1' },
      'msg-1',
    );
  });

  it('an opted-out customer: 409, nothing stored or queued', async () => {
    const t = setUp({ conversation: CONVERSATION, optedOut: true });
    await expect(t.useCase.execute('org-1', 'conv-1', 'Hi')).rejects.toMatchObject({
      code: 'CONTACT_OPTED_OUT',
    });
    expect(t.calls).toEqual([]);
  });

  it("another organization's conversation (or none) reads as missing", async () => {
    const t = setUp({ conversation: null });
    await expect(t.useCase.execute('org-2', 'conv-1', 'Hi')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'Conversation not found',
    });
    expect(t.calls).toEqual([]);
  });
});
