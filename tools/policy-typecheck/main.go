// policy-typecheck runs the type checker kube-controller-manager uses to fill a
// ValidatingAdmissionPolicy's status.typeChecking (k8s.io/apiserver's validating.TypeChecker) on
// policy files, with the schemas of a MeshConfig CRD file, and prints the warnings. The test
// control plane runs no kube-controller-manager, so this is how the generated policies' type
// checking is seen:
//
//	go build -o /tmp/policy-typecheck . && /tmp/policy-typecheck CRD.yaml POLICY.yaml...
//
// A policy file holds one ValidatingAdmissionPolicy (e.g. charts/meshconfig-webhook/policies/*).
// Exit status 1 when any policy has a warning.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	v1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/yaml"
)

type resolver struct{ schemas map[string]*spec.Schema }

func (r resolver) ResolveSchema(gvk schema.GroupVersionKind) (*spec.Schema, error) {
	s, ok := r.schemas[gvk.Version]
	if !ok {
		return nil, fmt.Errorf("no schema for %v", gvk)
	}
	return s, nil
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: policy-typecheck CRD.yaml POLICY.yaml...")
		os.Exit(2)
	}
	crdYAML, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema json.RawMessage `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(crdYAML, &crd); err != nil {
		panic(err)
	}
	r := resolver{schemas: map[string]*spec.Schema{}}
	mapper := meta.NewDefaultRESTMapper(nil)
	for _, v := range crd.Spec.Versions {
		s := &spec.Schema{}
		if err := json.Unmarshal(v.Schema.OpenAPIV3Schema, s); err != nil {
			panic(err)
		}
		r.schemas[v.Name] = s
		gvk := schema.GroupVersionKind{Group: "config.openservicemesh.io", Version: v.Name, Kind: "MeshConfig"}
		mapper.AddSpecific(gvk, gvk.GroupVersion().WithResource("meshconfigs"), gvk.GroupVersion().WithResource("meshconfig"), meta.RESTScopeNamespace)
	}
	checker := &validating.TypeChecker{SchemaResolver: r, RestMapper: mapper}
	failed := false
	for _, f := range os.Args[2:] {
		data, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		var p v1.ValidatingAdmissionPolicy
		if err := yaml.Unmarshal(data, &p); err != nil {
			panic(err)
		}
		warnings := checker.Check(&p)
		fmt.Printf("%s: %d validations, %d type-checking warnings\n", f, len(p.Spec.Validations), len(warnings))
		for _, w := range warnings {
			fmt.Printf("  %s: %s\n", w.FieldRef, w.Warning)
		}
		failed = failed || len(warnings) > 0
	}
	if failed {
		os.Exit(1)
	}
}
