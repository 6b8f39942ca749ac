import {
  Body,
  Controller,
  Header,
  HttpCode,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiSecurity,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors } from '../../../common/errors/api-errors.decorator';
import { requestTrace } from '../../../common/logging/request-id';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { STATUS_CALLBACK_ROUTE, WEBHOOK_ROUTE } from '../../../common/sms';
import { STATUS_CALLBACK_MESSAGE_ID } from '../../channels';
import { Public } from '../../../common/auth/auth.decorators';
import { UpdateDeliveryStatusUseCase } from '../delivery/update-delivery-status.use-case';
import { ReceiveInboundSmsUseCase } from '../inbound/receive-inbound-sms.use-case';
import { ChannelNumberField, SignedRequest, TwilioSignatureGuard } from './twilio-signature.guard';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
/**
 * Set by Nest before the handler runs (with the status); the handler ends the response with the
 * TwiML itself: Express's send() (content-type negotiation, an ETag hash, freshness) did nothing
 * Twilio reads, for every SMS.
 */
const TWIML_CONTENT_TYPE = 'text/xml; charset=utf-8';

/** Twilio reads nothing from the answer; `<Response/>` tells it to send no TwiML reply. */
const TwimlOkResponse = () =>
  ApiOkResponse({
    description: 'Accepted (a duplicate MessageSid too): an empty TwiML answer',
    content: { 'text/xml': { schema: { type: 'string' }, example: EMPTY_TWIML } },
  });

/** Where an SMS enters: Twilio's inbound webhook and its delivery status callback. */
@ApiTags('twilio webhooks')
@ApiSecurity({})
@ApiConsumes('application/x-www-form-urlencoded')
@ApiProduces('text/xml')
@ApiHeader({
  name: 'X-Twilio-Signature',
  required: true,
  example: 'wtJbTDZtn3Ql4kFv9rFNfWZHdtA=',
  description:
    "Twilio's HMAC-SHA1 of PUBLIC_BASE_URL + path and the form parameters, keyed with the channel's Auth Token",
})
@ApiErrors(
  'TWILIO_SIGNATURE_INVALID',
  'VALIDATION_FAILED',
  'MALFORMED_BODY',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
)
@Public()
@UseGuards(TwilioSignatureGuard)
@Controller(WEBHOOK_ROUTE)
export class TwilioWebhookController {
  constructor(
    private readonly receiveInbound: ReceiveInboundSmsUseCase,
    private readonly updateDeliveryStatus: UpdateDeliveryStatusUseCase,
    private readonly signature: TwilioSignatureGuard,
    private readonly metrics: MetricsService,
  ) {}

  @Post()
  @ApiOperation({
    operationId: 'receiveTwilioSms',
    summary: "Twilio's inbound message webhook",
    description:
      'Paste `${PUBLIC_BASE_URL}/api/webhooks/twilio/sms` as "A message comes in" (HTTP POST) in the Twilio Console. The message is stored and the reply queued before the 200. ' +
      "Paste the same URL as the Messaging Service's Incoming Messages URL when the number is in a service with its own inbound settings; the channel is still found by `AccountSid` + `To` (a `MessagingServiceSid` other than the channel's is logged, the message still stored). " +
      'An opt-out keyword (or `OptOutType=STOP`) opts `From` out of this number (of its whole Messaging Service when it is in one), whichever chatbot it is connected to, until an opt-in keyword; nobody texts an opted-out person, nor a short code, an alphanumeric sender or the number itself (those messages are stored, not answered). ' +
      '403 `TWILIO_SIGNATURE_INVALID` when the signature is missing or wrong, when `PUBLIC_BASE_URL` is not the URL Twilio posts to (behind a proxy), or when no channel is connected for `To`: nothing is stored. ' +
      '429 `RATE_LIMITED` (with Retry-After) only for an address whose requests keep failing verification; a correctly signed request is never refused for rate reasons. ' +
      "503: the database is unavailable, or this number's stored Auth Token cannot be decrypted (reported to Sentry); nothing was stored, Twilio may retry.",
  })
  @ApiBody({ schema: { $ref: getSchemaPath('TwilioInboundSms') } })
  @TwimlOkResponse()
  @HttpCode(200)
  @Header('Content-Type', TWIML_CONTENT_TYPE)
  @ChannelNumberField('To')
  async inbound(
    @Req() request: SignedRequest,
    @Res() response: Response,
    @Body() params: Record<string, string | string[]>,
  ): Promise<void> {
    await this.receiveInbound.execute({
      channel: request.smsChannel!,
      params,
      trace: requestTrace(request),
      verifyWithCurrentRow: () => this.signature.verifyWithCurrentRow(request, 'To'),
    });
    this.metrics.webhookAccepted('inbound');
    response.end(EMPTY_TWIML);
  }

  @Post(STATUS_CALLBACK_ROUTE)
  @ApiOperation({
    operationId: 'receiveTwilioStatusCallback',
    summary: "Twilio's status callback for messages we sent",
    description:
      'Set as StatusCallback on every message we send, with our message id in the query string (Twilio posts to, and signs, that exact URL). ' +
      'Updates the delivery status, never backwards; a callback that arrives before Twilio answered our send stores the SID on the message its URL names. ' +
      'Same signature rule, 429 and 503 as the inbound webhook.',
  })
  @ApiQuery({
    name: STATUS_CALLBACK_MESSAGE_ID,
    required: false,
    description: 'Our outbound message, as we wrote it into the StatusCallback URL',
    schema: { type: 'string', format: 'uuid', example: '3f0b6a9e-8d0c-4c1e-9a51-2b7f5f7f2f10' },
  })
  @ApiBody({ schema: { $ref: getSchemaPath('TwilioStatusCallback') } })
  @TwimlOkResponse()
  @HttpCode(200)
  @Header('Content-Type', TWIML_CONTENT_TYPE)
  @ChannelNumberField('From')
  async status(
    @Req() request: SignedRequest,
    @Res() response: Response,
    @Body() params: Record<string, string | string[]>,
    @Query(STATUS_CALLBACK_MESSAGE_ID) messageId: unknown,
  ): Promise<void> {
    await this.updateDeliveryStatus.execute(request.smsChannel!, params, messageId);
    this.metrics.statusCallback(params.MessageStatus);
    response.end(EMPTY_TWIML);
  }
}
