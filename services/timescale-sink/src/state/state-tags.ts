import type { SinkSection } from '../config';

/** The state settings (`sink.state`). */
export type StateSettings = SinkSection['state'];

/** How a series takes part in machine states. */
export type StateRole =
  /** A state tag; `reasonKey` is the node id (or browse path) of its reason tag, null when reasons are off. */
  | { role: 'state'; reasonKey: string | null }
  /** A candidate reason tag; `prefix` is the machine prefix its state tag shares. */
  | { role: 'reason'; prefix: string }
  | { role: 'none' };

const NONE: StateRole = { role: 'none' };

/**
 * Decides which series are machine state tags and which are their reason tags,
 * by the configured pattern over the node id or browse path. With the default
 * pattern `^(.*[./=])State$` and reason suffix `DownReason`, a simulator's
 * `ns=3;s=Line1.Filler.State` (running | idle | down, or codes 0/1/2) is a state
 * tag and `ns=3;s=Line1.Filler.DownReason` (an integer) is its reason tag.
 */
export class StateTagMatcher {
  private readonly pattern: RegExp;

  constructor(private readonly settings: StateSettings) {
    this.pattern = new RegExp(settings.tagPattern);
  }

  /** Whether reason tags are matched by browse path rather than node id. */
  get byBrowsePath(): boolean {
    return this.settings.matchOn === 'browsePath';
  }

  /** The role of a series with this node id and browse path. */
  classify(nodeId: string, browsePath: string | undefined | null): StateRole {
    const key = this.byBrowsePath ? browsePath : nodeId;
    if (!key) return NONE;
    const m = this.pattern.exec(key);
    if (m) return { role: 'state', reasonKey: this.settings.reasonSuffix ? `${m[1] ?? ''}${this.settings.reasonSuffix}` : null };
    const suffix = this.settings.reasonSuffix;
    if (suffix && key.endsWith(suffix) && key.length > suffix.length) return { role: 'reason', prefix: key.slice(0, key.length - suffix.length) };
    return NONE;
  }

  /** True when a state tag with key `stateKey` has `prefix` as its machine prefix (the owner of a reason tag). */
  ownsReason(stateKey: string, prefix: string): boolean {
    const m = this.pattern.exec(stateKey);
    return m !== null && (m[1] ?? '') === prefix;
  }
}
