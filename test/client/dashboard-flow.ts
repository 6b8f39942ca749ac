/**
 * The dashboard's main flow, written as the dashboard team writes it: against a client generated
 * from openapi.json by openapi-typescript (./generated/openapi.ts, made by
 * test/dashboard-client.e2e-spec.ts) and called through openapi-fetch. Type-checked against
 * the generated types, so a contract change that would break the dashboard's build fails CI;
 * the same spec then runs it against the real app and the Twilio double.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './generated/openapi';

type Conversation = components['schemas']['ConversationResponse'];
type Message = components['schemas']['MessageResponse'];

export interface TwilioNumber {
  accountSid: string;
  authToken: string;
  phoneNumber: string;
}

export interface FlowResult {
  chatbotId: string;
  conversations: Conversation[];
  reply: Message;
  replayed: Message;
}

/**
 * Create a chatbot, add knowledge, connect SMS, list conversations (after `customerTexts` has
 * had a customer text the number), and send a human reply twice with one Idempotency-Key.
 */
export async function dashboardFlow(
  baseUrl: string,
  apiKey: string,
  twilio: TwilioNumber,
  customerTexts: (phoneNumber: string) => Promise<void>,
  idempotencyKey: string,
): Promise<FlowResult> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });

  const chatbot = await api.POST('/api/chatbots', {
    body: { name: 'Support bot', systemPrompt: 'Answer briefly.', language: 'english' },
  });
  if (!chatbot.data) throw new Error(`createChatbot: ${chatbot.error?.code}`);
  const chatbotId: string = chatbot.data.id;

  const knowledge = await api.POST('/api/chatbots/{chatbotId}/knowledge', {
    params: { path: { chatbotId } },
    body: { title: 'Shipping', content: 'We ship to every city in Finland within two days.' },
  });
  if (!knowledge.data) throw new Error(`addKnowledgeDocument: ${knowledge.error?.code}`);
  const passages: number = knowledge.data.passages;
  if (passages < 1) throw new Error('addKnowledgeDocument: no passages');

  const channel = await api.PUT('/api/chatbots/{chatbotId}/channels/sms', {
    params: { path: { chatbotId } },
    body: { ...twilio, configureWebhook: true },
  });
  if (!channel.data) throw new Error(`connectSmsChannel: ${channel.error?.code}`);
  const connected: boolean = channel.data.connected;
  if (!connected) throw new Error('connectSmsChannel: not connected');

  await customerTexts(twilio.phoneNumber);

  const page = await api.GET('/api/chatbots/{chatbotId}/conversations', {
    params: { path: { chatbotId }, query: { limit: 20 } },
  });
  if (!page.data) throw new Error(`listConversations: ${page.error?.code}`);
  const conversations: Conversation[] = page.data.items;
  const nextCursor: string | null = page.data.nextCursor;
  if (!conversations.length || nextCursor !== null) throw new Error('listConversations: page');

  const send = () =>
    api.POST('/api/conversations/{conversationId}/messages', {
      params: {
        path: { conversationId: conversations[0].id },
        header: { 'Idempotency-Key': idempotencyKey },
      },
      body: { body: 'Hi, this is Anna from support: your parcel ships today.' },
    });
  const first = await send();
  if (!first.data) throw new Error(`sendAgentMessage: ${first.error?.code}`);
  const again = await send();
  if (!again.data) throw new Error(`sendAgentMessage (retry): ${again.error?.code}`);
  const status: Message['deliveryStatus'] = first.data.deliveryStatus;
  if (status !== 'pending') throw new Error(`sendAgentMessage: ${status}`);
  return { chatbotId, conversations, reply: first.data, replayed: again.data };
}
