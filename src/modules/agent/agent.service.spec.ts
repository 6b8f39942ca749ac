import type { AgentProviderAnswer, AgentProviderRequest } from './agent-provider';
import type { MetricsService } from '../../common/metrics/metrics.service';
import { AgentProvider } from './agent-provider';
import { AgentError } from './agent.errors';
import { AgentService, PASSAGES_PER_REPLY } from './agent.service';
import type { Chatbot } from './chatbot.entity';
import type { KnowledgeSearchResult, PassageIndex } from './knowledge/passage-index';

const chatbot = {
  id: 'c1',
  language: 'english',
  systemPrompt: '',
  fallbackMessage: "Sorry, I **don't** know that yet.",
} as Chatbot;

const knowledge: KnowledgeSearchResult = {
  terms: [{ lexeme: 'reset', prefix: false }],
  passages: [
    {
      passageId: 'p1',
      documentId: 'd1',
      documentTitle: 'Accounts',
      position: 0,
      content: 'Reset it.',
      matchedTerms: 1,
      rank: 0.1,
    },
  ],
};

class FakeProvider extends AgentProvider {
  readonly name = 'fake';
  requests: AgentProviderRequest[] = [];
  constructor(private readonly respond: () => Promise<AgentProviderAnswer>) {
    super();
  }
  answer(request: AgentProviderRequest): Promise<AgentProviderAnswer> {
    this.requests.push(request);
    return this.respond();
  }
}

function setup(respond: () => Promise<AgentProviderAnswer>) {
  const search = jest.fn().mockResolvedValue(knowledge);
  const provider = new FakeProvider(respond);
  const metrics = { modelCall: <T>(_provider: string, call: () => Promise<T>) => call() };
  const service = new AgentService(
    { search } as unknown as PassageIndex,
    provider,
    metrics as unknown as MetricsService,
  );
  return { service, provider, search };
}

const used = [{ documentId: 'd1', passageId: 'p1' }];
const answer = (text: string) => () => Promise.resolve({ text, usedPassages: used });

describe('AgentService.reply', () => {
  it('retrieves knowledge once and hands it to the provider with the conversation', async () => {
    const { service, provider, search } = setup(answer('**Reset** it from settings.'));
    const history = [{ author: 'customer' as const, text: 'Hi' }];
    const reply = await service.reply({ chatbot, conversationHistory: history, message: 'reset?' });
    expect(search).toHaveBeenCalledWith(chatbot, 'reset?', PASSAGES_PER_REPLY);
    expect(provider.requests[0]).toMatchObject({
      history,
      message: 'reset?',
      format: 'markdown',
      knowledge,
    });
    expect(reply).toEqual({ text: '**Reset** it from settings.', usedPassages: used });
  });

  it('makes plain replies SMS-safe: markdown stripped, capped at 1,600 characters by default', async () => {
    const { service, provider } = setup(answer('**Reset** it. ' + 'word '.repeat(500)));
    const reply = await service.reply({
      chatbot,
      conversationHistory: [],
      message: 'reset?',
      format: 'plain',
    });
    expect(provider.requests[0].maxChars).toBe(1600);
    expect(reply.text.startsWith('Reset it.')).toBe(true);
    expect(reply.text.length).toBeLessThanOrEqual(1600);
    expect(reply.text.endsWith('...')).toBe(true);
  });

  it('caps markdown replies only when maxChars is given', async () => {
    const { service } = setup(answer('a '.repeat(100)));
    const reply = await service.reply({
      chatbot,
      conversationHistory: [],
      message: 'x',
      maxChars: 50,
    });
    expect(reply.text.length).toBeLessThanOrEqual(50);
  });

  it.each([
    ['an empty answer', ''],
    ['a blank answer', ' \n '],
    ['an answer of only markup (plain)', '---'],
  ])('sends the fallback message for %s', async (_name, text) => {
    const { service } = setup(answer(text));
    const reply = await service.reply({
      chatbot,
      conversationHistory: [],
      message: 'reset?',
      format: 'plain',
    });
    expect(reply).toEqual({ text: "Sorry, I don't know that yet.", usedPassages: [] });
  });

  it('answers a blank message with the fallback without asking the provider', async () => {
    const { service, provider, search } = setup(answer('unused'));
    const reply = await service.reply({ chatbot, conversationHistory: [], message: '  ' });
    expect(reply.text).toBe("Sorry, I **don't** know that yet.");
    expect(search).not.toHaveBeenCalled();
    expect(provider.requests).toHaveLength(0);
  });

  it('lets AgentError through for the caller to retry or record', async () => {
    const failure = new AgentError('down', { transient: true, provider: 'fake' });
    const { service } = setup(() => Promise.reject(failure));
    await expect(service.reply({ chatbot, conversationHistory: [], message: 'x' })).rejects.toBe(
      failure,
    );
  });

  it('rejects a maxChars that is not a positive integer', async () => {
    const { service } = setup(answer('x'));
    await expect(
      service.reply({ chatbot, conversationHistory: [], message: 'x', maxChars: 0 }),
    ).rejects.toThrow(RangeError);
  });
});
