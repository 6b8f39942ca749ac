import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAIError,
} from 'openai';
import { AgentError } from '../agent.errors';
import { toAgentError } from './openai-agent.provider';

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
