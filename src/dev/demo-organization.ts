/**
 * The first-day experience: on an empty embedded database a demo organization (Starter plan, so
 * the SMS channel is allowed), a chatbot with a small knowledge base and one API key. Used by
 * main.ts on the first `npm start` and by `npm run demo`.
 */
import type { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ChatbotsService } from '../modules/agent/chatbots.service';
import { KnowledgeService } from '../modules/agent/knowledge/knowledge.service';
import { ApiKeysService } from '../modules/organizations/api-keys.service';
import { Organization } from '../modules/organizations/organization.entity';

export interface DemoOrganization {
  organizationId: string;
  chatbotId: string;
  /** Shown once to whoever started the app; stored only as a hash. */
  apiKey: string;
}

export const DEMO_CHATBOT = {
  name: 'Demo support bot',
  systemPrompt: 'You are the friendly support assistant of Demo Shop. Answer briefly.',
  fallbackMessage: "Sorry, I don't know that yet. A person from Demo Shop will follow up.",
};

export const DEMO_KNOWLEDGE = [
  {
    title: 'Opening hours',
    content:
      'We are open Monday to Friday from 9 to 17 and on Saturday from 10 to 14. We are closed on Sundays and public holidays.',
  },
  {
    title: 'Delivery',
    content:
      'Orders placed before 14 are shipped the same day. Delivery within Finland takes 1 to 3 working days and is free over 50 euros.',
  },
  {
    title: 'Returns',
    content:
      'You can return any unused product within 30 days. Print the return label from your order page and drop the parcel at any pick-up point.',
  },
];

/** Creates the demo organization and answers it, or null when the database has organizations. */
export async function seedDemoOrganization(
  app: INestApplicationContext,
): Promise<DemoOrganization | null> {
  const organizations = await app.get(DataSource).getRepository(Organization).count();
  if (organizations > 0) return null;
  const { organizationId, apiKey } = await app
    .get(ApiKeysService)
    .createOrganization('Demo Shop', 'starter');
  const chatbot = await app.get(ChatbotsService).create(organizationId, DEMO_CHATBOT);
  for (const document of DEMO_KNOWLEDGE) {
    await app.get(KnowledgeService).add(organizationId, chatbot.id, document);
  }
  return { organizationId, chatbotId: chatbot.id, apiKey };
}

/** The lines printed once on stdout (never through the logger, which may be shipped elsewhere). */
export function demoOrganizationBanner(demo: DemoOrganization, baseUrl: string): string {
  return [
    '',
    'First start: created a demo organization "Demo Shop" (starter plan) and its chatbot.',
    `  Swagger UI     ${baseUrl}/api/docs   (click "Authorize" and paste the API key)`,
    `  Demo API key   ${demo.apiKey}   (shown this once; stored only as a hash)`,
    `  Organization   ${demo.organizationId}   (npm run cli -- key:create --org … issues another key)`,
    `  Demo chatbot   ${demo.chatbotId}`,
    '  Next, ask the chatbot something:',
    `    curl -s -H "Authorization: Bearer ${demo.apiKey}" -H 'content-type: application/json' \\`,
    `      -d '{"message":"When are you open?"}' ${baseUrl}/api/chatbots/${demo.chatbotId}/agent/reply`,
    '  Or see a whole SMS conversation without a Twilio account: npm run demo',
    '',
  ].join('\n');
}
