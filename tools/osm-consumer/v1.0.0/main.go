// Command osm-consumer runs OSM v1.0.0's own code on MeshConfigs and reports what OSM does with
// each one, so that the webhook's rules can be judged by OSM itself rather than by a reading of
// its source. It is the v1.0.0 sibling of ../v1.2.4 (same protocol, same classification).
//
// Input (stdin): one JSON object per line, {"id": "...", "object": <a MeshConfig as the
// apiserver serves it, v1alpha1 — OSM v1.0's only and storage version>}. Output (stdout): one
// JSON object per line (see `verdict`).
//
// What runs, all of it OSM's code unchanged (the added files, *.go.overlay, only call OSM's
// unexported functions):
//   - the clientset's decoder (scheme.Codecs.UniversalDeserializer), which every list and watch
//     goes through: an undecodable MeshConfig is invisible to OSM;
//   - OSM's configurator (configurator.NewConfigurator, which runs its own MeshConfig informer)
//     over a fake clientset holding the object, and every getter, with what OSM logs at debug
//     level and above;
//   - logger.SetLogLevel (the controller's log-level switch, as pkg/k8s's
//     WatchAndUpdateLogLevel calls it), the resync ticker fed a MeshConfig update through OSM's
//     message broker, and the ingress client's createAndStoreGatewayCert for
//     spec.certificate.ingressGateway (v1.0.0 has no getter for it);
//   - the injector's init container for a bare pod (createPatch's non-Windows branch), whose
//     command is run by /bin/sh with the real iptables-restore inside a throwaway network
//     namespace (unshare -n) and read back with `iptables -t nat -S`.
//
// v1.0.0 has no TLS version fields (envoy.GetTLSParams takes no argument there), no inclusion
// list and no interface exclusion list: those steps of the v1.2.4 consumer do not exist here
// (a v1.2 field written into a v1alpha1 object is reported as ignored: the Go type drops it).
//
// Classification: "harm" is OSM mishandling a written value (cannot decode the object, falls
// back to a default, uses another value, refuses it, the init container fails or installs
// another rule); "ignored" is OSM logging the value and leaving its state unchanged.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	fakekube "k8s.io/client-go/kubernetes/fake"

	"github.com/openservicemesh/osm/pkg/announcements"
	configv1alpha1 "github.com/openservicemesh/osm/pkg/apis/config/v1alpha1"
	"github.com/openservicemesh/osm/pkg/certificate"
	"github.com/openservicemesh/osm/pkg/certificate/rotor"
	"github.com/openservicemesh/osm/pkg/configurator"
	fakeconfig "github.com/openservicemesh/osm/pkg/gen/client/config/clientset/versioned/fake"
	"github.com/openservicemesh/osm/pkg/gen/client/config/clientset/versioned/scheme"
	"github.com/openservicemesh/osm/pkg/ingress"
	"github.com/openservicemesh/osm/pkg/injector"
	"github.com/openservicemesh/osm/pkg/k8s/events"
	"github.com/openservicemesh/osm/pkg/logger"
	"github.com/openservicemesh/osm/pkg/messaging"
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

const (
	// How often the rotor's ShouldRotate is asked: it adds 1-4s of noise, and a validity of 34s
	// is renewed at once only with 4s (p = 0.25 per try; 200 tries miss it with p < 1e-24).
	rotationTries  = 200
	osmVersion     = "v1.0.0"
	osmNamespace   = "osm-system"
	meshConfigName = "osm-mesh-config"
	caseAnnotation = "osm-consumer.meshconfig-webhook/case"
	// The minimum resync interval osm-controller gives its ticker: a literal in
	// pkg/catalog/catalog.go's NewMeshCatalog (ticker.NewResyncTicker(msgBroker, 30*time.Second)).
	catalogMinResync = 30 * time.Second
	// How long the ticker may take to answer an update (the machine may be loaded).
	tickerTimeout = 10 * time.Second
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

type verdict struct {
	ID        string          `json:"id"`
	OSM       string          `json:"osm"`
	Decoded   bool            `json:"decoded"`
	Harm      []finding       `json:"harm"`
	Ignored   []finding       `json:"ignored"`
	Logs      []logLine       `json:"logs,omitempty"`
	Effective map[string]any  `json:"effective,omitempty"`
	Iptables  *iptablesResult `json:"iptables,omitempty"`
	Error     string          `json:"error,omitempty"`
}

type input struct {
	ID     string          `json:"id"`
	Object json.RawMessage `json:"object"`
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
	zerolog.SetGlobalLevel(zerolog.DebugLevel)
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

type consumer struct {
	logs        *logSink
	client      *fakeconfig.Clientset
	cfg         configurator.Configurator
	iptablesDir string
	asRoot      bool
	scripts     map[string]*iptablesResult
}

func newConsumer(logs *logSink, iptablesDir string, asRoot bool) (*consumer, error) {
	stop := make(chan struct{})
	seed := &configv1alpha1.MeshConfig{ObjectMeta: metav1.ObjectMeta{Name: meshConfigName, Namespace: osmNamespace}}
	client := fakeconfig.NewSimpleClientset(seed)
	// NewConfigurator starts its informer and waits for its cache to sync.
	cfg := configurator.NewConfigurator(client, stop, osmNamespace, meshConfigName, messaging.NewBroker(stop))
	if cfg.GetMeshConfig().Name != meshConfigName {
		return nil, fmt.Errorf("OSM's configurator does not see the MeshConfig %s/%s", osmNamespace, meshConfigName)
	}
	logs.since()
	return &consumer{logs: logs, client: client, cfg: cfg, iptablesDir: iptablesDir, asRoot: asRoot, scripts: map[string]*iptablesResult{}}, nil
}

var (
	decodeField   = regexp.MustCompile(`Go struct field [A-Za-z0-9_]+\.(\S+) of type`)
	jsoniterField = regexp.MustCompile(`^[A-Za-z0-9_]+\.([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$`)
)

// decodePath returns the JSON path of the value the decoder could not read, from its error:
// encoding/json's "Go struct field T.a.b of type ..." or, as apimachinery v0.22 decodes with
// json-iterator, its chain of Go fields ("v1alpha1.MeshConfig.Spec: v1alpha1.MeshConfigSpec.
// Observability: ...: ReadInt16: overflow ..."), turned into JSON names through the Go type.
func decodePath(msg string) string {
	if m := decodeField.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	t := reflect.TypeOf(configv1alpha1.MeshConfig{})
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
		return "spec"
	}
	return strings.Join(path, ".")
}

func (c *consumer) judge(req input) verdict {
	v := verdict{ID: req.ID, Effective: map[string]any{}}
	harm := func(field, format string, args ...any) {
		v.Harm = append(v.Harm, finding{field, fmt.Sprintf(format, args...)})
	}
	ignored := func(field, format string, args ...any) {
		v.Ignored = append(v.Ignored, finding{field, fmt.Sprintf(format, args...)})
	}

	// 1. The decoder every list and watch of OSM's clientset goes through.
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(req.Object, nil, nil)
	if runtime.IsNotRegisteredError(err) {
		v.Error = fmt.Sprintf("OSM %s knows only v1alpha1 MeshConfigs: %v", osmVersion, err)
		return v
	}
	if err != nil {
		harm(decodePath(err.Error()), "OSM cannot decode the MeshConfig (%v): its informers drop it and OSM runs on zero values", err)
		return v
	}
	mc, ok := obj.(*configv1alpha1.MeshConfig)
	if !ok {
		v.Error = fmt.Sprintf("decoded a %T, not a v1alpha1 MeshConfig (OSM %s reads the storage version)", obj, osmVersion)
		return v
	}
	v.Decoded = true
	var written map[string]any
	_ = json.Unmarshal(req.Object, &written)
	for _, p := range droppedFields(written, mc) {
		ignored(p, "OSM %s's Go type has no such field: the value is ignored", osmVersion)
	}

	// 2. The object in OSM's informer cache, read by the configurator.
	mc.Namespace, mc.Name, mc.ResourceVersion = osmNamespace, meshConfigName, ""
	if mc.Annotations == nil {
		mc.Annotations = map[string]string{}
	}
	mc.Annotations[caseAnnotation] = req.ID
	if _, err := c.client.ConfigV1alpha1().MeshConfigs(osmNamespace).Update(context.TODO(), mc, metav1.UpdateOptions{}); err != nil {
		v.Error = "updating the fake clientset: " + err.Error()
		return v
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.cfg.GetMeshConfig().Annotations[caseAnnotation] != req.ID {
		if time.Now().After(deadline) {
			v.Error = "OSM's informer did not see the update within 10s"
			return v
		}
		time.Sleep(time.Millisecond)
	}
	c.logs.since()
	spec := mc.Spec
	has := func(path string) bool { return lookup(written, path) != nil }

	// 3. Getters: a getter that logs while reading a written value has fallen back to a default.
	getter := func(name, field string, read func() any) {
		val := read()
		v.Effective[name] = val
		lines := c.logs.since()
		v.Logs = append(v.Logs, lines...)
		if len(lines) > 0 && has(field) {
			harm(field, "OSM logs %q and uses %v instead", describe(lines), val)
		}
	}
	getter("serviceCertValidityPeriod", "spec.certificate.serviceCertValidityDuration", func() any { return c.cfg.GetServiceCertValidityPeriod().String() })
	getter("certKeyBitSize", "spec.certificate.certKeyBitSize", func() any { return c.cfg.GetCertKeyBitSize() })
	getter("inboundExternalAuthTimeout", "spec.traffic.inboundExternalAuthorization.timeout", func() any { return c.cfg.GetInboundExternalAuthConfig().AuthzTimeout.String() })
	getter("configResyncInterval", "", func() any { return c.cfg.GetConfigResyncInterval().String() })
	getter("envoyLogLevel", "", func() any { return c.cfg.GetEnvoyLogLevel() })
	getter("maxDataPlaneConnections", "", func() any { return c.cfg.GetMaxDataPlaneConnections() })
	getter("tracingHost", "", func() any { return c.cfg.GetTracingHost() })
	getter("tracingEndpoint", "", func() any { return c.cfg.GetTracingEndpoint() })
	getter("tracingPort", "", func() any { return c.cfg.GetTracingPort() })
	if p := spec.Observability.Tracing.Port; p != 0 && int64(c.cfg.GetTracingPort()) != int64(p) {
		harm("spec.observability.tracing.port", "OSM turns the port %d into %d (uint32 of an int16)", p, c.cfg.GetTracingPort())
	}
	c.logs.since()

	// 4. The ingress gateway certificate: OSM's ingress client parses the spec when it issues
	// the certificate (at startup a failure is fatal to osm-controller: ingress.Initialize's
	// error is a FatalEvent; on an update it is logged and the old certificate kept).
	if gw := spec.Certificate.IngressGateway; gw != nil {
		certs := &recordingCertManager{}
		err := ingress.OSMConsumerGatewayCert(*gw, fakekube.NewSimpleClientset(), certs)
		v.Logs = append(v.Logs, c.logs.since()...)
		if err != nil {
			harm("spec.certificate.ingressGateway", "OSM's ingress client refuses the gateway certificate spec (%v): no certificate is issued (osm-controller exits at startup; an update is logged and the old certificate kept)", err)
		} else {
			v.Effective["ingressGatewayCertValidityPeriod"] = certs.validity.String()
		}
	}

	// Certificates issued with a validity the rotor renews at once are replaced continuously
	// (pkg/certificate/rotor: renewBeforeCertExpires 30s plus 1-4s of noise).
	rotation := func(field, s string) {
		if !has(field) {
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return
		}
		for i := 0; i < rotationTries; i++ {
			if rotor.ShouldRotate(expiring{time.Now().Add(d)}) {
				harm(field, "OSM's certificate rotor renews a certificate valid for %v as soon as it issues it (it renews 30s plus 1-4s of noise before expiry)", d)
				return
			}
		}
	}
	rotation("spec.certificate.serviceCertValidityDuration", spec.Certificate.ServiceCertValidityDuration)
	if gw := spec.Certificate.IngressGateway; gw != nil {
		rotation("spec.certificate.ingressGateway.validityDuration", gw.ValidityDuration)
	}
	c.logs.since()

	// 5. The controller's log-level switch, as WatchAndUpdateLogLevel calls it on a change.
	if err := logger.SetLogLevel(spec.Observability.OSMLogLevel); err != nil {
		ignored("spec.observability.osmLogLevel", "OSM logs \"Error setting controller log level to %s: %v\" and keeps its level", spec.Observability.OSMLogLevel, err)
	} else {
		v.Effective["osmLogLevel"] = zerolog.GlobalLevel().String()
	}
	zerolog.SetGlobalLevel(zerolog.DebugLevel)
	c.logs.since()

	// 6. The resync ticker, fed the change through OSM's broker.
	if s := spec.Sidecar.ConfigResyncInterval; s != "" {
		line := c.resync(s)
		v.Effective["resyncTicker"] = line.Message
		switch {
		case strings.Contains(line.Message, "less than min allowed interval"):
			ignored("spec.sidecar.configResyncInterval", "OSM's ticker logs %q and does not resync", line.Message)
		case strings.Contains(line.Message, "Error parsing"):
			ignored("spec.sidecar.configResyncInterval", "OSM's ticker logs \"%s: %s\" and keeps its interval", line.Message, line.Error)
		case line.Message == "":
			v.Error = fmt.Sprintf("OSM's resync ticker did not answer the update within %v", tickerTimeout)
			return v
		}
	}

	// 7. The injector's init container, run as a pod would run it.
	container := injector.OSMConsumerInitContainer(c.cfg)
	script := container.Args[len(container.Args)-1]
	res := c.iptables(script)
	v.Iptables = res
	v.Harm = append(v.Harm, c.checkRules(spec, res)...)
	c.logs.since()
	return v
}

// recordingCertManager stands in for OSM's certificate provider: it records the validity the
// ingress client asks for and hands back an empty certificate.
type recordingCertManager struct{ validity time.Duration }

type emptyCert struct{ cn certificate.CommonName }

func (e emptyCert) GetCommonName() certificate.CommonName     { return e.cn }
func (e emptyCert) GetCertificateChain() []byte               { return nil }
func (e emptyCert) GetPrivateKey() []byte                     { return nil }
func (e emptyCert) GetIssuingCA() []byte                      { return nil }
func (e emptyCert) GetExpiration() time.Time                  { return time.Time{} }
func (e emptyCert) GetSerialNumber() certificate.SerialNumber { return "" }

func (m *recordingCertManager) IssueCertificate(cn certificate.CommonName, d time.Duration) (certificate.Certificater, error) {
	m.validity = d
	return emptyCert{cn}, nil
}
func (m *recordingCertManager) GetCertificate(cn certificate.CommonName) (certificate.Certificater, error) {
	return emptyCert{cn}, nil
}
func (m *recordingCertManager) RotateCertificate(cn certificate.CommonName) (certificate.Certificater, error) {
	return emptyCert{cn}, nil
}
func (m *recordingCertManager) GetRootCertificate() (certificate.Certificater, error) {
	return emptyCert{}, nil
}
func (m *recordingCertManager) ListCertificates() ([]certificate.Certificater, error) {
	return nil, nil
}
func (m *recordingCertManager) ReleaseCertificate(certificate.CommonName) {}

// resync feeds a MeshConfig update (interval "" to s) to a fresh ticker of OSM's and returns the
// first line it logs (empty if it never answers). The ticker subscribes in its own goroutine, so
// the event is published again until it answers.
func (c *consumer) resync(s string) logLine {
	quit := make(chan struct{})
	defer close(quit)
	broker := messaging.NewBroker(quit)
	t := ticker.NewResyncTicker(broker, catalogMinResync)
	t.Start(quit)
	c.logs.since()
	old := &configv1alpha1.MeshConfig{}
	newMC := &configv1alpha1.MeshConfig{}
	newMC.Spec.Sidecar.ConfigResyncInterval = s
	msg := events.PubSubMessage{Kind: announcements.MeshConfigUpdated, OldObj: old, NewObj: newMC}
	deadline := time.Now().Add(tickerTimeout)
	for time.Now().Before(deadline) {
		broker.GetKubeEventPubSub().Pub(msg, announcements.MeshConfigUpdated.String())
		wait := time.Now().Add(50 * time.Millisecond)
		for time.Now().Before(wait) {
			for _, l := range c.logs.since() {
				if l.Component == "ticker" {
					return l
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return logLine{}
}

// iptables runs the init container's command (/bin/sh -c SCRIPT, as the pod does) in a new
// network namespace (unshare -n), then lists the nat table there. Results are cached by script.
//
// OSM v1.0.0 puts the exclusion lists into an unquoted here-document, so `$(...)` and backquotes
// in a MeshConfig value are run by the shell. By default unshare therefore starts in a new user
// namespace whose uids 0-65535 are the host's unprivileged 100000-165535 (root there owns the
// network namespace, so iptables works and the proxy's uid 1500 in `-m owner` is mapped; the
// host's files are out of its reach); --iptables-as-root runs it as the v1.2.4 consumer does.
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

// checkRules compares what iptables holds with what the MeshConfig wrote: every list item must
// be there as written (a CIDR as the network it names, the ports as one multiport rule).
func (c *consumer) checkRules(spec configv1alpha1.MeshConfigSpec, r *iptablesResult) []finding {
	if r.ExitCode != 0 {
		return []finding{{"spec.traffic", fmt.Sprintf("the init container OSM injects fails (exit %d): %s", r.ExitCode, r.Stderr)}}
	}
	have := map[string]bool{}
	for _, rule := range r.Rules {
		have[rule] = true
	}
	instead := addedRules(r, c.iptables(injector.OSMConsumerBaselineScript()))
	var out []finding
	want := func(field, rule, what string) {
		if !have[rule] {
			out = append(out, finding{field, fmt.Sprintf("iptables holds no rule %q for %s; the lists gave it: %s", rule, what, instead)})
		}
	}
	t := spec.Traffic
	for i, s := range t.OutboundIPRangeExclusionList {
		f := fmt.Sprintf("spec.traffic.outboundIPRangeExclusionList[%d]", i)
		network, ok := writtenNetwork(s)
		if !ok {
			out = append(out, finding{f, fmt.Sprintf("iptables accepted %q, which names no IPv4 network", s)})
			continue
		}
		want(f, fmt.Sprintf("-A OSM_PROXY_OUTBOUND %s-j RETURN", destination(network)), fmt.Sprintf("%q (the network %s)", s, network))
	}
	ports := func(field string, list []int, chain string) {
		if len(list) == 0 {
			return
		}
		var s []string
		seen := map[int]bool{}
		for _, p := range list {
			if !seen[p] {
				seen[p] = true
				s = append(s, fmt.Sprint(p))
			}
		}
		want(field, fmt.Sprintf("-A %s -p tcp -m multiport --dports %s -j RETURN", chain, strings.Join(s, ",")), "the ports "+strings.Join(s, ","))
	}
	ports("spec.traffic.outboundPortExclusionList", t.OutboundPortExclusionList, "OSM_PROXY_OUTBOUND")
	ports("spec.traffic.inboundPortExclusionList", t.InboundPortExclusionList, "OSM_PROXY_INBOUND")
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

// droppedFields lists the spec paths written with a non-zero value that OSM's Go type does not
// keep (absent when the decoded object is encoded again).
func droppedFields(written map[string]any, mc *configv1alpha1.MeshConfig) []string {
	raw, err := json.Marshal(mc)
	if err != nil {
		return nil
	}
	var kept map[string]any
	if json.Unmarshal(raw, &kept) != nil {
		return nil
	}
	var out []string
	var walk func(path string, w, k any)
	walk = func(path string, w, k any) {
		wm, ok := w.(map[string]any)
		if !ok {
			return
		}
		km, _ := k.(map[string]any)
		for key, val := range wm {
			p := path + "." + key
			kv, present := km[key]
			if !present {
				if !isZero(val) {
					out = append(out, p)
				}
				continue
			}
			walk(p, val, kv)
		}
	}
	walk("spec", written["spec"], kept["spec"])
	return out
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case float64:
		return x == 0
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		for _, e := range x {
			if !isZero(e) {
				return false
			}
		}
		return true
	}
	return false
}

// lookup returns the value at a dotted path ("spec.a.b"), or nil.
func lookup(obj map[string]any, path string) any {
	if path == "" {
		return nil
	}
	var cur any = obj
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func describe(lines []logLine) string {
	var parts []string
	for _, l := range lines {
		s := l.Message
		if l.Error != "" {
			s += ": " + l.Error
		}
		parts = append(parts, l.Level+": "+s)
	}
	return strings.Join(parts, "; ")
}
