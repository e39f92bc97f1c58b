// Command osm-consumer runs OSM v0.8.4's own code on osm-config ConfigMaps and reports what OSM
// does with each one, so that the webhook's rules for OSM v0.8 can be judged by OSM itself. It
// is the v0.8.4 sibling of ../v1.2.4: OSM v0.8 read its configuration from the ConfigMap
// osm-config (every value a string) and shipped its own validating webhook for it.
//
// Input (stdin): one JSON object per line, {"id": "...", "object": <a ConfigMap>} with an
// optional "oldObject" (the stored ConfigMap OSM's webhook sees the UPDATE against; default: the
// object itself, so its metadata guard passes). Output (stdout): one JSON object per line (see
// `verdict`): the members of the v1.2.4 consumer's verdict, plus "osmWebhook".
//
// What runs, all of it OSM's code unchanged (the added files, *.go.overlay, only call OSM's
// unexported functions):
//   - client-go's decoder (kubernetes/scheme's UniversalDeserializer), which the configurator's
//     informer lists and watches through: an undecodable ConfigMap is invisible to OSM;
//   - OSM's configurator (configurator.NewConfigurator, which runs its own ConfigMap informer)
//     over a fake clientset holding the object, and every getter, with what OSM logs; each
//     getter parses the whole ConfigMap again (parseOSMConfigMap), so a parse error is matched
//     to its key by the key and value OSM's log line names;
//   - parseOSMConfigMap itself, to tell which written keys OSM reads at all (for this ConfigMap);
//   - the resync ticker (ticker.InitTicker, once, as the catalog starts it), reacting to the
//     ConfigMap update through OSM's pubsub;
//   - the tracing cluster OSM sends Envoy when tracing is on (pkg/envoy/cds getTracingCluster),
//     checked with go-control-plane's Validate();
//   - the injector's init container (getInitContainerSpec), whose command (iptables commands
//     joined by &&) is run by /bin/sh inside a throwaway network namespace (unshare -n) with the
//     real iptables and read back with `iptables -t nat -S`;
//   - OSM's own validating webhook for osm-config (pkg/configurator/validating_webhook.go): its
//     HTTP handler, given the AdmissionReview (admission.k8s.io/v1beta1) of an UPDATE.
//
// Classification: "harm" is OSM mishandling a written value (cannot decode the object, a getter
// logs a parse error and falls back to a default, another value is used, the init container
// fails or installs another rule); "ignored" is OSM logging the value and leaving its state
// unchanged, or not reading the key at all.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakekube "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/openservicemesh/osm/pkg/certificate"
	"github.com/openservicemesh/osm/pkg/certificate/rotor"
	"github.com/openservicemesh/osm/pkg/configurator"
	"github.com/openservicemesh/osm/pkg/constants"
	"github.com/openservicemesh/osm/pkg/envoy/cds"
	"github.com/openservicemesh/osm/pkg/injector"
	"github.com/openservicemesh/osm/pkg/ticker"
)

// expiring is a certificate that only has an expiry, for the rotor's ShouldRotate.
type expiring struct{ at time.Time }

func (e expiring) GetCommonName() certificate.CommonName     { return "osm-consumer" }
func (e expiring) GetCertificateChain() []byte               { return nil }
func (e expiring) GetPrivateKey() []byte                     { return nil }
func (e expiring) GetIssuingCA() []byte                      { return nil }
func (e expiring) GetExpiration() time.Time                  { return e.at }
func (e expiring) GetSerialNumber() certificate.SerialNumber { return "" }

// How often the rotor's ShouldRotate is asked: it adds 1-4s of noise, and a validity of 34s is
// renewed at once only with 4s (p = 0.25 per try; 200 tries miss it with p < 1e-24).
const rotationTries = 200

const (
	osmVersion     = "v0.8.4"
	osmNamespace   = "osm-system"
	configMapName  = constants.OSMConfigMap
	caseAnnotation = "osm-consumer.meshconfig-webhook/case"
	// pkg/ticker's minimumTickerDuration (unexported): an interval under it stops the ticker.
	tickerFloor = time.Minute
	// How long OSM may take to handle an update (the machine may be loaded).
	updateTimeout = 10 * time.Second
	// The pod IP the init container's POD_IP holds (TEST-NET-1; the namespace has no route).
	podIP = "192.0.2.10"
)

type finding struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

type logLine struct {
	Level     string `json:"level"`
	Component string `json:"component,omitempty"`
	Message   string `json:"message"`
	Error     string `json:"error,omitempty"`
}

type iptablesResult struct {
	Script   string   `json:"script"`
	ExitCode int      `json:"exitCode"`
	Stderr   string   `json:"stderr,omitempty"`
	Rules    []string `json:"rules,omitempty"`
}

// osmWebhook is what OSM v0.8.4's own webhook answers: allowed, and the text it returns
// (status.reason: one "\n<key>: <why>" per denial; status.message when it could not decode).
type osmWebhook struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

type verdict struct {
	ID         string          `json:"id"`
	OSM        string          `json:"osm"`
	Decoded    bool            `json:"decoded"`
	Harm       []finding       `json:"harm"`
	Ignored    []finding       `json:"ignored"`
	Logs       []logLine       `json:"logs,omitempty"`
	Effective  map[string]any  `json:"effective,omitempty"`
	Iptables   *iptablesResult `json:"iptables,omitempty"`
	OSMWebhook *osmWebhook     `json:"osmWebhook,omitempty"`
	Error      string          `json:"error,omitempty"`
}

type input struct {
	ID        string          `json:"id"`
	Object    json.RawMessage `json:"object"`
	OldObject json.RawMessage `json:"oldObject,omitempty"`
}

func main() {
	version := flag.Bool("version", false, "print the OSM version this consumer is built from")
	iptablesDir := flag.String("iptables-dir", "", "directory holding iptables-restore and iptables (put first on the init container's PATH)")
	asRoot := flag.Bool("iptables-as-root", false, "run the init container's command as root in `unshare -n` alone (as the v1.2.4 consumer does), not in a new user namespace of unprivileged host uids")
	flag.Parse()
	if *version {
		fmt.Println(osmVersion)
		return
	}
	if *iptablesDir == "" {
		fatalf("--iptables-dir is required: the directory with the pinned iptables-restore and iptables (make tools puts them in ./bin)")
	}
	logs, err := captureLogs()
	if err != nil {
		fatalf("capturing OSM's logs: %v", err)
	}
	c, err := newConsumer(logs, *iptablesDir, *asRoot)
	if err != nil {
		fatalf("starting OSM's configurator: %v", err)
	}
	in := bufio.NewReader(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var req input
			var v verdict
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				v = verdict{Error: "input line is not {id, object} JSON: " + jerr.Error()}
			} else {
				v = c.judge(req)
			}
			v.OSM = osmVersion
			if v.Harm == nil {
				v.Harm = []finding{}
			}
			if v.Ignored == nil {
				v.Ignored = []finding{}
			}
			if err := out.Encode(v); err != nil {
				fatalf("writing the verdict: %v", err)
			}
		}
		if err != nil {
			return
		}
	}
}

// stderr is the process's own standard error, kept apart from OSM's logs.
var stderr = os.Stderr

func fatalf(format string, args ...any) {
	fmt.Fprintf(stderr, "osm-consumer: "+format+"\n", args...)
	os.Exit(2)
}

// logSink is the file OSM's zerolog loggers write to: they captured os.Stderr (fd 2) when their
// packages were initialised, so fd 2 itself is pointed at the file.
type logSink struct {
	f      *os.File
	offset int64
}

func captureLogs() (*logSink, error) {
	f, err := os.CreateTemp("", "osm-consumer-logs-*")
	if err != nil {
		return nil, err
	}
	_ = os.Remove(f.Name())
	saved, err := syscall.Dup(2)
	if err != nil {
		return nil, err
	}
	stderr = os.NewFile(uintptr(saved), "stderr")
	if err := syscall.Dup3(int(f.Fd()), 2, 0); err != nil {
		return nil, err
	}
	// Trace, for the configurator's per-update line ("configmap update, NOT triggering global
	// proxy broadcast"), which tells when OSM is done with an update; trace lines are not
	// reported.
	zerolog.SetGlobalLevel(zerolog.TraceLevel)
	return &logSink{f: f}, nil
}

// since returns the lines OSM logged since the last call (writes are synchronous, so every line
// of a getter that returned is there).
func (s *logSink) since() []logLine {
	st, err := s.f.Stat()
	if err != nil || st.Size() <= s.offset {
		return nil
	}
	buf := make([]byte, st.Size()-s.offset)
	n, _ := s.f.ReadAt(buf, s.offset)
	// A line being written by another goroutine is left for the next call.
	if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
		n = i + 1
	} else {
		return nil
	}
	s.offset += int64(n)
	var lines []logLine
	for _, raw := range bytes.Split(buf[:n], []byte("\n")) {
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var l logLine
		if json.Unmarshal(raw, &l) != nil {
			l = logLine{Level: "raw", Message: string(raw)}
		}
		lines = append(lines, l)
	}
	return lines
}

// waitFor reads OSM's lines into *seen until every predicate has matched one of them (or
// updateTimeout has passed); it reports whether all matched.
func (s *logSink) waitFor(seen *[]logLine, preds ...func(logLine) bool) bool {
	deadline := time.Now().Add(updateTimeout)
	for {
		*seen = append(*seen, s.since()...)
		all := true
		for _, p := range preds {
			found := false
			for _, l := range *seen {
				if p(l) {
					found = true
					break
				}
			}
			all = all && found
		}
		if all {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// updateDone matches the line OSM's configurator logs once it has handled a ConfigMap update
// (pkg/configurator/client.go configMapListener).
func updateDone(l logLine) bool {
	return l.Component == "configurator" && (strings.Contains(l.Message, "OSM ConfigMap update triggered global proxy broadcast") ||
		strings.Contains(l.Message, "configmap update, NOT triggering global proxy broadcast"))
}

type consumer struct {
	logs        *logSink
	kube        *fakekube.Clientset
	cfg         configurator.Configurator
	client      *configurator.Client
	known       map[string]bool // every key OSM's parser reads in some ConfigMap
	ticker      time.Duration   // the interval OSM's ticker listener holds now
	iptablesDir string
	asRoot      bool
	scripts     map[string]*iptablesResult
}

func newConsumer(logs *logSink, iptablesDir string, asRoot bool) (*consumer, error) {
	stop := make(chan struct{})
	seed := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configMapName, Namespace: osmNamespace}}
	kube := fakekube.NewSimpleClientset(seed)
	// NewConfigurator starts its informer and waits for its cache to sync.
	cfg := configurator.NewConfigurator(kube, stop, osmNamespace, configMapName)
	client, ok := cfg.(*configurator.Client)
	if !ok {
		return nil, fmt.Errorf("OSM's configurator is a %T", cfg)
	}
	if client.OSMConsumerCachedConfigMap() == nil {
		return nil, fmt.Errorf("OSM's configurator does not see the ConfigMap %s/%s", osmNamespace, configMapName)
	}
	// As the mesh catalog starts it (pkg/catalog/catalog.go NewMeshCatalog).
	ticker.InitTicker(cfg)
	time.Sleep(10 * time.Millisecond)
	logs.since()
	c := &consumer{logs: logs, kube: kube, cfg: cfg, client: client, iptablesDir: iptablesDir, asRoot: asRoot, scripts: map[string]*iptablesResult{}}
	c.known = c.discoverKeys()
	if len(c.known) == 0 {
		return nil, fmt.Errorf("OSM's parser logged no missing key for an empty ConfigMap")
	}
	return c, nil
}

var missingKey = regexp.MustCompile(`^Key (\S+) does not exist in ConfigMap`)

// discoverKeys asks OSM's parser which keys it reads: it logs "Key K does not exist" for each
// key it looks up in an empty ConfigMap; those keys set to "true" turn on the keys read only
// under a switch (tracing_*, inbound_extauthz_*), until no new key appears.
func (c *consumer) discoverKeys() map[string]bool {
	known := map[string]bool{}
	probe := map[string]string{}
	for {
		c.logs.since()
		configurator.OSMConsumerParse(&corev1.ConfigMap{Data: probe})
		added := false
		for _, l := range c.logs.since() {
			if m := missingKey.FindStringSubmatch(l.Message); m != nil && !known[m[1]] {
				known[m[1]] = true
				probe[m[1]] = "true"
				added = true
			}
		}
		if !added {
			return known
		}
	}
}

var (
	decodeField   = regexp.MustCompile(`Go struct field [A-Za-z0-9_]+\.(\S+) of type`)
	jsoniterField = regexp.MustCompile(`^[A-Za-z0-9_]+\.([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$`)
)

// decodePath returns the JSON path of the value the decoder could not read, from its error:
// encoding/json's "Go struct field T.a.b of type ..." or, as apimachinery v0.18 decodes with
// json-iterator, its chain of Go fields ("v1.ConfigMap.Data: ReadString: ..."), turned into
// JSON names through the Go type; a non-string value in data is named by its key.
func decodePath(msg string, written map[string]any) string {
	if m := decodeField.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	t := reflect.TypeOf(corev1.ConfigMap{})
	var path []string
	for _, seg := range strings.Split(msg, ": ") {
		m := jsoniterField.FindStringSubmatch(seg)
		if m == nil {
			break
		}
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t.Name() != m[1] {
			break
		}
		f, ok := t.FieldByName(m[2])
		if !ok {
			break
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		path = append(path, name)
		t = f.Type
	}
	if len(path) == 0 {
		return "data"
	}
	p := strings.Join(path, ".")
	if p == "data" || p == "binaryData" {
		if m, ok := written[p].(map[string]any); ok {
			for _, k := range sortedKeys(m) {
				if _, isString := m[k].(string); !isString {
					return p + "." + k
				}
			}
		}
	}
	return p
}

var configMapKind = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}

// Parse errors of OSM v0.8.4's configurator, by the key they name.
var (
	convertError = regexp.MustCompile(`^Error converting ConfigMap \S+ key (\S+) with value (.*) to (bool|integer)$`)
	certError    = regexp.MustCompile(`^Error parsing service certificate validity duration service_cert_validity_duration=(.*)$`)
)

func (c *consumer) judge(req input) verdict {
	v := verdict{ID: req.ID, Effective: map[string]any{}}
	harmed := map[string]bool{}
	harm := func(field, format string, args ...any) {
		if !harmed[field] {
			harmed[field] = true
			v.Harm = append(v.Harm, finding{field, fmt.Sprintf(format, args...)})
		}
	}
	ignored := func(field, format string, args ...any) {
		v.Ignored = append(v.Ignored, finding{field, fmt.Sprintf(format, args...)})
	}
	var written map[string]any
	_ = json.Unmarshal(req.Object, &written)

	// 1. The decoder the configurator's informer lists and watches through (an object written
	// without apiVersion and kind is read as a v1 ConfigMap, as the apiserver would serve it).
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(req.Object, &configMapKind, nil)
	if runtime.IsNotRegisteredError(err) || runtime.IsMissingKind(err) || runtime.IsMissingVersion(err) {
		v.Error = fmt.Sprintf("not a ConfigMap client-go can decode: %v", err)
		return v
	}
	if err != nil {
		harm(decodePath(err.Error(), written), "OSM cannot decode the ConfigMap (%v): its informer drops it and OSM runs on its defaults", err)
		v.OSMWebhook = c.osmWebhook(req)
		return v
	}
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		v.Error = fmt.Sprintf("decoded a %T, not a ConfigMap", obj)
		return v
	}
	v.Decoded = true
	data := cm.Data
	for _, k := range sortedKeys(cm.BinaryData) {
		ignored("binaryData."+k, "OSM %s reads data only: the value is ignored", osmVersion)
	}

	// 2. OSM's own validating webhook, on the ConfigMap as an UPDATE.
	v.OSMWebhook = c.osmWebhook(req)

	// 3. The object in OSM's informer cache, read by the configurator.
	var seen []logLine
	if err := c.store(cm, req.ID, &seen); err != "" {
		v.Error = err
		return v
	}

	// 4. Getters: each parses the whole ConfigMap and logs every value it cannot parse, naming
	// the key and the value; a written key's value that OSM logs is one it falls back for.
	var getterLines []logLine
	getter := func(name string, read func() any) any {
		val := read()
		v.Effective[name] = val
		lines := c.logs.since()
		seen = append(seen, lines...)
		getterLines = append(getterLines, lines...)
		return val
	}
	getter("permissiveTrafficPolicyMode", func() any { return c.cfg.IsPermissiveTrafficPolicyMode() })
	getter("egress", func() any { return c.cfg.IsEgressEnabled() })
	getter("debugServer", func() any { return c.cfg.IsDebugServerEnabled() })
	getter("prometheusScraping", func() any { return c.cfg.IsPrometheusScrapingEnabled() })
	getter("useHTTPSIngress", func() any { return c.cfg.UseHTTPSIngress() })
	getter("privilegedInitContainer", func() any { return c.cfg.IsPrivilegedInitContainer() })
	tracing := getter("tracingEnable", func() any { return c.cfg.IsTracingEnabled() }).(bool)
	getter("tracingHost", func() any { return c.cfg.GetTracingHost() })
	tracingPort := getter("tracingPort", func() any { return c.cfg.GetTracingPort() }).(uint32)
	getter("tracingEndpoint", func() any { return c.cfg.GetTracingEndpoint() })
	getter("envoyLogLevel", func() any { return c.cfg.GetEnvoyLogLevel() })
	getter("serviceCertValidityPeriod", func() any { return c.cfg.GetServiceCertValidityPeriod().String() })
	getter("outboundIPRangeExclusionList", func() any { return c.cfg.GetOutboundIPRangeExclusionList() })
	resync := getter("configResyncInterval", func() any { return c.cfg.GetConfigResyncInterval() }).(time.Duration)
	v.Effective["configResyncInterval"] = resync.String()
	auth := getter("inboundExternalAuth", func() any { return c.cfg.GetInboundExternalAuthConfig() }).(configurator.ExternAuthConfig)
	v.Effective["inboundExternalAuth"] = map[string]any{"enable": auth.Enable, "address": auth.Address, "port": auth.Port,
		"statPrefix": auth.StatPrefix, "timeout": auth.AuthzTimeout.String(), "failureModeAllow": auth.FailureModeAllow}
	for _, l := range getterLines {
		msg := l.Message
		if l.Error != "" {
			msg += ": " + l.Error
		}
		if m := convertError.FindStringSubmatch(l.Message); m != nil {
			if val, ok := data[m[1]]; ok && val == m[2] {
				zero := "false"
				if m[3] == "integer" {
					zero = "0"
				}
				harm("data."+m[1], "OSM logs %q and reads it as %s", l.Level+": "+msg, zero)
			}
		} else if m := certError.FindStringSubmatch(l.Message); m != nil {
			if val, ok := data["service_cert_validity_duration"]; ok && val == m[1] {
				harm("data.service_cert_validity_duration", "OSM logs %q and uses %s instead", l.Level+": "+msg, v.Effective["serviceCertValidityPeriod"])
			}
		} else if strings.HasPrefix(l.Message, "Error parsing config resync interval") {
			if val, ok := data["config_resync_interval"]; ok && strings.Contains(l.Error, val) {
				harm("data.config_resync_interval", "OSM logs %q and uses 0s (no resync) instead", l.Level+": "+msg)
			}
		} else if strings.HasPrefix(l.Message, "ExternAuthzTimeout: Not a valid duration") {
			if val, ok := data["inbound_extauthz_timeout"]; ok && strings.Contains(l.Error, val) {
				harm("data.inbound_extauthz_timeout", "OSM logs %q and uses 1s instead", l.Level+": "+msg)
			}
		}
	}
	if s, ok := data["tracing_port"]; ok && tracing {
		if n, err := strconv.Atoi(s); err == nil && n != 0 && int64(tracingPort) != int64(n) {
			harm("data.tracing_port", "OSM turns the port %d into %d (uint32 of an int)", n, tracingPort)
		}
	}
	if s, ok := data["inbound_extauthz_port"]; ok && auth.Enable {
		if n, err := strconv.Atoi(s); err == nil && int64(auth.Port) != int64(n) {
			harm("data.inbound_extauthz_port", "OSM turns the port %d into %d (uint16 of an int)", n, auth.Port)
		}
	}

	// Certificates issued with a validity the rotor renews at once are replaced continuously
	// (pkg/certificate/rotor: renewBeforeCertExpires 30s plus 1-4s of noise).
	if val, ok := data["service_cert_validity_duration"]; ok {
		if d, err := time.ParseDuration(val); err == nil {
			for i := 0; i < rotationTries; i++ {
				if rotor.ShouldRotate(expiring{time.Now().Add(d)}) {
					harm("data.service_cert_validity_duration", "OSM's certificate rotor renews a certificate valid for %v as soon as it issues it (it renews 30s plus 1-4s of noise before expiry)", d)
					break
				}
			}
		}
	}

	// 5. The tracing cluster every Envoy gets while tracing is on, as Envoy's API validates it.
	if tracing {
		if err := cds.OSMConsumerTracingCluster(c.cfg).Validate(); err != nil {
			field := "data.tracing_address"
			if strings.Contains(err.Error(), "PortValue") {
				field = "data.tracing_port"
			}
			harm(field, "the tracing cluster OSM sends Envoy does not validate (%v): Envoy rejects the whole cluster update", err)
		}
	}

	// 6. The resync ticker: OSM's listener read the interval when the update arrived.
	if resync != c.ticker {
		if !c.logs.waitFor(&seen, tickerLine("Interval "), tickerLine("Ticker St")) {
			v.Error = fmt.Sprintf("OSM's resync ticker did not answer the update within %v", updateTimeout)
			c.reset(req.ID)
			return v
		}
		c.ticker = resync
	}
	for _, l := range seen {
		if l.Component == "ticker" && strings.HasPrefix(l.Message, "Interval ") {
			v.Effective["resyncTicker"] = l.Message
			if _, ok := data["config_resync_interval"]; ok && resync > 0 && resync < tickerFloor {
				ignored("data.config_resync_interval", "OSM's ticker logs %q and stops: no resync (OSM %s's floor is %s)", l.Message, osmVersion, tickerFloor)
			}
		}
	}

	// 7. Written keys OSM does not read (for this ConfigMap).
	for _, k := range sortedKeys(data) {
		if c.reads(data, k) {
			continue
		}
		if !c.known[k] {
			ignored("data."+k, "OSM %s reads no key %q: the value is ignored", osmVersion, k)
			continue
		}
		why := "not in this ConfigMap"
		for _, t := range sortedKeys(c.known) {
			if t == k {
				continue
			}
			on := copyData(data)
			on[t] = "true"
			if c.reads(on, k) {
				why = t + " is not true here"
				break
			}
		}
		ignored("data."+k, "OSM %s reads %q only under another key (%s): the value is ignored", osmVersion, k, why)
	}
	c.logs.since()

	// 8. The injector's init container, run as a pod would run it.
	container := injector.OSMConsumerInitContainer(c.cfg)
	script := container.Args[len(container.Args)-1]
	res := c.iptables(script)
	v.Iptables = res
	v.Harm = append(v.Harm, c.checkRules(data, res)...)

	// What OSM logged for this case: each line once (every getter parses the whole ConfigMap
	// again), without trace lines and the debug lines for keys the ConfigMap does not hold.
	logged := map[logLine]bool{}
	for _, l := range seen {
		if l.Level != "trace" && !missingKey.MatchString(l.Message) && !logged[l] {
			logged[l] = true
			v.Logs = append(v.Logs, l)
		}
	}

	c.reset(req.ID)
	return v
}

// reset stores the empty ConfigMap again, so that the next case starts where this one did (the
// ticker off).
func (c *consumer) reset(id string) {
	var lines []logLine
	if err := c.store(&corev1.ConfigMap{}, "reset-"+id, &lines); err != "" {
		fatalf("resetting OSM's ConfigMap after case %q: %s", id, err)
	}
	if c.ticker != 0 {
		if !c.logs.waitFor(&lines, tickerLine("Interval "), tickerLine("Ticker Stopping")) {
			fatalf("OSM's ticker did not stop after case %q within %v", id, updateTimeout)
		}
		c.ticker = 0
	}
}

func tickerLine(prefix string) func(logLine) bool {
	return func(l logLine) bool { return l.Component == "ticker" && strings.HasPrefix(l.Message, prefix) }
}

// store writes cm as OSM's osm-config into the fake clientset and waits until OSM's informer
// cache holds it and the configurator has handled the update; OSM's lines go to *seen.
func (c *consumer) store(cm *corev1.ConfigMap, id string, seen *[]logLine) string {
	cm = cm.DeepCopy()
	cm.Namespace, cm.Name, cm.ResourceVersion = osmNamespace, configMapName, ""
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	cm.Annotations[caseAnnotation] = id
	*seen = append(*seen, c.logs.since()...)
	if _, err := c.kube.CoreV1().ConfigMaps(osmNamespace).Update(context.TODO(), cm, metav1.UpdateOptions{}); err != nil {
		return "updating the fake clientset: " + err.Error()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := c.client.OSMConsumerCachedConfigMap(); got != nil && got.Annotations[caseAnnotation] == id {
			break
		}
		if time.Now().After(deadline) {
			return "OSM's informer did not see the update within 10s"
		}
		time.Sleep(time.Millisecond)
	}
	if !c.logs.waitFor(seen, updateDone) {
		return fmt.Sprintf("OSM's configurator did not handle the update within %v", updateTimeout)
	}
	return ""
}

// reads tells whether OSM's parser reads key k of data: whether the value OSM parses changes
// when k is "true" or "7" rather than absent (any key OSM reads, bool, int or string, differs
// on one of them).
func (c *consumer) reads(data map[string]string, k string) bool {
	without := copyData(data)
	delete(without, k)
	base := configurator.OSMConsumerParse(&corev1.ConfigMap{Data: without})
	for _, probe := range []string{"true", "7"} {
		with := copyData(without)
		with[k] = probe
		if !reflect.DeepEqual(base, configurator.OSMConsumerParse(&corev1.ConfigMap{Data: with})) {
			c.logs.since()
			return true
		}
	}
	c.logs.since()
	return false
}

// osmWebhook runs OSM's validating webhook handler on the AdmissionReview of an UPDATE of the
// object (against oldObject, or the object itself), with the stored osm-config it compares
// metadata with in a fake clientset.
func (c *consumer) osmWebhook(req input) (res *osmWebhook) {
	old := req.OldObject
	if len(bytes.TrimSpace(old)) == 0 {
		old = req.Object
	}
	var meta struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(req.Object, &meta)
	name, namespace := meta.Metadata.Name, meta.Metadata.Namespace
	if name == "" {
		name = configMapName
	}
	if namespace == "" {
		namespace = osmNamespace
	}
	kube := fakekube.NewSimpleClientset()
	if obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(old, &configMapKind, nil); err == nil {
		if stored, ok := obj.(*corev1.ConfigMap); ok {
			stored.Namespace, stored.Name = osmNamespace, configMapName
			_ = kube.Tracker().Add(stored)
		}
	}
	review := map[string]any{
		"apiVersion": "admission.k8s.io/v1beta1",
		"kind":       "AdmissionReview",
		"request": map[string]any{
			"uid":       "osm-consumer-" + req.ID,
			"kind":      map[string]string{"group": "", "version": "v1", "kind": "ConfigMap"},
			"resource":  map[string]string{"group": "", "version": "v1", "resource": "configmaps"},
			"name":      name,
			"namespace": namespace,
			"operation": "UPDATE",
			"userInfo":  map[string]any{"username": "osm-consumer"},
			"object":    json.RawMessage(req.Object),
			"oldObject": json.RawMessage(old),
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		return &osmWebhook{Reason: "osm-consumer could not build the AdmissionReview: " + err.Error()}
	}
	defer func() {
		if p := recover(); p != nil {
			res = &osmWebhook{Reason: fmt.Sprintf("OSM's webhook panics: %v (the HTTP server drops the connection; the apiserver applies the failurePolicy)", p)}
		}
	}()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/validate-webhook", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	configurator.OSMConsumerValidatingWebhook(kube, osmNamespace)(w, r)
	c.logs.since()
	var resp struct {
		Response struct {
			Allowed bool `json:"allowed"`
			Status  struct {
				Reason  string `json:"reason"`
				Message string `json:"message"`
			} `json:"status"`
		} `json:"response"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &resp) != nil {
		return &osmWebhook{Reason: fmt.Sprintf("OSM's webhook answers HTTP %d: %s", w.Code, strings.TrimSpace(w.Body.String()))}
	}
	reason := resp.Response.Status.Reason
	if reason == "" {
		reason = resp.Response.Status.Message
	}
	return &osmWebhook{Allowed: resp.Response.Allowed, Reason: reason}
}

// iptables runs the init container's command (/bin/sh -c SCRIPT, as the pod does) in a new
// network namespace (unshare -n), then lists the nat table there. Results are cached by script.
//
// OSM v0.8.4 puts the exclusion list's entries unquoted into its command line, so a space, `;`,
// `$(...)` and the like in the ConfigMap are the shell's. By default unshare therefore starts in
// a new user namespace whose uids 0-65535 are the host's unprivileged 100000-165535 (root there
// owns the network namespace, so iptables works and the proxy's uid 1500 in `-m owner` is
// mapped; the host's files are out of its reach); --iptables-as-root runs it as the v1.2.4
// consumer does.
func (c *consumer) iptables(script string) *iptablesResult {
	if r, ok := c.scripts[script]; ok {
		return r
	}
	r := &iptablesResult{Script: script}
	const wrapper = `/bin/sh -c "$1" || exit $?; iptables -t nat -S`
	cmd := exec.Command("unshare", "-n", "--", "/bin/sh", "-c", wrapper, "osm-init", script)
	lock := os.TempDir() + "/osm-consumer-xtables.lock"
	if !c.asRoot {
		lock = os.TempDir() + "/osm-consumer-xtables-userns.lock"
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
			Credential:  &syscall.Credential{Uid: 0, Gid: 0},
		}
	}
	cmd.Env = []string{"PATH=" + c.iptablesDir + ":/usr/sbin:/usr/bin:/sbin:/bin", "POD_IP=" + podIP, "XTABLES_LOCKFILE=" + lock}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	// iptables' message and the line it stopped at, on one line.
	var msg []string
	for _, l := range strings.Split(errb.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Try `iptables") {
			msg = append(msg, l)
		}
	}
	r.Stderr = strings.Join(msg, "; ")
	if err != nil {
		r.ExitCode = -1
		if ee, ok := err.(*exec.ExitError); ok {
			r.ExitCode = ee.ExitCode()
		} else {
			fatalf("running the init container's command: %v (it runs in a new user and network namespace and needs root; CI runs as root)", err)
		}
		if strings.Contains(r.Stderr, "unshare failed") {
			fatalf("unshare -n failed (%s): the iptables check runs OSM's init container in a new network namespace and needs root (CI runs as root)", r.Stderr)
		}
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			r.Rules = append(r.Rules, l)
		}
	}
	c.scripts[script] = r
	return r
}

// checkRules compares what iptables holds with what the ConfigMap wrote: every entry of the
// comma-separated outbound_ip_range_exclusion_list (spaces around entries allowed) must be
// there as the network it names.
func (c *consumer) checkRules(data map[string]string, r *iptablesResult) []finding {
	const key = "outbound_ip_range_exclusion_list"
	field := "data." + key
	value, written := data[key]
	if r.ExitCode != 0 {
		if !written {
			field = "data"
		}
		return []finding{{field, fmt.Sprintf("the init container OSM injects fails (exit %d): %s", r.ExitCode, r.Stderr)}}
	}
	if !written || value == "" {
		return nil
	}
	have := map[string]bool{}
	for _, rule := range r.Rules {
		have[rule] = true
	}
	instead := addedRules(r, c.iptables(injector.OSMConsumerBaselineScript()))
	var out []finding
	for i, entry := range strings.Split(value, ",") {
		entry = strings.TrimSpace(entry)
		network, ok := writtenNetwork(entry)
		if !ok {
			out = append(out, finding{field, fmt.Sprintf("entry %d %q: iptables accepted it, and it names no IPv4 network", i+1, entry)})
			continue
		}
		rule := fmt.Sprintf("-A PROXY_OUTPUT %s-j RETURN", destination(network))
		if !have[rule] {
			out = append(out, finding{field, fmt.Sprintf("entry %d %q: iptables holds no rule %q for the network %s; the list gave it: %s", i+1, entry, rule, network, instead)})
		}
	}
	return out
}

// addedRules lists the rules r holds that the baseline (the script without lists) does not: what
// the lists gave iptables.
func addedRules(r, baseline *iptablesResult) string {
	base := map[string]bool{}
	for _, rule := range baseline.Rules {
		base[rule] = true
	}
	var added []string
	for _, rule := range r.Rules {
		if !base[rule] {
			added = append(added, rule)
		}
	}
	if len(added) == 0 {
		return "no rule of its own"
	}
	return strings.Join(added, "; ")
}

// destination is a rule's "-d NETWORK " as iptables prints it (nothing for the whole address
// space).
func destination(network string) string {
	if network == "0.0.0.0/0" {
		return ""
	}
	return "-d " + network + " "
}

// writtenNetwork reads "a.b.c.d/n" as a person writes it (decimal octets, leading zeros and all)
// and returns the network it names, as iptables prints one ("10.0.0.0/8").
func writtenNetwork(s string) (string, bool) {
	addr, bits, ok := strings.Cut(s, "/")
	if !ok {
		return "", false
	}
	parts := strings.Split(addr, ".")
	if len(parts) != 4 {
		return "", false
	}
	var ip uint32
	for _, p := range parts {
		var n uint32
		if p == "" || len(p) > 3 {
			return "", false
		}
		for _, ch := range p {
			if ch < '0' || ch > '9' {
				return "", false
			}
			n = n*10 + uint32(ch-'0')
		}
		if n > 255 {
			return "", false
		}
		ip = ip<<8 | n
	}
	var prefix uint32
	if bits == "" || len(bits) > 2 {
		return "", false
	}
	for _, ch := range bits {
		if ch < '0' || ch > '9' {
			return "", false
		}
		prefix = prefix*10 + uint32(ch-'0')
	}
	if prefix > 32 {
		return "", false
	}
	mask := uint32(0)
	if prefix > 0 {
		mask = ^uint32(0) << (32 - prefix)
	}
	ip &= mask
	return fmt.Sprintf("%d.%d.%d.%d/%d", ip>>24, ip>>16&255, ip>>8&255, ip&255, prefix), true
}

func copyData(data map[string]string) map[string]string {
	out := make(map[string]string, len(data)+1)
	for k, v := range data {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
