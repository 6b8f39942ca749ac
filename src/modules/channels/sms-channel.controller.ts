import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentOrganization } from '../../common/auth/auth.decorators';
import { ApiDashboardErrors, JSON_BODY_ERRORS } from '../../common/errors/api-errors.decorator';
import { Idempotent, IDEMPOTENCY_ERRORS } from '../../common/idempotency/idempotent.decorator';
import { ChatbotsService } from '../agent';
import { UuidParam } from '../../common/validation/uuid-param.pipe';
import { Organization } from '../organizations';
import { AuthTokenRotationUseCase } from './auth-token-rotation.use-case';
import { ChannelHealthService } from './channel-health.service';
import { ConnectSmsChannelUseCase } from './connect-sms-channel.use-case';
import { DisconnectSmsChannelUseCase } from './disconnect-sms-channel.use-case';
import { ConnectSmsChannelDto, RotateAuthTokenDto, SmsChannelStatus } from './dto/sms-channel.dto';
import { RepairSmsWebhookUseCase } from './repair-sms-webhook.use-case';
import { SmsChannelStore } from './sms-channel.store';
import { SmsWebhookUrls } from './sms-webhook-urls';

@ApiTags('sms channel')
@ApiBearerAuth()
@Controller('chatbots/:chatbotId/channels/sms')
export class SmsChannelController {
  constructor(
    private readonly connectChannel: ConnectSmsChannelUseCase,
    private readonly disconnectChannel: DisconnectSmsChannelUseCase,
    private readonly store: SmsChannelStore,
    private readonly urls: SmsWebhookUrls,
    private readonly chatbots: ChatbotsService,
    private readonly health: ChannelHealthService,
    private readonly rotation: AuthTokenRotationUseCase,
    private readonly repair: RepairSmsWebhookUseCase,
  ) {}

  @Put()
  @ApiOperation({
    operationId: 'connectSmsChannel',
    summary: "Connect the chatbot to the customer's own Twilio number",
    description:
      'Validates the formats, then probes Twilio (the account, the number among its IncomingPhoneNumbers, SMS capability) before anything is stored; the Auth Token is stored AES-256-GCM encrypted and never returned. ' +
      'With `configureWebhook: true` the number\'s "A message comes in" URL is set to `webhookUrl` (HTTP POST); otherwise paste `webhookUrl` in the Twilio Console. Connecting again replaces the stored credentials. ' +
      "A number in a Messaging Service (A2P 10DLC) is found by listing the account's services (or checked against `messagingServiceSid`): replies are sent through the service, opt-outs apply to the whole service, and when the service has its own inbound settings `configureWebhook` sets the service's Incoming Messages URL instead, since Twilio ignores the number's; a service that sends other numbers' messages elsewhere answers 409 `MESSAGING_SERVICE_IN_USE` unless `configureWebhook: \"service\"`.",
  })
  @ApiOkResponse({ type: SmsChannelStatus, description: 'Connected; the status of the channel' })
  @ApiDashboardErrors(
    ...JSON_BODY_ERRORS,
    'NOT_FOUND',
    'PLAN_UPGRADE_REQUIRED',
    'NUMBER_ALREADY_CONNECTED',
    'TWILIO_CREDENTIALS_REJECTED',
    'TWILIO_NUMBER_NOT_OWNED',
    'TWILIO_NUMBER_NOT_SMS_CAPABLE',
    'TWILIO_MESSAGING_SERVICE_NOT_FOUND',
    'TWILIO_NUMBER_NOT_IN_MESSAGING_SERVICE',
    'MESSAGING_SERVICE_IN_USE',
    'TWILIO_ACCOUNT_NOT_ACTIVE',
    'TWILIO_REQUEST_REJECTED',
    'TWILIO_UNREACHABLE',
    ...IDEMPOTENCY_ERRORS,
  )
  @Idempotent()
  async connect(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
    @Body() dto: ConnectSmsChannelDto,
  ): Promise<SmsChannelStatus> {
    return SmsChannelStatus.of(
      await this.connectChannel.execute(org, chatbotId, dto),
      this.urls.inbound,
    );
  }

  @Get()
  @ApiOperation({
    operationId: 'getSmsChannelStatus',
    summary: "The SMS channel's status",
    description:
      '`connected: false` and nulls when not connected. `lastError` is the reason of the latest failed delivery (the Twilio error code and a readable message). ' +
      '`health` is what Twilio said when last asked: the credentials, whether the number is still on the account, and where its incoming messages go. Twilio is asked at most once a minute per channel (the answer is shared by every instance); a slow or unreachable Twilio never slows this call down: it then answers the last check, or `unknown`.',
  })
  @ApiOkResponse({
    type: SmsChannelStatus,
    description: 'The status of the channel, connected or not',
  })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND')
  async status(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
  ): Promise<SmsChannelStatus> {
    await this.chatbots.get(org.id, chatbotId);
    const channel = await this.store.findForChatbot(org.id, chatbotId);
    return SmsChannelStatus.of(
      channel,
      this.urls.inbound,
      channel && (await this.health.current(channel)),
    );
  }

  @Post('webhook')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'repairSmsWebhook',
    summary: "Point the number's incoming messages at us again",
    description:
      'Sets the inbound URL Twilio reads for the number to `webhookUrl` (HTTP POST) in the customer\'s Twilio account — the number\'s "A message comes in" URL, or its Messaging Service\'s Incoming Messages URL when the service does not defer to its numbers — then checks the channel afresh and answers its status. For when `health.inbound` is `elsewhere` or `unset`. A number no longer on the account answers 409 `TWILIO_NUMBER_GONE`; a service that sends other numbers\' messages elsewhere is not taken over (409 `MESSAGING_SERVICE_IN_USE`: connect again with `configureWebhook: "service"` to take it over).',
  })
  @ApiOkResponse({ type: SmsChannelStatus, description: 'Repaired; the fresh status' })
  @ApiDashboardErrors(
    'VALIDATION_FAILED',
    'NOT_FOUND',
    'TWILIO_NUMBER_GONE',
    'MESSAGING_SERVICE_IN_USE',
    'TWILIO_CREDENTIALS_REJECTED',
    'TWILIO_REQUEST_REJECTED',
    'TWILIO_UNREACHABLE',
  )
  async repairWebhook(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
  ): Promise<SmsChannelStatus> {
    return SmsChannelStatus.of(await this.repair.execute(org.id, chatbotId), this.urls.inbound);
  }

  @Post('auth-token')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'rotateSmsAuthToken',
    summary: 'Give us the new Auth Token while rotating it in Twilio',
    description:
      'Between creating a secondary Auth Token in Twilio and promoting it: the token is probed against Twilio first (422 `TWILIO_CREDENTIALS_REJECTED` if Twilio refuses it, nothing stored), then stored encrypted beside the current one. Webhooks signed by either are accepted; the first webhook signed by the new one (Twilio signs with the primary, so: after the promotion), or the first REST call the old one fails, makes the new one the only one and erases the old. Never returned.',
  })
  @ApiOkResponse({
    type: SmsChannelStatus,
    description: 'Stored beside the current one (`authTokenPending: true`), or already promoted',
  })
  @ApiDashboardErrors(
    ...JSON_BODY_ERRORS,
    'NOT_FOUND',
    'TWILIO_CREDENTIALS_REJECTED',
    'TWILIO_REQUEST_REJECTED',
    'TWILIO_UNREACHABLE',
  )
  async rotateAuthToken(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
    @Body() dto: RotateAuthTokenDto,
  ): Promise<SmsChannelStatus> {
    return SmsChannelStatus.of(
      await this.rotation.start(org.id, chatbotId, dto.authToken),
      this.urls.inbound,
    );
  }

  @Delete('auth-token')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'cancelSmsAuthToken',
    summary: 'Cancel a pending Auth Token',
    description:
      'Forgets the token given with POST …/auth-token before it took over; the current one stays.',
  })
  @ApiNoContentResponse({ description: 'The pending token is erased' })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND')
  async cancelAuthToken(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
  ): Promise<void> {
    await this.rotation.cancel(org.id, chatbotId);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'disconnectSmsChannel',
    summary: 'Disconnect: the stored credentials are deleted at once',
    description:
      "Later webhooks for the number are refused (403). If we set the inbound URL (the number's SmsUrl, or its Messaging Service's) and it still points at us, the URL that was there before is put back (a service still used by another connected number is left as it is).",
  })
  @ApiNoContentResponse({ description: 'Disconnected; the stored credentials are gone' })
  @ApiDashboardErrors('VALIDATION_FAILED', 'NOT_FOUND')
  async disconnect(
    @CurrentOrganization() org: Organization,
    @Param('chatbotId', UuidParam('chatbotId')) chatbotId: string,
  ): Promise<void> {
    await this.disconnectChannel.execute(org.id, chatbotId);
  }
}
