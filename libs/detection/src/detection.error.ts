/** Error codes of the detection engine. */
export type DetectionErrorCode = 'DETECTION.RULE_INVALID' | 'DETECTION.RULE_UNKNOWN_REFERENCE' | 'DETECTION.STATE_INVALID' | 'DETECTION.EVENT_INVALID';

/** An error of the detection engine; rule errors say which file and line. */
export class DetectionError extends Error {
  constructor(
    readonly code: DetectionErrorCode,
    message: string,
    /** Where the problem is, for rule errors. */
    readonly location?: { file: string; line?: number },
  ) {
    super(`${code}: ${location ? `${location.file}${location.line ? `:${location.line}` : ''}: ` : ''}${message}`);
    this.name = 'DetectionError';
  }
}
