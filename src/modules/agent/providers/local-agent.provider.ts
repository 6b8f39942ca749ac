import type { AgentProviderAnswer, AgentProviderRequest } from '../agent-provider';
import { AgentProvider } from '../agent-provider';
import { PassageIndex } from '../knowledge/passage-index';
import { splitIntoSentences } from '../knowledge/passage-splitter';
import { composeLocalReply } from './local-reply';

/** Passages whose sentences are considered; the reply quotes at most two of them. */
const CANDIDATE_PASSAGES = 3;

/**
 * Offline and deterministic: answers by quoting the knowledge base (no model, no network).
 * Conversation history and format are not used; AgentService makes the text plain when asked.
 */
export class LocalAgentProvider extends AgentProvider {
  readonly name = 'local';

  constructor(private readonly passageIndex: PassageIndex) {
    super();
  }

  async answer({ chatbot, knowledge }: AgentProviderRequest): Promise<AgentProviderAnswer> {
    const candidates = knowledge.passages.slice(0, CANDIDATE_PASSAGES);
    if (!candidates.length) return { text: '', usedPassages: [] };
    const sentences = candidates.map((passage) => splitIntoSentences(passage.content));
    // One round trip: every sentence analysed with the chatbot's configuration, like the index.
    const lexemes = await this.passageIndex.lexemes(chatbot.language, sentences.flat());
    let next = 0;
    return composeLocalReply(
      knowledge.terms,
      candidates.map((passage, i) => ({
        passageId: passage.passageId,
        documentId: passage.documentId,
        position: passage.position,
        rank: passage.rank,
        sentences: sentences[i].map((text) => ({ text, lexemes: lexemes[next++] })),
      })),
    );
  }
}
