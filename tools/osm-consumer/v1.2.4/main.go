// Command osm-consumer runs OSM v1.2.4's own code on MeshConfigs and reports what OSM does with
// each one, so that the webhook's rules can be judged by OSM itself rather than by a reading of
// its source.
//
// `osm-consumer watch --kubeconfig F --namespace NS` instead runs OSM's informer and configurator
// on a real apiserver and prints OSM's view of osm-mesh-config whenever it changes (watch.go).
//
// Input (stdin): one JSON object per line, {"id": "...", "object": <a MeshConfig as the
// apiserver serves it, v1alpha2>}. Output (stdout): one JSON object per line (see `verdict`).
//
// What runs, all of it OSM's code unchanged (the one added file, injector_export.go.overlay,
// only calls OSM's unexported injector function):
//   - the clientset's decoder (scheme.Codecs.UniversalDeserializer), which every list and watch
//     goes through: an undecodable MeshConfig is invisible to OSM;
//   - OSM's informer collection and configurator over a fake clientset holding the object, and
//     every getter, with what OSM logs at debug level and above;
//   - the certificate manager's shouldRotate for the validity durations (certificate_export);
//   - logger.SetLogLevel (the controller's log-level switch), envoy.GetTLSParams and its
//     Validate(), the resync ticker fed a MeshConfig update through OSM's message broker;
//   - the injector's configurePodInit for a bare pod, whose init-container command is run by
//     /bin/sh with the real iptables-restore inside a throwaway network namespace (unshare -n)
//     and read back with `iptables -t nat -S`.
//
// Classification: "harm" is OSM mishandling a written value (cannot decode the object, falls
// back to a default, uses another value, the init container fails or installs another rule);
// "ignored" is OSM logging the value and leaving its state unchanged.
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
	"regexp"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1alpha2 "github.com/openservicemesh/osm/pkg/apis/config/v1alpha2"
	"github.com/openservicemesh/osm/pkg/announcements"
	"github.com/openservicemesh/osm/pkg/certificate"
	"github.com/openservicemesh/osm/pkg/configurator"
	"github.com/openservicemesh/osm/pkg/envoy"
	fakeconfig "github.com/openservicemesh/osm/pkg/gen/client/config/clientset/versioned/fake"
	"github.com/openservicemesh/osm/pkg/gen/client/config/clientset/versioned/scheme"
	"github.com/openservicemesh/osm/pkg/injector"
	"github.com/openservicemesh/osm/pkg/k8s/events"
	"github.com/openservicemesh/osm/pkg/k8s/informers"
	"github.com/openservicemesh/osm/pkg/logger"
	"github.com/openservicemesh/osm/pkg/messaging"
	"github.com/openservicemesh/osm/pkg/ticker"
)

const (
	osmVersion     = "v1.2.4"
	osmNamespace   = "osm-system"
	meshConfigName = "osm-mesh-config"
	caseAnnotation = "osm-consumer.meshconfig-webhook/case"
	// The minimum resync interval osm-controller gives its ticker (pkg/catalog/catalog.go).
	catalogMinResync = 30 * time.Second
	// How often the certificate manager's shouldRotate is asked: it adds 0-4s of noise, and a
	// validity of exactly 34s is renewed at once only with 4s (p = 0.2 per try; 200 tries miss it
	// with p < 1e-19).
	rotationTries = 200
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
	if len(os.Args) > 1 && os.Args[1] == "watch" {
		watch(os.Args[2:])
		return
	}
	version := flag.Bool("version", false, "print the OSM version this consumer is built from")
	iptablesDir := flag.String("iptables-dir", "", "directory holding iptables-restore and iptables (put first on the init container's PATH)")
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
	c, err := newConsumer(logs, *iptablesDir)
	if err != nil {
		fatalf("starting OSM's informers: %v", err)
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
	// A panic (OSM's or ours) is reported on the real standard error, not in the log file.
	if err := debug.SetCrashOutput(stderr, debug.CrashOptions{}); err != nil {
		return nil, err
	}
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
	cfg         *configurator.Client
	iptablesDir string
	scripts     map[string]*iptablesResult
}

func newConsumer(logs *logSink, iptablesDir string) (*consumer, error) {
	stop := make(chan struct{})
	seed := &configv1alpha2.MeshConfig{ObjectMeta: metav1.ObjectMeta{Name: meshConfigName, Namespace: osmNamespace}}
	client := fakeconfig.NewSimpleClientset(seed)
	ic, err := informers.NewInformerCollection("osm", stop, informers.WithConfigClient(client, meshConfigName, osmNamespace))
	if err != nil {
		return nil, err
	}
	cfg := configurator.NewConfigurator(ic, osmNamespace, meshConfigName, messaging.NewBroker(stop))
	logs.since()
	return &consumer{logs: logs, client: client, cfg: cfg, iptablesDir: iptablesDir, scripts: map[string]*iptablesResult{}}, nil
}

var decodeField = regexp.MustCompile(`Go struct field [A-Za-z0-9_]+\.(\S+) of type`)

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
	if err != nil {
		field := "spec"
		if m := decodeField.FindStringSubmatch(err.Error()); m != nil {
			field = m[1]
		}
		harm(field, "OSM cannot decode the MeshConfig (%v): its informers drop it and OSM runs on zero values", err)
		return v
	}
	mc, ok := obj.(*configv1alpha2.MeshConfig)
	if !ok {
		v.Error = fmt.Sprintf("decoded a %T, not a v1alpha2 MeshConfig (OSM %s reads the storage version)", obj, osmVersion)
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
	if _, err := c.client.ConfigV1alpha2().MeshConfigs(osmNamespace).Update(context.TODO(), mc, metav1.UpdateOptions{}); err != nil {
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
	if spec.Certificate.IngressGateway != nil {
		getter("ingressGatewayCertValidityPeriod", "spec.certificate.ingressGateway.validityDuration", func() any { return c.cfg.GetIngressGatewayCertValidityPeriod().String() })
	}
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
	// Certificates issued with a validity the manager renews at once are replaced continuously.
	rotation := func(field, s string) {
		if !has(field) {
			return
		}
		if d, err := time.ParseDuration(s); err == nil && certificate.OSMConsumerRotatesAtIssue(d, rotationTries) {
			harm(field, "OSM's certificate manager renews a certificate valid for %v as soon as it issues it (it renews %v plus up to 4s of noise before expiry)", d, certificate.RenewBeforeCertExpires)
		}
	}
	rotation("spec.certificate.serviceCertValidityDuration", spec.Certificate.ServiceCertValidityDuration)
	if gw := spec.Certificate.IngressGateway; gw != nil {
		rotation("spec.certificate.ingressGateway.validityDuration", gw.ValidityDuration)
	}
	c.logs.since()

	// 4. The controller's log-level switch, as WatchAndUpdateLogLevel calls it on a change.
	if !has("spec.observability.osmLogLevel") {
		// Not written: nothing changes.
	} else if err := logger.SetLogLevel(spec.Observability.OSMLogLevel); err != nil {
		ignored("spec.observability.osmLogLevel", "OSM logs \"Error setting controller log level to %s: %v\" and keeps its level", spec.Observability.OSMLogLevel, err)
	} else {
		v.Effective["osmLogLevel"] = zerolog.GlobalLevel().String()
	}
	zerolog.SetGlobalLevel(zerolog.DebugLevel)
	c.logs.since()

	// 5. Envoy's TLS parameters for the sidecar.
	tls := envoy.GetTLSParams(spec.Sidecar)
	v.Effective["tlsMinimumProtocolVersion"] = tls.TlsMinimumProtocolVersion.String()
	v.Effective["tlsMaximumProtocolVersion"] = tls.TlsMaximumProtocolVersion.String()
	if err := tls.Validate(); err != nil {
		harm("spec.sidecar", "Envoy's TlsParameters do not validate: %v", err)
	}
	if s := spec.Sidecar.TLSMinProtocolVersion; s != "" && tls.TlsMinimumProtocolVersion.String() != s {
		harm("spec.sidecar.tlsMinProtocolVersion", "OSM maps %q to %s", s, tls.TlsMinimumProtocolVersion)
	}
	if s := spec.Sidecar.TLSMaxProtocolVersion; s != "" && tls.TlsMaximumProtocolVersion.String() != s {
		harm("spec.sidecar.tlsMaxProtocolVersion", "OSM maps %q to %s", s, tls.TlsMaximumProtocolVersion)
	}

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
	container, err := injector.OSMConsumerInitContainer(c.cfg)
	if err != nil {
		harm("spec.traffic", "OSM's injector refuses every new pod: %v", err)
		return v
	}
	script := container.Args[len(container.Args)-1]
	res := c.iptables(script)
	v.Iptables = res
	for _, f := range c.checkRules(spec, res) {
		v.Harm = append(v.Harm, f)
	}
	c.logs.since()
	return v
}

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
	old := &configv1alpha2.MeshConfig{}
	newMC := &configv1alpha2.MeshConfig{}
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
// network namespace, then lists the nat table there. Results are cached by script.
//
// The command is an unquoted here-document, so `$(...)` and backquotes in a MeshConfig value are
// run by the shell: it runs in a new user namespace too, whose uids 0-65535 are the host's
// unprivileged 100000-165535 (root there owns the network namespace, so iptables works and the
// proxy's uid 1500 in `-m owner` is mapped; the host's files are out of its reach).
func (c *consumer) iptables(script string) *iptablesResult {
	if r, ok := c.scripts[script]; ok {
		return r
	}
	r := &iptablesResult{Script: script}
	const wrapper = `/bin/sh -c "$1" || exit $?; iptables -t nat -S`
	cmd := exec.Command("unshare", "-n", "--", "/bin/sh", "-c", wrapper, "osm-init", script)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		Credential:  &syscall.Credential{Uid: 0, Gid: 0},
	}
	cmd.Env = []string{"PATH=" + c.iptablesDir + ":/usr/sbin:/usr/bin:/sbin:/bin", "POD_IP=" + podIP, "XTABLES_LOCKFILE=" + os.TempDir() + "/osm-consumer-xtables-userns.lock"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	// iptables-restore's message and the line it stopped at, on one line.
	var msg []string
	for _, l := range strings.Split(errb.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Try `iptables-restore -h'") {
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
// be there as written (a CIDR as the network it names, a port, an interface name to the letter).
func (c *consumer) checkRules(spec configv1alpha2.MeshConfigSpec, r *iptablesResult) []finding {
	if r.ExitCode != 0 {
		return []finding{{"spec.traffic", fmt.Sprintf("the init container OSM injects fails (exit %d): %s", r.ExitCode, r.Stderr)}}
	}
	have := map[string]bool{}
	for _, rule := range r.Rules {
		have[rule] = true
	}
	// What this MeshConfig's lists added to the rules of a MeshConfig without lists.
	base := map[string]bool{}
	for _, rule := range c.iptables(injector.OSMConsumerBaselineScript(spec.Sidecar.LocalProxyMode)).Rules {
		base[rule] = true
	}
	var added []string
	for _, rule := range r.Rules {
		if !base[rule] {
			added = append(added, rule)
		}
	}
	instead := "no rule of its own"
	if len(added) > 0 {
		instead = strings.Join(added, "; ")
	}
	var out []finding
	want := func(field, rule, what string) {
		if !have[rule] {
			out = append(out, finding{field, fmt.Sprintf("iptables holds no rule %q for %s; the lists gave it: %s", rule, what, instead)})
		}
	}
	t := spec.Traffic
	cidr := func(field string, list []string, target string) {
		for i, s := range list {
			f := fmt.Sprintf("%s[%d]", field, i)
			network, ok := writtenNetwork(s)
			if !ok {
				out = append(out, finding{f, fmt.Sprintf("iptables accepted %q, which names no IPv4 network", s)})
				continue
			}
			// iptables prints no -d for the whole address space.
			match := "-d " + network + " "
			if network == "0.0.0.0/0" {
				match = ""
			}
			want(f, fmt.Sprintf("-A OSM_PROXY_OUTBOUND %s-j %s", match, target), fmt.Sprintf("%q (the network %s)", s, network))
		}
	}
	cidr("spec.traffic.outboundIPRangeExclusionList", t.OutboundIPRangeExclusionList, "RETURN")
	cidr("spec.traffic.outboundIPRangeInclusionList", t.OutboundIPRangeInclusionList, "OSM_PROXY_OUT_REDIRECT")
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
	for i, name := range t.NetworkInterfaceExclusionList {
		f := fmt.Sprintf("spec.traffic.networkInterfaceExclusionList[%d]", i)
		want(f, fmt.Sprintf("-A OSM_PROXY_INBOUND -i %s -j RETURN", name), fmt.Sprintf("the interface %q", name))
		want(f, fmt.Sprintf("-A OSM_PROXY_OUTBOUND -o %s -j RETURN", name), fmt.Sprintf("the interface %q", name))
	}
	return out
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
func droppedFields(written map[string]any, mc *configv1alpha2.MeshConfig) []string {
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
