/**
 * Sigma taxonomy field names (as used in SigmaHQ rules) and the normalised
 * field each stands for. Rules may use either; the table is in the README.
 */
export const SIGMA_FIELD_MAPPING: Readonly<Record<string, string>> = {
  User: 'user.name',
  TargetUserName: 'user.name',
  SubjectUserName: 'user.name',
  SourceIp: 'src.ip',
  src_ip: 'src.ip',
  IpAddress: 'src.ip',
  ClientAddress: 'src.ip',
  DestinationIp: 'dst.ip',
  dst_ip: 'dst.ip',
  DestinationHostname: 'dst.hostname',
  SourceHostname: 'src.hostname',
  WorkstationName: 'src.hostname',
  Workstation: 'src.hostname',
  ComputerName: 'host.name',
  Computer: 'host.name',
  EventID: 'event.code',
  LogonType: 'auth.logon_type',
};

/** The normalised name of a field named in a rule: Sigma taxonomy names are translated, others kept. */
export function mapSigmaField(name: string): string {
  return SIGMA_FIELD_MAPPING[name] ?? name;
}
