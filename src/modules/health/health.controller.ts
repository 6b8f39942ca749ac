import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../../common/auth/auth.decorators';
import { ApiErrors } from '../../common/errors/api-errors.decorator';
import { DomainError } from '../../common/errors/domain-error';

@ApiTags('health')
@ApiSecurity({})
@Public()
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Liveness and database check, for load balancers (no API key)',
  })
  @ApiOkResponse({
    description: 'The database answers',
    schema: {
      type: 'object',
      properties: { status: { type: 'string', enum: ['ok'] } },
      example: { status: 'ok' },
    },
  })
  @ApiErrors('SERVICE_UNAVAILABLE')
  async check(): Promise<{ status: 'ok' }> {
    try {
      await this.health.check([() => this.database.pingCheck('database', { timeout: 2_000 })]);
    } catch {
      throw new DomainError('SERVICE_UNAVAILABLE', 'Database is unavailable');
    }
    return { status: 'ok' };
  }
}
