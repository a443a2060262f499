import { securityAlertsV1 } from './alert.v1';
import { erpAssetsV1, erpProductionOrdersV1, erpShiftsV1, erpWorkOrdersV1 } from './erp.v1';
import { itSecurityEventsV1 } from './it-security-event.v1';
import { otEventsV1 } from './ot-event.v1';
import { telemetryEnrichedV1 } from './telemetry-enriched.v1';
import { telemetryRawV1 } from './telemetry-raw.v1';
import type { TopicDefinition } from './topic';


/** Every topic of the platform, for provisioning and docs. */
export const allTopics: readonly TopicDefinition[] = [
  telemetryRawV1,
  telemetryEnrichedV1,
  otEventsV1,
  itSecurityEventsV1,
  erpAssetsV1,
  erpWorkOrdersV1,
  erpProductionOrdersV1,
  erpShiftsV1,
  securityAlertsV1,
];
