import { ApiProperty } from '@nestjs/swagger';

/** What every probe answers when it passes. */
export class HealthStatus {
  @ApiProperty({ enum: ['ok'], example: 'ok' }) status: 'ok';
}
