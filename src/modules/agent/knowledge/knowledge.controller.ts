import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentOrganization } from '../../../common/auth/auth.decorators';
import { ApiDashboardErrors, JSON_BODY_ERRORS } from '../../../common/errors/api-errors.decorator';
import { Idempotent, IDEMPOTENCY_ERRORS } from '../../../common/idempotency/idempotent.decorator';
import { Organization } from '../../organizations';
import { PageQuery } from '../../../common/pagination/page';
import {
  CreateKnowledgeDocumentDto,
  KnowledgeDocumentPage,
  KnowledgeDocumentResponse,
} from '../dto/knowledge.dto';
import { UuidParam } from '../../../common/validation/uuid-param.pipe';
import { KnowledgeService } from './knowledge.service';

@ApiTags('knowledge')
@ApiBearerAuth()
@Controller('chatbots/:chatbotId/knowledge')
export class KnowledgeController {
  constructor(private readonly knowledge: KnowledgeService) {}

  @Post()
  @ApiOperation({
    operationId: 'addKnowledgeDocument',
    summary: 'Add a knowledge document',
    description:
      'Split into passages and indexed for full-text search at once; the agent uses it from the next message. JSON bodies up to 100 kB.',
  })
  @ApiCreatedResponse({
    type: KnowledgeDocumentResponse,
    description: 'Added and indexed; the document without its content',
  })
  @ApiDashboardErrors(...JSON_BODY_ERRORS, 'NOT_FOUND', ...IDEMPOTENCY_ERRORS)
  @Idempotent()
  async add(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
    @Body() dto: CreateKnowledgeDocumentDto,
  ): Promise<KnowledgeDocumentResponse> {
    return KnowledgeDocumentResponse.of(await this.knowledge.add(org.id, chatbotId, dto));
  }

  @Get()
  @ApiOperation({
    operationId: 'listKnowledgeDocuments',
    summary: "A chatbot's knowledge documents, oldest first (without their content)",
    description:
      'Cursor-paginated: pass the `nextCursor` of one page as `cursor` to get the next; it is null on the last page.',
  })
  @ApiOkResponse({ type: KnowledgeDocumentPage, description: 'A page of knowledge documents' })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND')
  list(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
    @Query() query: PageQuery,
  ): Promise<KnowledgeDocumentPage> {
    return this.knowledge.list(org.id, chatbotId, query);
  }

  @Delete(':documentId')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteKnowledgeDocument',
    summary: 'Delete a knowledge document and its passages',
  })
  @ApiNoContentResponse({ description: 'Deleted, with its passages' })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND')
  remove(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
    @Param('documentId', UuidParam('documentId')) documentId: string,
  ): Promise<void> {
    return this.knowledge.remove(org.id, chatbotId, documentId);
  }
}
