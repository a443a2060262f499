import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Caller, Requires } from '../auth/auth.guard';
import type { Principal } from '../auth/principal';
import { ApiError } from '../common/api-error';
import type { HttpResponse } from '../common/http-types';
import { SETTINGS } from '../common/tokens';
import type { AnalyticsSettings } from '../config';
import { HuntJobs } from './hunt-jobs.service';
import { HUNT_BODY_OPENAPI, huntBodySchema, parseBody } from './hunt.request';
import { huntRules } from './hunt.rules';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function jobId(id: string): string {
  if (!JOB_ID.test(id)) throw new ApiError('REQUEST.INVALID', 'id: is not a hunt job id', { issues: [{ param: 'id', problem: 'is not a hunt job id' }] });
  return id;
}

@ApiTags('hunts')
@ApiSecurity('bearer')
@ApiSecurity('apiKey')
@Controller('v1/hunt-jobs')
export class HuntJobsController {
  private readonly body;

  constructor(
    @Inject(SETTINGS) settings: AnalyticsSettings,
    @Inject(HuntJobs) private readonly jobs: HuntJobs,
  ) {
    this.body = huntBodySchema(settings.hunt);
  }

  @Post()
  @HttpCode(202)
  @Requires('alerts:read')
  @ApiOperation({ summary: 'Starts a retro-hunt in the background (same body as POST /v1/hunts); answers 202 with the job and its Location. Rules are checked first: a rule that does not parse is a 400 here.' })
  @ApiBody({ schema: HUNT_BODY_OPENAPI })
  create(@Caller() caller: Principal, @Body() body: unknown, @Res({ passthrough: true }) res: HttpResponse) {
    const q = parseBody(this.body, body);
    const rules = huntRules(q.rules, q.sigma);
    const job = this.jobs.start(caller, q, rules);
    res.setHeader('Location', `/v1/hunt-jobs/${job.id}`);
    return job;
  }

  @Get(':id')
  @Requires('alerts:read')
  @ApiOperation({ summary: 'A hunt job: status (running, done, failed, cancelled), progress (event time reached, events processed, findings), and when done the result of POST /v1/hunts' })
  @ApiParam({ name: 'id' })
  get(@Caller() caller: Principal, @Param('id') id: string) {
    return this.jobs.get(caller, jobId(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @Requires('alerts:read')
  @ApiOperation({ summary: 'Cancels a running hunt job, or forgets a finished one' })
  @ApiParam({ name: 'id' })
  remove(@Caller() caller: Principal, @Param('id') id: string): void {
    this.jobs.remove(caller, jobId(id));
  }
}
