import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Caller, Requires } from '../auth/auth.guard';
import { siteFilter, type Principal } from '../auth/principal';
import { SETTINGS } from '../common/tokens';
import type { AnalyticsSettings } from '../config';
import { HuntRepository } from './hunt.repository';
import { HUNT_BODY_OPENAPI, huntBodySchema, huntResult, parseBody } from './hunt.request';
import { huntRules } from './hunt.rules';
import { HuntService } from './hunt.service';

@ApiTags('hunts')
@ApiSecurity('bearer')
@ApiSecurity('apiKey')
@Controller('v1/hunts')
export class HuntController {
  private readonly body;

  constructor(
    @Inject(SETTINGS) settings: AnalyticsSettings,
    @Inject(HuntService) private readonly hunts: HuntService,
    @Inject(HuntRepository) private readonly repo: HuntRepository,
  ) {
    this.body = huntBodySchema(settings.hunt);
  }

  @Post()
  @HttpCode(200)
  @Requires('alerts:read')
  @ApiOperation({
    summary:
      'Retro-hunt, answered when done: runs built-in rules and/or Sigma rules (detections and correlations) over the stored OT events, IT security events and telemetry of from..to with the live correlator\'s engine, and returns the findings (creates and updates) about assets of the caller\'s sites. For long ranges use /v1/hunt-jobs.',
  })
  @ApiBody({ schema: HUNT_BODY_OPENAPI })
  async hunt(@Caller() caller: Principal, @Body() body: unknown) {
    const q = parseBody(this.body, body);
    const rules = huntRules(q.rules, q.sigma);
    const out = await this.hunts.run(rules, q.from, q.to, q.limit);
    const sites = siteFilter(caller);
    return huntResult(q, rules, out, sites === null ? undefined : await this.repo.assetsOfSites(sites));
  }
}
