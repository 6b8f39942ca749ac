import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentOrganization } from '../../../common/auth/auth.decorators';
import { Organization } from '../../organizations/organization.entity';
import { CreateKnowledgeDocumentDto, KnowledgeDocumentResponse } from '../dto/knowledge.dto';
import { UuidParam } from '../uuid-param.pipe';
import { KnowledgeService } from './knowledge.service';

@ApiTags('knowledge')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing, unknown or revoked API key' })
@ApiBadRequestResponse({ description: 'VALIDATION_FAILED: a malformed id or body field' })
@ApiNotFoundResponse({ description: 'No such chatbot (or document) in this organization' })
@Controller('chatbots/:chatbotId/knowledge')
export class KnowledgeController {
  constructor(private readonly knowledge: KnowledgeService) {}

  @Post()
  @ApiCreatedResponse({ type: KnowledgeDocumentResponse })
  @ApiPayloadTooLargeResponse({ description: 'PAYLOAD_TOO_LARGE: request body over 100 kB' })
  async add(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
    @Body() dto: CreateKnowledgeDocumentDto,
  ): Promise<KnowledgeDocumentResponse> {
    return KnowledgeDocumentResponse.of(await this.knowledge.add(org.id, chatbotId, dto));
  }

  @Get()
  @ApiOkResponse({ type: [KnowledgeDocumentResponse] })
  async list(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
  ): Promise<KnowledgeDocumentResponse[]> {
    return (await this.knowledge.list(org.id, chatbotId)).map(KnowledgeDocumentResponse.of);
  }

  @Delete(':documentId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted, with its passages' })
  remove(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
    @Param('documentId', UuidParam('documentId')) documentId: string,
  ): Promise<void> {
    return this.knowledge.remove(org.id, chatbotId, documentId);
  }
}
