import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAIError,
} from 'openai';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { OPENAI_MAX_RETRIES, type AppConfig } from '../../../config/app-config';
import type { AgentProviderAnswer, AgentProviderRequest } from '../agent-provider';
import { AgentProvider } from '../agent-provider';
import { AgentError } from '../agent.errors';
import { buildChatMessages } from './openai-messages';

const PROVIDER = 'openai';
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

const isTransientStatus = (status: number): boolean =>
  status === 408 || status === 409 || status === 429 || status >= 500;

/** SDK failures as AgentError; anything else is a bug and propagates unchanged. */
export function toAgentError(error: unknown): unknown {
  if (error instanceof AgentError) return error;
  if (error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError) {
    return new AgentError('The model API timed out', {
      transient: true,
      provider: PROVIDER,
      cause: error,
    });
  }
  if (error instanceof APIConnectionError) {
    return new AgentError("Couldn't reach the model API", {
      transient: true,
      provider: PROVIDER,
      cause: error,
    });
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    return new AgentError(`The model API answered ${error.status}`, {
      transient: isTransientStatus(error.status),
      provider: PROVIDER,
      status: error.status,
      cause: error,
    });
  }
  if (error instanceof OpenAIError) {
    return new AgentError('The model API request failed', {
      transient: false,
      provider: PROVIDER,
      cause: error,
    });
  }
  return error;
}

/** Any OpenAI-compatible chat completions API: OpenAI, Azure-style gateways, Ollama, vLLM... */
export class OpenAiAgentProvider extends AgentProvider {
  readonly name = PROVIDER;
  private readonly client: OpenAI;
  /**
   * The SDK's timeout covers each attempt only until response headers arrive, and it honours
   * Retry-After; config.deadlineMs bounds the whole call so a reply never hangs (and the reply
   * job's expiry is checked against it at start).
   */
  constructor(private readonly config: AppConfig['openai']) {
    super();
    this.client = new OpenAI({
      // Local servers (Ollama, vLLM) ignore the key, but the SDK requires one.
      apiKey: config.apiKey ?? 'unused',
      baseURL: config.baseUrl ?? DEFAULT_BASE_URL,
      timeout: config.timeoutMs,
      maxRetries: OPENAI_MAX_RETRIES,
    });
  }

  async answer(request: AgentProviderRequest): Promise<AgentProviderAnswer> {
    const completion = await this.complete(request);
    const choice = Array.isArray(completion?.choices) ? completion.choices[0] : undefined;
    if (!choice) {
      throw new AgentError('The model API returned no choices', {
        transient: true,
        provider: PROVIDER,
      });
    }
    // Every passage in the prompt may have informed the answer.
    return {
      text: typeof choice.message?.content === 'string' ? choice.message.content : '',
      usedPassages: request.knowledge.passages.map(({ documentId, passageId }) => ({
        documentId,
        passageId,
      })),
    };
  }

  private async complete(request: AgentProviderRequest): Promise<ChatCompletion> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new AgentError('The model API timed out', { transient: true, provider: PROVIDER }));
      }, this.config.deadlineMs);
    });
    try {
      return await Promise.race([
        this.client.chat.completions.create(
          { model: this.config.model, messages: buildChatMessages(request) },
          { signal: controller.signal },
        ),
        deadline,
      ]);
    } catch (error) {
      throw toAgentError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
