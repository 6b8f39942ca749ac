import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAIError,
} from 'openai';
import { AgentError } from '../agent.errors';
import type { AgentProviderRequest } from '../agent-provider';
import { OpenAiAgentProvider, toAgentError } from './openai-agent.provider';
import { ProviderGate } from './provider-gate';

const statusError = (status: number): APIError =>
  APIError.generate(status, { error: { message: 'nope' } }, undefined, new Headers());

describe('toAgentError', () => {
  it.each([
    ['a timeout', new APIConnectionTimeoutError()],
    ['an aborted request', new APIUserAbortError()],
    ['a network error', new APIConnectionError({ message: 'ECONNREFUSED' })],
    ['HTTP 500', statusError(500)],
    ['HTTP 503', statusError(503)],
    ['HTTP 429', statusError(429)],
    ['HTTP 408', statusError(408)],
  ])('maps %s to a transient AgentError', (_name, error) => {
    const mapped = toAgentError(error);
    expect(mapped).toBeInstanceOf(AgentError);
    expect(mapped).toMatchObject({ transient: true, provider: 'openai', cause: error });
  });

  it.each([400, 401, 403, 404, 422])('maps HTTP %i to a permanent AgentError', (status) => {
    expect(toAgentError(statusError(status))).toMatchObject({ transient: false, status });
  });

  it("never copies the provider's message (it may echo a masked key)", () => {
    const error = APIError.generate(
      401,
      { error: { message: 'Incorrect API key provided: sk-abc***xyz' } },
      undefined,
      new Headers(),
    );
    expect((toAgentError(error) as AgentError).message).toBe('The model API answered 401');
  });

  it('maps other SDK errors to a permanent AgentError and leaves bugs alone', () => {
    expect(toAgentError(new OpenAIError('bad'))).toMatchObject({ transient: false });
    const bug = new TypeError('x is undefined');
    expect(toAgentError(bug)).toBe(bug);
  });
});

describe('OpenAiAgentProvider at a closed gate', () => {
  const request = {
    chatbot: { systemPrompt: '', name: 'Bot', fallbackMessage: 'x' },
    history: [],
    message: 'hello',
    format: 'plain',
    knowledge: { passages: [] },
  } as unknown as AgentProviderRequest;

  it('gives up without calling when the gate opens after the deadline: the job is postponed', async () => {
    const gate = new ProviderGate();
    gate.throttled(60_000);
    const provider = new OpenAiAgentProvider(
      // Nothing listens on port 9: a call would fail as a connection error, not a postponement.
      {
        apiKey: 'k',
        baseUrl: 'http://127.0.0.1:9/v1',
        model: 'm',
        timeoutMs: 1_000,
        deadlineMs: 3_500,
      },
      gate,
    );
    const failure = await provider.answer(request).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AgentError);
    expect(failure).toMatchObject({ transient: true, postponeSeconds: 60, retryAfterSeconds: 60 });
    expect(provider.pausedUntil()).toBe(gate.openAt);
  });
});
