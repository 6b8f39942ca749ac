import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentOrganization } from '../../common/auth/auth.decorators';
import { requestTrace } from '../../common/logging/request-id';
import { ApiDashboardErrors, JSON_BODY_ERRORS } from '../../common/errors/api-errors.decorator';
import { Idempotent, IDEMPOTENCY_ERRORS } from '../../common/idempotency/idempotent.decorator';
import { PageQuery } from '../../common/pagination/page';
import { UuidParam } from '../../common/validation/uuid-param.pipe';
import { Organization } from '../organizations';
import {
  ConversationDetail,
  ConversationPage,
  ConversationResponse,
  ListConversationsQuery,
  MAX_MESSAGES,
  MessagePage,
} from './dto/conversation.dto';
import { MessageResponse, SendAgentReplyDto } from './dto/message.dto';
import { InboxService } from './inbox.service';
import { SendAgentReplyUseCase } from './send-agent-reply.use-case';

@ApiTags('inbox')
@ApiBearerAuth()
@Controller()
export class ConversationsController {
  constructor(
    private readonly inbox: InboxService,
    private readonly sendAgentReply: SendAgentReplyUseCase,
  ) {}

  @Get('chatbots/:chatbotId/conversations')
  @ApiOperation({
    operationId: 'listConversations',
    summary: "A chatbot's conversations, latest activity first",
    description:
      'Cursor-paginated: pass the `nextCursor` of one page as `cursor` to get the next; it is null on the last page.',
  })
  @ApiOkResponse({ type: ConversationPage, description: 'A page of conversations' })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND')
  list(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
    @Query() query: ListConversationsQuery,
  ): Promise<ConversationPage> {
    return this.inbox.list(org.id, chatbotId, query);
  }

  @Get('conversations/:conversationId')
  @ApiOperation({
    operationId: 'getConversation',
    summary: 'A conversation with its messages, oldest first',
    description: `At most the latest ${MAX_MESSAGES} messages; \`hasEarlierMessages\` says whether older ones were left out (read them with GET /api/conversations/{conversationId}/messages).`,
  })
  @ApiOkResponse({
    type: ConversationDetail,
    description: 'The conversation with its latest messages',
  })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND')
  get(
    @CurrentOrganization() org: Organization,
    @Param('conversationId', UuidParam('conversationId')) conversationId: string,
  ): Promise<ConversationDetail> {
    return this.inbox.get(org.id, conversationId);
  }

  @Get('conversations/:conversationId/messages')
  @ApiOperation({
    operationId: 'listConversationMessages',
    summary: "A conversation's messages, newest first",
    description:
      'Cursor-paginated: pass the `nextCursor` of one page as `cursor` to get older messages; it is null on the oldest page.',
  })
  @ApiOkResponse({ type: MessagePage, description: 'A page of messages' })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND')
  listMessages(
    @CurrentOrganization() org: Organization,
    @Param('conversationId', UuidParam('conversationId')) conversationId: string,
    @Query() query: PageQuery,
  ): Promise<MessagePage> {
    return this.inbox.listMessages(org.id, conversationId, query);
  }

  @Post('conversations/:conversationId/escalate')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'escalateConversation',
    summary: 'Hand the conversation to a person: status `human`, the bot stops answering',
    description: 'Idempotent.',
  })
  @ApiOkResponse({
    type: ConversationResponse,
    description: 'The conversation, status `human`',
  })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND', ...IDEMPOTENCY_ERRORS)
  @Idempotent()
  escalate(
    @CurrentOrganization() org: Organization,
    @Param('conversationId', UuidParam('conversationId')) conversationId: string,
  ): Promise<ConversationResponse> {
    return this.inbox.setStatus(org.id, conversationId, 'human');
  }

  @Post('conversations/:conversationId/release')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'releaseConversation',
    summary: 'Give the conversation back to the bot: status `bot`',
    description: 'Idempotent. The bot answers the next message the customer sends.',
  })
  @ApiOkResponse({
    type: ConversationResponse,
    description: 'The conversation, status `bot`',
  })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND', ...IDEMPOTENCY_ERRORS)
  @Idempotent()
  release(
    @CurrentOrganization() org: Organization,
    @Param('conversationId', UuidParam('conversationId')) conversationId: string,
  ): Promise<ConversationResponse> {
    return this.inbox.setStatus(org.id, conversationId, 'bot');
  }

  @Post('conversations/:conversationId/messages')
  @ApiOperation({
    operationId: 'sendAgentMessage',
    summary: "A person's reply, sent as SMS from the channel's number",
    description:
      'Stored as `pending` and sent in the background; `deliveryStatus` then follows Twilio. ' +
      'Replying takes the conversation over: its status becomes `human` and the bot stays silent until released.',
  })
  @ApiCreatedResponse({
    type: MessageResponse,
    description: 'Stored and queued for sending; the new message, `pending`',
  })
  @ApiDashboardErrors(
    ...JSON_BODY_ERRORS,
    'NOT_FOUND',
    'CHANNEL_NOT_CONNECTED',
    'CONTACT_OPTED_OUT',
    'CONTACT_NOT_REPLYABLE',
    ...IDEMPOTENCY_ERRORS,
  )
  @Idempotent()
  reply(
    @CurrentOrganization() org: Organization,
    @Param('conversationId', UuidParam('conversationId')) conversationId: string,
    @Body() dto: SendAgentReplyDto,
    @Req() request: Request,
  ): Promise<MessageResponse> {
    const { requestId } = requestTrace(request);
    return this.sendAgentReply.execute(org.id, conversationId, dto.body, requestId);
  }
}
