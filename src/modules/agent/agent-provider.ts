/**
 * The seam between AgentService and the ways of producing an answer: the offline `local`
 * provider and any OpenAI-compatible chat completions API. AGENT_PROVIDER picks one at boot.
 */
import type { Chatbot } from './chatbot.entity';
import type { KnowledgeSearchResult } from './knowledge/passage-index';

export type ConversationAuthor = 'customer' | 'bot' | 'agent';

/** One earlier message of the conversation: the customer, the bot, or a human agent. */
export interface ConversationTurn {
  author: ConversationAuthor;
  text: string;
}

/** `plain` for SMS (no markdown), `markdown` for the web widget and the dashboard. */
export type ReplyFormat = 'plain' | 'markdown';

export interface UsedPassage {
  documentId: string;
  passageId: string;
}

export interface AgentProviderRequest {
  chatbot: Chatbot;
  /** Oldest first, without the message being answered. */
  history: ConversationTurn[];
  message: string;
  format: ReplyFormat;
  maxChars?: number;
  /** Retrieved once by AgentService, whatever the provider. */
  knowledge: KnowledgeSearchResult;
}

export interface AgentProviderAnswer {
  /** Empty when the provider has nothing to say; AgentService then sends the fallback message. */
  text: string;
  usedPassages: UsedPassage[];
}

export abstract class AgentProvider {
  abstract readonly name: string;

  /** Rejects only with AgentError for provider failures. */
  abstract answer(request: AgentProviderRequest): Promise<AgentProviderAnswer>;

  /** Epoch ms before which a call would only wait (the API asked us to slow down); 0: now. */
  pausedUntil(): number {
    return 0;
  }
}
