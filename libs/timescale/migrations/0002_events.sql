-- Event hypertables: OT events, IT security events (OCSF), alerts (OCSF Detection Finding).
-- Released: never edit this file; add a new numbered migration instead.
-- Each table keeps the columns that queries and correlation filter on, plus the whole message as jsonb.

CREATE TYPE ot_event_kind AS ENUM ('alarm', 'audit', 'connection', 'gap', 'model-change');
COMMENT ON TYPE ot_event_kind IS 'What an OT event is about (contracts: otEventKind).';

CREATE TABLE ot_events (
  time                 timestamptz   NOT NULL,
  source_id            text          NOT NULL,
  event_id             text          NOT NULL,
  seq                  bigint,
  kind                 ot_event_kind NOT NULL,
  type                 text          NOT NULL,
  severity             smallint      NOT NULL,
  message              text          NOT NULL,
  node_id              text,
  browse_path          text,
  actor_user           text,
  actor_client_address text,
  condition_id         text,
  received_time        timestamptz,
  event                jsonb         NOT NULL
);
SELECT create_hypertable('ot_events', by_range('time', INTERVAL '7 days'));
CREATE UNIQUE INDEX ot_events_source_event_time_key ON ot_events (source_id, event_id, time);
CREATE INDEX ot_events_kind_time_idx ON ot_events (kind, time DESC);
COMMENT ON TABLE ot_events IS
  'Written by timescale-sink from ot.events.v1. One row is one OPC UA alarm/audit event, connector connection change, '
  'data gap or model change at its source time; event holds the full message. Redeliveries conflict on (source_id, event_id, time).';
COMMENT ON COLUMN ot_events.severity IS 'OPC UA severity, 1 (lowest) to 1000 (highest).';
COMMENT ON COLUMN ot_events.actor_client_address IS 'Client address of the session that caused an audit event, for correlation with VPN and network events.';

CREATE TABLE security_events (
  time                 timestamptz NOT NULL,
  product_name         text        NOT NULL,
  uid                  text        NOT NULL,
  class_uid            integer     NOT NULL,
  category_uid         integer     NOT NULL,
  activity_id          integer     NOT NULL,
  severity_id          smallint    NOT NULL,
  status_id            smallint,
  message              text,
  user_name            text,
  user_domain          text,
  -- Addresses are text, not inet: the contract does not validate them, and one malformed address
  -- must not fail a whole batch. Cast in queries (src_ip::inet << '10.0.0.0/8') where needed.
  src_ip               text,
  src_port             integer,
  src_hostname         text,
  src_intermediate_ips text[],
  dst_ip               text,
  dst_port             integer,
  dst_hostname         text,
  is_mfa               boolean,
  is_remote            boolean,
  logon_type_id        integer,
  event                jsonb       NOT NULL
);
SELECT create_hypertable('security_events', by_range('time', INTERVAL '7 days'));
CREATE UNIQUE INDEX security_events_product_uid_time_key ON security_events (product_name, uid, time);
CREATE INDEX security_events_user_time_idx ON security_events (user_name, time DESC);
CREATE INDEX security_events_src_ip_time_idx ON security_events (src_ip, time DESC);
COMMENT ON TABLE security_events IS
  'Written by timescale-sink from it.security-events.v1. One row is one IT security event normalised to OCSF '
  '(Authentication, Network/Tunnel/API Activity, EDR findings) at its source time; event holds the full OCSF object.';
COMMENT ON COLUMN security_events.src_intermediate_ips IS 'Addresses assigned inside a VPN tunnel, as the plant network sees the user.';

CREATE TABLE alerts (
  time              timestamptz NOT NULL,
  finding_uid       text        NOT NULL,
  activity_id       smallint    NOT NULL,
  severity_id       smallint    NOT NULL,
  status_id         smallint,
  title             text        NOT NULL,
  analytic_uid      text,
  analytic_name     text,
  attack_techniques text[]      NOT NULL DEFAULT '{}',
  resource_uids     text[]      NOT NULL DEFAULT '{}',
  first_seen_time   timestamptz,
  last_seen_time    timestamptz,
  finding           jsonb       NOT NULL
);
-- Alerts are few; month-long chunks avoid a crowd of tiny ones.
SELECT create_hypertable('alerts', by_range('time', INTERVAL '30 days'));
CREATE UNIQUE INDEX alerts_finding_time_activity_key ON alerts (finding_uid, time, activity_id);
COMMENT ON TABLE alerts IS
  'Written by timescale-sink from sec.alerts.v1 (raised by the correlator). One row is one activity (create, update, close) '
  'of one incident, an OCSF Detection Finding; rows of one incident share finding_uid. finding holds the full message.';
COMMENT ON COLUMN alerts.attack_techniques IS 'MITRE ATT&CK (for ICS) technique ids, e.g. {T0836}.';
COMMENT ON COLUMN alerts.resource_uids IS 'Asset ids (assets.id) the finding is about.';
