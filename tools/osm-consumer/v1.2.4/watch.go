package main

// `osm-consumer watch`: OSM's own informer and configurator on a real apiserver, printing OSM's
// view of the MeshConfig each time it changes, and what OSM logs meanwhile.

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/openservicemesh/osm/pkg/configurator"
	"github.com/openservicemesh/osm/pkg/gen/client/config/clientset/versioned"
	fakeconfig "github.com/openservicemesh/osm/pkg/gen/client/config/clientset/versioned/fake"
	configv1alpha2client "github.com/openservicemesh/osm/pkg/gen/client/config/clientset/versioned/typed/config/v1alpha2"
	"github.com/openservicemesh/osm/pkg/k8s/informers"
	"github.com/openservicemesh/osm/pkg/messaging"
)

// meshConfigsOnly reads MeshConfigs from the apiserver and MeshRootCertificates from an empty
// fake: OSM's informer collection watches both, and the test cluster has no MeshRootCertificate
// CRD (a mesh that does not use them).
type meshConfigsOnly struct {
	versioned.Interface
	noMRCs versioned.Interface
}

func (m meshConfigsOnly) ConfigV1alpha2() configv1alpha2client.ConfigV1alpha2Interface {
	return configV1alpha2{m.Interface.ConfigV1alpha2(), m.noMRCs.ConfigV1alpha2()}
}

type configV1alpha2 struct {
	configv1alpha2client.ConfigV1alpha2Interface
	noMRCs configv1alpha2client.ConfigV1alpha2Interface
}

func (c configV1alpha2) MeshRootCertificates(ns string) configv1alpha2client.MeshRootCertificateInterface {
	return c.noMRCs.MeshRootCertificates(ns)
}

// view is one line of `watch` output.
type view struct {
	// "view": OSM's informer holds a new version; "logs": OSM logged while its view stayed.
	Event           string         `json:"event"`
	ResourceVersion string         `json:"resourceVersion,omitempty"`
	Spec            any            `json:"spec,omitempty"`
	Effective       map[string]any `json:"effective,omitempty"`
	Logs            []logLine      `json:"logs,omitempty"`
}

func watch(args []string) {
	fs := flag.NewFlagSet("watch", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "the kubeconfig of the apiserver to watch")
	namespace := fs.String("namespace", osmNamespace, "OSM's namespace (where osm-mesh-config lives)")
	_ = fs.Parse(args)
	logs, err := captureLogs()
	if err != nil {
		fatalf("capturing OSM's logs: %v", err)
	}
	rest, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fatalf("reading %s: %v", *kubeconfig, err)
	}
	client, err := versioned.NewForConfig(rest)
	if err != nil {
		fatalf("OSM's config clientset: %v", err)
	}
	stop := make(chan struct{})
	ic, err := informers.NewInformerCollection("osm", stop,
		informers.WithConfigClient(meshConfigsOnly{client, fakeconfig.NewSimpleClientset()}, meshConfigName, *namespace))
	if err != nil {
		fatalf("starting OSM's informers: %v", err)
	}
	cfg := configurator.NewConfigurator(ic, *namespace, meshConfigName, messaging.NewBroker(stop))
	out := json.NewEncoder(os.Stdout)
	last := "none"
	for {
		mc := cfg.GetMeshConfig()
		lines := logs.since()
		switch {
		case mc.ResourceVersion != last:
			last = mc.ResourceVersion
			effective := map[string]any{
				"serviceCertValidityPeriod": cfg.GetServiceCertValidityPeriod().String(),
				"certKeyBitSize":            cfg.GetCertKeyBitSize(),
				"tracingPort":               cfg.GetTracingPort(),
			}
			lines = append(lines, logs.since()...)
			emit(out, view{Event: "view", ResourceVersion: mc.ResourceVersion, Spec: mc.Spec, Effective: effective, Logs: lines})
		case len(lines) > 0:
			emit(out, view{Event: "logs", Logs: lines})
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func emit(out *json.Encoder, v view) {
	if err := out.Encode(v); err != nil {
		fmt.Fprintf(stderr, "osm-consumer: writing: %v\n", err)
		os.Exit(2)
	}
}
