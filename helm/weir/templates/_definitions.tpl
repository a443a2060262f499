{{/* Full name of the release's objects: <release>-weir, or the release name when it already says weir. */}}
{{- define "weir.fullname" -}}
{{- if contains "weir" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-weir" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "weir.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: weir
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: weir
{{- end -}}

{{/* Selector labels of one service; call with (dict "root" $ "name" $name). */}}
{{- define "weir.selectorLabels" -}}
app.kubernetes.io/name: weir
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* Image of one service; call with (dict "root" $ "name" $name). */}}
{{- define "weir.image" -}}
{{- $img := .root.Values.image -}}
{{- $tag := default .root.Chart.AppVersion $img.tag -}}
{{- if $img.registry -}}
{{- printf "%s/%s/%s:%s" $img.registry $img.repository .name $tag -}}
{{- else -}}
{{- printf "%s/%s:%s" $img.repository .name $tag -}}
{{- end -}}
{{- end -}}

{{- define "weir.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "weir.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Prefix of the ops settings of a service: WEIR_ (top) or WEIR_OBSERVABILITY__. */}}
{{- define "weir.opsPrefix" -}}
{{- if eq .ops "observability" -}}WEIR_OBSERVABILITY__{{- else -}}WEIR_{{- end -}}
{{- end -}}

{{/* Kafka settings as environment variables (secrets by reference only). */}}
{{- define "weir.kafkaEnv" -}}
{{- $k := .root.Values.kafka -}}
- name: WEIR_KAFKA__BROKERS
  value: {{ required "kafka.bootstrapServers is required" $k.bootstrapServers | quote }}
- name: WEIR_KAFKA__CLIENT_ID
  value: {{ .name | quote }}
{{- if $k.topicPrefix }}
- name: WEIR_KAFKA__TOPIC_PREFIX
  value: {{ $k.topicPrefix | quote }}
{{- end }}
{{- if $k.tls.enabled }}
{{- if or $k.tls.caSecret $k.tls.clientCertSecret }}
{{- if $k.tls.caSecret }}
- name: WEIR_KAFKA__SSL__CA
  value: /etc/weir/kafka-ca/{{ $k.tls.caKey }}
{{- end }}
{{- if $k.tls.clientCertSecret }}
- name: WEIR_KAFKA__SSL__CERT
  value: /etc/weir/kafka-client/tls.crt
- name: WEIR_KAFKA__SSL__KEY
  value: /etc/weir/kafka-client/tls.key
{{- end }}
- name: WEIR_KAFKA__SSL__REJECT_UNAUTHORIZED
  value: {{ $k.tls.rejectUnauthorized | quote }}
{{- else }}
- name: WEIR_KAFKA__SSL
  value: "true"
{{- end }}
{{- end }}
{{- if $k.sasl.enabled }}
- name: WEIR_KAFKA__SASL__MECHANISM
  value: {{ $k.sasl.mechanism | quote }}
- name: WEIR_KAFKA__SASL__USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.sasl.existingSecret is required when kafka.sasl.enabled" $k.sasl.existingSecret }}
      key: {{ $k.sasl.usernameKey }}
- name: WEIR_KAFKA__SASL__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $k.sasl.existingSecret }}
      key: {{ $k.sasl.passwordKey }}
{{- end }}
{{- end -}}

{{/* Database settings as environment variables: the URL only from its Secret. */}}
{{- define "weir.databaseEnv" -}}
{{- $d := .root.Values.database -}}
- name: WEIR_DATABASE__URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret is required" $d.existingSecret }}
      key: {{ $d.urlKey }}
- name: WEIR_DATABASE__APPLICATION_NAME
  value: {{ printf "weir-%s" .name | trunc 63 | quote }}
{{- if $d.caSecret }}
- name: WEIR_DATABASE__SSL
  value: /etc/weir/database-ca/{{ $d.caKey }}
{{- end }}
{{- end -}}

{{/* Volumes for Kafka/database CAs and client certificates. */}}
{{- define "weir.tlsVolumes" -}}
{{- $k := .root.Values.kafka -}}
{{- $d := .root.Values.database -}}
{{- if and .svc.kafka $k.tls.enabled $k.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $k.tls.caSecret }}
{{- end }}
{{- if and .svc.kafka $k.tls.enabled $k.tls.clientCertSecret }}
- name: kafka-client
  secret:
    secretName: {{ $k.tls.clientCertSecret }}
{{- end }}
{{- if and .svc.database $d.caSecret }}
- name: database-ca
  secret:
    secretName: {{ $d.caSecret }}
{{- end }}
{{- end -}}

{{- define "weir.tlsMounts" -}}
{{- $k := .root.Values.kafka -}}
{{- $d := .root.Values.database -}}
{{- if and .svc.kafka $k.tls.enabled $k.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/weir/kafka-ca
  readOnly: true
{{- end }}
{{- if and .svc.kafka $k.tls.enabled $k.tls.clientCertSecret }}
- name: kafka-client
  mountPath: /etc/weir/kafka-client
  readOnly: true
{{- end }}
{{- if and .svc.database $d.caSecret }}
- name: database-ca
  mountPath: /etc/weir/database-ca
  readOnly: true
{{- end }}
{{- end -}}
