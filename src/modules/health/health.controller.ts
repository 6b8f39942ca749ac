import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../../common/auth/auth.decorators';
import { ApiErrors } from '../../common/errors/api-errors.decorator';
import { Errors } from '../../common/errors/errors';
import { HealthStatus } from './dto/health-status.dto';
import { ReadinessService } from './readiness.service';

@ApiTags('health')
@ApiSecurity({})
@Public()
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly readiness: ReadinessService,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'getHealth',
    summary: 'Database check (kept for existing monitors; prefer /health/live and /health/ready)',
  })
  @ApiOkResponse({ description: 'The database answers', type: HealthStatus })
  @ApiErrors('SERVICE_UNAVAILABLE')
  async check(): Promise<{ status: 'ok' }> {
    try {
      await this.health.check([() => this.database.pingCheck('database', { timeout: 2_000 })]);
    } catch {
      throw Errors.databaseUnavailable();
    }
    return { status: 'ok' };
  }

  @Get('live')
  @ApiOperation({
    operationId: 'getLiveness',
    summary: 'Liveness: the process serves HTTP (no dependency is checked)',
    description:
      'For a container liveness probe or HEALTHCHECK: 200 whenever the process answers at all, also while the database is down or the instance is draining, so a database blip never restarts every instance. It has no error response; a dead process gives no answer.',
  })
  @ApiOkResponse({ description: 'The process is up', type: HealthStatus })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness: the database answers, migrations are applied, the job queue runs',
    description:
      'For a load balancer or readiness probe. 503 `SERVICE_UNAVAILABLE` names what is missing ("Not ready: database unavailable"); from SIGTERM on it answers 503 "Not ready: shutting down" while in-flight work finishes (`SHUTDOWN_DRAIN_SECONDS`), so traffic moves elsewhere before the server stops listening.',
  })
  @ApiOkResponse({ description: 'Ready for traffic', type: HealthStatus })
  @ApiErrors('SERVICE_UNAVAILABLE')
  async ready(): Promise<{ status: 'ok' }> {
    const problems = await this.readiness.problems();
    if (problems.length) {
      throw Errors.notReady(problems);
    }
    return { status: 'ok' };
  }
}
