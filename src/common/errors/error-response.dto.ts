import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_STATUS } from './error-codes';
import { TWILIO_FAILURE_MESSAGES } from './errors';

class FieldErrorDto {
  @ApiProperty({ example: 'accountSid' }) field: string;
  @ApiProperty({ example: 'accountSid must be "AC" followed by 32 hex characters (34 in all)' })
  message: string;
}

/** The contract's one error shape, for Swagger. */
export class ErrorResponse {
  @ApiProperty({
    type: 'integer',
    enum: [...new Set(Object.values(ERROR_STATUS))].sort(),
    example: 422,
    description: 'The HTTP status, repeated',
  })
  statusCode: number;
  @ApiProperty({ example: 'TWILIO_CREDENTIALS_REJECTED', enum: Object.keys(ERROR_STATUS) })
  code: string;
  @ApiProperty({ example: TWILIO_FAILURE_MESSAGES.credentialsRejected }) message: string;
  @ApiPropertyOptional({ type: [FieldErrorDto] }) details?: FieldErrorDto[];
}
