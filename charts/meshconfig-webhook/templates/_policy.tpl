{{- /*
Enforcement (values: enforcement). The webhook's objects render for "webhook" and "both"; the
ValidatingAdmissionPolicy for "policy" and "both".
*/}}
{{- define "meshconfig-webhook.webhookEnabled" -}}
{{- if ne .Values.enforcement "policy" }}true{{ end }}
{{- end }}

{{- /*
The generated policy for the release line and the cluster: files under policies/ are the output of
`meshconfig-webhook policy` (tests/chart.rs checks they are current). Kubernetes 1.31 and later get
the variant that uses the CIDR library (offered to new policies from 1.31).
*/}}
{{- define "meshconfig-webhook.policyFile" -}}
{{- if semverCompare "<1.30.0-0" .Capabilities.KubeVersion.Version }}
{{- fail (printf "enforcement=%s needs Kubernetes >= 1.30 (admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy; this cluster: %s); use enforcement=webhook" .Values.enforcement .Capabilities.KubeVersion.Version) }}
{{- end }}
{{- $kube := ternary "1.31" "1.30" (semverCompare ">=1.31.0-0" .Capabilities.KubeVersion.Version) }}
{{- printf "policies/osm-%s-k8s-%s.yaml" (toString .Values.osm.release) $kube }}
{{- end }}
