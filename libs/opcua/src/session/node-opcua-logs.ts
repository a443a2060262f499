import { format } from 'node:util';
import { setErrorLogger, setWarningLogger } from 'node-opcua';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * Sends node-opcua's own warnings and errors (printed to the console by
 * default, several lines each) to the given sinks as one plain line. Its
 * warnings are mostly expected noise for a client (optional OperationLimits
 * a server lacks, a certificate it refused, which we report ourselves), so
 * callers usually log them at debug level. Process-wide: node-opcua has one logger.
 */
export function routeNodeOpcuaLogs(sink: { warn: (line: string) => void; error: (line: string) => void }): void {
  const line = (args: unknown[]): string => format(...args).replace(ANSI, '').replace(/\s+/g, ' ').trim().slice(0, 2000);
  setWarningLogger((...args: unknown[]) => sink.warn(line(args)));
  setErrorLogger((...args: unknown[]) => sink.error(line(args)));
}
