import type { ParseResult, Product } from '../normalise/ocsf';
import type { SyslogMessage } from '../syslog/syslog-message';

/** A parser for the syslog lines of one kind of source. */
export interface SyslogParser {
  /** Parser name, used in metrics and `metadata.log_name` (`openvpn`, `sshd`, `fortigate`). */
  readonly name: string;
  readonly product: Product;
  /** True when the message's app-name/tag names this source (`openvpn`, `sshd[123]`). */
  claims(message: SyslogMessage): boolean;
  /** True when the content alone is recognisably this source's (for senders that set no useful app-name). */
  recognises(message: SyslogMessage): boolean;
  /** Maps one message; `ok: false` with a reason when the line is this source's but not one it understands. */
  parse(message: SyslogMessage): ParseResult;
}
