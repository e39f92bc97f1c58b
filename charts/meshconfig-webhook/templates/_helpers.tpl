{{/* Chart name, overridable. */}}
{{- define "meshconfig-webhook.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: used for every namespaced resource and as the Service name (--service-name).
Truncated to 63 characters because Service names are DNS labels.
*/}}
{{- define "meshconfig-webhook.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "meshconfig-webhook.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable across upgrades (a Deployment's selector is immutable). */}}
{{- define "meshconfig-webhook.selectorLabels" -}}
app.kubernetes.io/name: {{ include "meshconfig-webhook.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Standard app.kubernetes.io labels on every resource. */}}
{{- define "meshconfig-webhook.labels" -}}
helm.sh/chart: {{ include "meshconfig-webhook.chart" . }}
{{ include "meshconfig-webhook.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: admission-webhook
app.kubernetes.io/part-of: openservicemesh
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "meshconfig-webhook.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "meshconfig-webhook.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "meshconfig-webhook.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Secret holding tls.crt/tls.key (and ca.crt) that the pods mount. */}}
{{- define "meshconfig-webhook.tlsSecretName" -}}
{{- if eq .Values.certificates.mode "secret" }}
{{- .Values.certificates.secret.name }}
{{- else }}
{{- printf "%s-tls" (include "meshconfig-webhook.fullname" .) }}
{{- end }}
{{- end }}

{{/* DNS names the apiserver may use for the Service; the serving certificate covers all of them. */}}
{{- define "meshconfig-webhook.dnsNames" -}}
{{- $svc := include "meshconfig-webhook.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson }}
{{- end }}

{{/* Where the TLS Secret is mounted; a whole-Secret volume (never subPath) so updates arrive. */}}
{{- define "meshconfig-webhook.tlsDir" -}}
/etc/meshconfig-webhook/tls
{{- end }}

{{- define "meshconfig-webhook.clientCADir" -}}
/etc/meshconfig-webhook/client-ca
{{- end }}

{{/*
Refuse value combinations the schema cannot express, with a message saying what to change.
Included from the webhook configuration's template, which every webhook render has (url mode
renders no Deployment).
*/}}
{{- define "meshconfig-webhook.checks" -}}
{{- if and .Values.webhook.configMaps.enabled .Values.webhook.matchConditions.enabled (semverCompare "<1.28.0-0" .Capabilities.KubeVersion.Version) }}
{{- fail (printf "webhook.matchConditions.enabled=true needs Kubernetes >= 1.28 (this cluster: %s); set webhook.matchConditions.enabled=false" .Capabilities.KubeVersion.Version) }}
{{- end }}
{{- $preStop := 0 }}
{{- if semverCompare ">=1.30.0-0" .Capabilities.KubeVersion.Version }}
{{- $preStop = int .Values.preStopSleepSeconds }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (add $preStop (int .Values.server.shutdownTimeoutSeconds)) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds (%d) + server.shutdownTimeoutSeconds (%d), or pods are killed mid-drain" (int .Values.terminationGracePeriodSeconds) $preStop (int .Values.server.shutdownTimeoutSeconds)) }}
{{- end }}
{{- if not (kindIs "string" .Values.osm.release) }}
{{- /* Cite the release the number stands for (0.1 is 0.10 unquoted, 1 is 1.0), else the number itself. */}}
{{- $number := .Values.osm.release }}
{{- $meant := toString $number }}
{{- range list "0.9" "0.10" "0.11" "1.0" "1.1" "1.2" }}
{{- if eq (float64 .) (float64 $number) }}{{ $meant = . }}{{ end }}
{{- end }}
{{- $misread := "" }}
{{- if ne $meant (toString $number) }}
{{- $misread = printf "; unquoted, YAML reads %s as the number %v" $meant $number }}
{{- end }}
{{- fail (printf "osm.release is the number %v, not a release: quote it (release: \"%s\" in a values file, --set-string osm.release=%s on the command line)%s" $number $meant $meant $misread) }}
{{- end }}
{{- if .Values.webhook.url }}
{{- if ne .Values.certificates.mode "secret" }}
{{- fail (printf "webhook.url needs certificates.mode=secret and certificates.secret.caBundle (the CA that signed the certificate of the server at %s): certificates.mode=%s makes a certificate for the in-cluster Service, which webhook.url does not use" .Values.webhook.url .Values.certificates.mode) }}
{{- end }}
{{- else if and (eq .Values.certificates.mode "secret") (not .Values.certificates.secret.name) }}
{{- fail "certificates.mode=secret needs certificates.secret.name (a kubernetes.io/tls Secret)" }}
{{- end }}
{{- if and (eq .Values.certificates.mode "secret") (not .Values.certificates.secret.caBundle) }}
{{- fail (printf "certificates.mode=secret needs certificates.secret.caBundle (the CA that signed the %s certificate)" (ternary "webhook.url server's" "Secret's" (not (empty .Values.webhook.url)))) }}
{{- end }}
{{- end }}

{{/*
The caBundle for secret mode: PEM certificates (--set-file) or their base64. It lands in the
cluster-scoped ValidatingWebhookConfiguration, readable by many: anything holding a private key is
refused, and so is anything that is not certificates (the apiserver would fail every call).
*/}}
{{- define "meshconfig-webhook.secretCABundle" -}}
{{- $ca := .Values.certificates.secret.caBundle | trim }}
{{- $pem := $ca }}
{{- if not (hasPrefix "-----BEGIN" $ca) }}
{{- $pem = b64dec $ca }}
{{- end }}
{{- if or (contains "PRIVATE KEY" $pem) (contains "PRIVATE KEY" $ca) }}
{{- fail "certificates.secret.caBundle holds a private key: give the CA certificate (e.g. certs/ca.crt), never a key; the caBundle is stored in the cluster-scoped ValidatingWebhookConfiguration" }}
{{- end }}
{{- if not (regexMatch "^\\s*(-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\\s]+-----END CERTIFICATE-----\\s*)+$" $pem) }}
{{- fail "certificates.secret.caBundle must be PEM CA certificates (-----BEGIN CERTIFICATE----- ...) or their base64, e.g. --set-file certificates.secret.caBundle=certs/ca.crt" }}
{{- end }}
{{- if eq $pem $ca }}
{{- $ca | b64enc }}
{{- else }}
{{- $ca }}
{{- end }}
{{- end }}

{{/*
In-cluster objects (Deployment, Service, certificate, …): the webhook's enforcement without
webhook.url. With webhook.url the webhook is served elsewhere (a development machine) and the
chart renders only its configuration.
*/}}
{{- define "meshconfig-webhook.inCluster" -}}
{{- if and (include "meshconfig-webhook.webhookEnabled" .) (not .Values.webhook.url) }}true{{ end }}
{{- end }}

{{/*
The `serve` flags that decide reviews and limits, as a JSON array: the Deployment passes them, and
url mode's NOTES print them for a `serve` started by hand, so the two never differ.
*/}}
{{- define "meshconfig-webhook.serveFlags" -}}
{{- $s := .Values.server }}
{{- $flags := list (printf "--osm-release=%s" (toString .Values.osm.release)) (printf "--mesh-namespace=%s" .Values.osm.meshNamespace) (printf "--unknown-configmap-keys=%s" .Values.osm.unknownConfigMapKeys) }}
{{- if .Values.webhook.protectDelete }}
{{- $flags = append $flags "--protect-delete" }}
{{- end }}
{{- $flags = concat $flags (list (printf "--max-body-bytes=%d" (int64 $s.maxBodyBytes)) (printf "--shutdown-timeout=%ds" (int64 $s.shutdownTimeoutSeconds)) (printf "--cert-reload-interval=%ds" (int64 $s.certReloadIntervalSeconds))) }}
{{- if $s.http2 }}
{{- $flags = append $flags "--http2" }}
{{- end }}
{{- $flags = concat $flags (list (printf "--header-read-timeout=%ds" (int64 $s.headerReadTimeoutSeconds)) (printf "--tls-handshake-timeout=%ds" (int64 $s.tlsHandshakeTimeoutSeconds)) (printf "--body-read-timeout=%ds" (int64 $s.bodyReadTimeoutSeconds)) (printf "--max-connections=%d" (int64 $s.maxConnections)) (printf "--max-in-flight=%d" (int64 $s.maxInFlight)) (printf "--log-format=%s" $s.logFormat) (printf "--log-level=%s" $s.logLevel)) }}
{{- $flags = concat $flags $s.extraArgs }}
{{- toJson $flags }}
{{- end }}

{{/*
url mode: where a `serve` started by hand listens so that webhook.url reaches it: the URL's host
when it is a loopback name or address, otherwise every address (the URL names this machine as the
apiserver sees it); the URL's port, 443 when it has none.
*/}}
{{- define "meshconfig-webhook.urlListenHost" -}}
{{- $u := urlParse .Values.webhook.url }}
{{- $host := $u.hostname }}
{{- if or (eq $host "localhost") (hasPrefix "127." $host) }}
{{- $host }}
{{- else if eq $host "::1" }}
{{- "[::1]" }}
{{- else }}
{{- "0.0.0.0" }}
{{- end }}
{{- end }}

{{- define "meshconfig-webhook.urlPort" -}}
{{- $u := urlParse .Values.webhook.url }}
{{- $port := regexFind ":[0-9]+$" $u.host | trimPrefix ":" }}
{{- default "443" $port }}
{{- end }}
