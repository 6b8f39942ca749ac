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
import { ProviderGate, retryAfterMs } from './provider-gate';

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
    const wait = retryAfterMs(error.headers);
    return new AgentError(`The model API answered ${error.status}`, {
      transient: isTransientStatus(error.status),
      provider: PROVIDER,
      status: error.status,
      cause: error,
      retryAfterSeconds: wait === null ? undefined : Math.ceil(wait / 1_000),
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

/** Pause before the second attempt of a call that failed without closing the gate (a timeout). */
const RETRY_PAUSE_MS = 500;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });

/** Any OpenAI-compatible chat completions API: OpenAI, Azure-style gateways, Ollama, vLLM... */
export class OpenAiAgentProvider extends AgentProvider {
  readonly name = PROVIDER;
  private readonly client: OpenAI;
  /**
   * The SDK's timeout covers each attempt only until response headers arrive; config.deadlineMs
   * bounds the whole call, gate waits and the second attempt included, so a reply never hangs
   * (and the reply job's expiry is checked against it at start). The second attempt is ours,
   * not the SDK's (maxRetries 0), so that it too waits at the gate.
   */
  constructor(
    private readonly config: AppConfig['openai'],
    private readonly gate = new ProviderGate(),
  ) {
    super();
    this.client = new OpenAI({
      // Local servers (Ollama, vLLM) ignore the key, but the SDK requires one.
      apiKey: config.apiKey ?? 'unused',
      baseURL: config.baseUrl ?? DEFAULT_BASE_URL,
      timeout: config.timeoutMs,
      maxRetries: 0,
    });
  }

  override pausedUntil(): number {
    return this.gate.openAt;
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
    const deadlineAt = Date.now() + this.config.deadlineMs;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new AgentError('The model API timed out', { transient: true, provider: PROVIDER }));
      }, this.config.deadlineMs);
    });
    try {
      return await Promise.race([this.attempts(request, deadlineAt, controller.signal), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async attempts(
    request: AgentProviderRequest,
    deadlineAt: number,
    signal: AbortSignal,
  ): Promise<ChatCompletion> {
    for (let attempt = 0; ; attempt += 1) {
      await this.passGate(deadlineAt, signal, attempt > 0);
      try {
        const completion = await this.client.chat.completions.create(
          { model: this.config.model, messages: buildChatMessages(request) },
          { signal },
        );
        this.gate.succeeded();
        return completion;
      } catch (error) {
        const failure = toAgentError(error);
        if (!(failure instanceof AgentError)) throw failure;
        if (failure.status === 429) {
          this.gate.throttled(
            failure.retryAfterSeconds === undefined ? null : failure.retryAfterSeconds * 1_000,
          );
        } else if (failure.transient && !isTimeout(error)) {
          this.gate.failed();
        }
        if (!failure.transient || attempt >= OPENAI_MAX_RETRIES || signal.aborted) throw failure;
      }
    }
  }

  /**
   * Waits for the gate if a call could still follow within the deadline; otherwise gives up at
   * once without calling, and the job comes back when the gate opens.
   */
  private async passGate(deadlineAt: number, signal: AbortSignal, retry: boolean): Promise<void> {
    const now = Date.now();
    const wait = Math.max(
      this.gate.openAt - now,
      retry ? RETRY_PAUSE_MS * (0.5 + Math.random()) : 0,
    );
    if (wait <= 0) return;
    if (now + wait + this.config.timeoutMs > deadlineAt && this.gate.openAt > now) {
      const seconds = Math.ceil((this.gate.openAt - now) / 1_000);
      throw new AgentError('The model API asked us to wait', {
        transient: true,
        provider: PROVIDER,
        retryAfterSeconds: seconds,
        ...(retry ? {} : { postponeSeconds: seconds }),
      });
    }
    await sleep(wait, signal);
  }
}

const isTimeout = (error: unknown): boolean =>
  error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError;
