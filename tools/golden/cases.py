"""Case list for the CRD golden fixtures (see README.md).

Cases are derived from the schema itself, so every field of every served
schema gets the same treatment: wrong JSON types, enum, bounds, pattern,
required, minItems, nulls, unknown fields, objects/arrays swapped, wrong-typed
list items, valid edge values. A few hand-written multi-error cases pin the
sorted order and the aggregated message / kubectl bullet rendering.

A case is a dict: {"name", "patch"} (an UPDATE: JSON merge patch applied to the
stored base object) or {"name", "object"} (a CREATE of a whole object).
"""

import copy

GROUP = "config.openservicemesh.io"
NAME = "osm-mesh-config"
NAMESPACE = "arc-osm-system"


class Raw:
    """A JSON number kept as written (1e3, 5.0, 1e30): Python would re-spell it."""

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, Raw) and other.text == self.text

    def __hash__(self):
        return hash(self.text)


# Valid sample values by field name (used to fill required siblings and for
# "allowed" cases); anything else gets a generic value for its type.
SAMPLES = {
    "logLevel": "error",
    "osmLogLevel": "info",
    "envoyImage": "envoyproxy/envoy-alpine:v1.19.1",
    "envoyWindowsImage": "envoyproxy/envoy-windows:v1.19.1",
    "initContainerImage": "openservicemesh/init:v1.2.4",
    "configResyncInterval": "30s",
    "serviceCertValidityDuration": "24h",
    "validityDuration": "24h",
    "timeout": "1s",
    "statPrefix": "inboundExtAuthz",
    "address": "ext-authz.arc-osm-system.svc.cluster.local",
    "endpoint": "/api/v2/spans",
    "certKeyBitSize": 2048,
    "maxDataPlaneConnections": 100,
    "port": 9411,
    "subjectAltNames": ["osm-ingress.example.com"],
    "name": "osm-ingress-cert",
    "namespace": "arc-osm-system",
    "cipherSuites": ["ECDHE-ECDSA-AES128-GCM-SHA256"],
    "ecdhCurves": ["X25519"],
    "networkInterfaceExclusionList": ["eth1"],
}

BOGUS = "bogusField"


# ---------------------------------------------------------------- schema helpers


def children(node):
    return node.get("properties") or {}


def walk(node, path=()):
    """(path tuple, node, parent node) for every field below node, in CRD order."""
    for key, child in children(node).items():
        p = path + (key,)
        yield p, child, node
        yield from walk(child, p)


def node_at(spec_schema, path):
    n = spec_schema
    for k in path:
        n = children(n).get(k)
        if n is None:
            return None
    return n


def dotted(path):
    return ".".join(path) if path else "spec"


def is_map(node):
    """additionalProperties objects (resources.limits/requests): free-form maps."""
    return node.get("type") == "object" and "additionalProperties" in node and not children(node)


def valid_sample(name, node):
    """A value the schema accepts, with required children filled in."""
    t = node.get("type")
    if "enum" in node:
        return node.get("default", node["enum"][0])
    if name in SAMPLES and t != "object":
        return copy.deepcopy(SAMPLES[name])
    if t == "string":
        return "10.0.0.0/8" if "pattern" in node else "example"
    if t == "integer":
        return node.get("minimum", 1)
    if t == "boolean":
        return True
    if t == "array":
        return [valid_sample(name, node.get("items", {}))]
    if t == "object":
        return {r: valid_sample(r, children(node)[r]) for r in node.get("required", [])}
    raise ValueError(f"no sample for {name}: {node}")


def merge(a, b):
    """Deep merge of b into a copy of a (b wins); None values are kept, as in a patch."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return copy.deepcopy(b)
    out = copy.deepcopy(a)
    for k, v in b.items():
        out[k] = merge(out.get(k), v) if isinstance(v, dict) else copy.deepcopy(v)
    return out


def nest(path, value):
    for k in reversed(path):
        value = {k: value}
    return value


def set_in(d, path, value):
    """A copy of d with d[path] replaced by value (intermediate dicts created)."""
    out = copy.deepcopy(d)
    cur = out
    for k in path[:-1]:
        if not isinstance(cur.get(k), dict):
            cur[k] = {}
        cur = cur[k]
    cur[path[-1]] = copy.deepcopy(value)
    return out


# ---------------------------------------------------------------- the builder


class Builder:
    def __init__(self, spec_schema, base_obj, api_version, union_fields):
        self.s = spec_schema
        self.base = base_obj
        self.base_spec = base_obj.get("spec", {})
        self.api_version = api_version
        self.union = union_fields  # {path tuple: node} over every schema we support
        self.cases = []
        self.names = set()

    # -- case constructors

    def add(self, name, **kw):
        if name in self.names:
            raise ValueError(f"duplicate case name {name}")
        self.names.add(name)
        self.cases.append(dict(name=name, **kw))

    def context(self, path, create=False):
        """Valid filler for the ancestors of path that have required fields
        (for an UPDATE only those absent from the stored base object)."""
        ctx = {}
        for i in range(1, len(path)):
            anc = path[:i]
            n = node_at(self.s, anc)
            if n is None or not n.get("required"):
                continue
            if not create and self.present(anc):
                continue
            ctx = merge(ctx, nest(anc, valid_sample(anc[-1], n)))
        return ctx

    def present(self, path):
        v = self.base_spec
        for k in path:
            if not isinstance(v, dict) or k not in v:
                return False
            v = v[k]
        return True

    def patch(self, name, path, value):
        """UPDATE case setting spec.<path> to value (with required ancestors filled)."""
        self.add(name, patch={"spec": set_in(self.context(path), path, value)})

    def patch_multi(self, name, pairs):
        body = {}
        for path, value in pairs:
            body = set_in(merge(self.context(path), body), path, value)
        self.add(name, patch={"spec": body})

    def create_at(self, name, path, value):
        """CREATE case whose spec holds value at path (required ancestors filled)."""
        self.create(name, set_in(self.context(path, create=True), path, value))

    def obj(self, spec=None, omit_spec=False, metadata_extra=None, top_extra=None):
        o = {
            "apiVersion": f"{GROUP}/{self.api_version}",
            "kind": "MeshConfig",
            "metadata": {"name": NAME, "namespace": NAMESPACE},
        }
        if metadata_extra:
            o["metadata"].update(metadata_extra)
        if not omit_spec:
            o["spec"] = spec
        if top_extra:
            o.update(top_extra)
        return o

    def create(self, name, spec=None, **kw):
        self.add(name, object=self.obj(spec, **kw))

    def has(self, path):
        return node_at(self.s, path) is not None

    # -- per field kind

    def object_cases(self, path, node):
        p = dotted(path)
        self.patch(f"{p}/type-string", path, "x")
        self.patch(f"{p}/type-array", path, [])
        if len(path) == 1 or is_map(node):
            self.patch(f"{p}/type-integer", path, 1)
        if is_map(node):
            # additionalProperties: true: any value; nested maps are pruned (no schema below)
            self.patch(f"{p}/valid-any-values", path, {"cpu": "100m", "memory": "128Mi", "n": 1, "b": True, "l": [1, "a"]})
            self.patch(f"{p}/nested-map-pruned", path, {"memory": {"value": "1Gi"}, "cpu": "1"})
            self.patch(f"{p}/valid-empty", path, {})
            return
        # an empty object (CREATE: a merge patch {} would change nothing):
        # allowed unless it has required children
        self.create_at(f"create/{p}/empty", path, {})
        # an unknown key inside (pruned with a warning); required siblings filled
        filler = valid_sample(path[-1], node) if node.get("required") and not self.present(path) else {}
        self.patch(f"{p}/unknown-field", path, merge(filler, {BOGUS: True}))
        # CREATE with every non-required child explicitly null (nulls are pruned)
        req = node.get("required") or []
        nulls = {k: (valid_sample(k, c) if k in req else None) for k, c in children(node).items()}
        self.create_at(f"create/{p}/nulls-pruned", path, nulls)
        # CREATE missing each required child, or with it null
        for r in req:
            full = valid_sample(path[-1], node)
            del full[r]
            self.create_at(f"create/{p}/missing-{r}", path, full)
            full = valid_sample(path[-1], node)
            full[r] = None
            self.create_at(f"create/{p}/null-{r}", path, full)

    def boolean_cases(self, path, node):
        p = dotted(path)
        self.patch(f"{p}/type-string", path, "true")
        self.patch(f"{p}/type-integer", path, 1)

    def string_cases(self, path, node, idx):
        p = dotted(path)
        name = path[-1]
        self.patch(f"{p}/type-integer", path, 1)
        # one more wrong type, rotating so that every kind is covered
        kind, val = [("type-boolean", False), ("type-object", {"a": "b"}), ("type-array", ["a"])][idx % 3]
        self.patch(f"{p}/{kind}", path, val)
        if "enum" in node:
            for v in node["enum"]:
                # The CRDs' bare `off` is YAML 1.1's false: the string "off" is refused.
                kind = "enum-off-refused" if (name, v) == ("logLevel", "off") else f"enum-valid-{v}"
                self.patch(f"{p}/{kind}", path, v)
            bad = {"logLevel": "verbose", "localProxyMode": "Loopback"}.get(name, "TLSv1_4")
            self.patch(f"{p}/enum-unsupported", path, bad)
            self.patch(f"{p}/enum-wrong-case", path, node["enum"][-1].upper() if name == "logLevel" else node["enum"][-1].lower())
            self.patch(f"{p}/enum-empty-string", path, "")
        else:
            if "default" in node:
                self.patch(f"{p}/valid-default-value", path, node["default"])

    def integer_cases(self, path, node):
        p = dotted(path)
        self.patch(f"{p}/type-string", path, "5")
        self.patch(f"{p}/type-boolean", path, True)
        self.patch(f"{p}/type-float-1.5", path, Raw("1.5"))
        self.patch(f"{p}/float-5.0", path, Raw("5.0"))
        self.patch(f"{p}/float-1e3", path, Raw("1e3"))
        self.patch(f"{p}/float-1e30", path, Raw("1e30"))
        self.patch(f"{p}/overflow-9223372036854775808", path, 9223372036854775808)
        lo, hi = node.get("minimum"), node.get("maximum")
        if lo is None and hi is None:
            self.patch(f"{p}/valid-zero", path, 0)
            self.patch(f"{p}/valid-negative", path, -1)
            self.patch(f"{p}/valid-int64-max", path, 9223372036854775807)
            self.patch(f"{p}/valid-int64-min", path, -9223372036854775808)
        else:
            self.patch(f"{p}/min-below", path, lo - 1)
            self.patch(f"{p}/min-below-negative", path, -1)
            self.patch(f"{p}/min-allowed", path, lo)
            self.patch(f"{p}/max-allowed", path, hi)
            self.patch(f"{p}/max-above", path, hi + 1)
            self.patch(f"{p}/max-above-float", path, Raw(f"{hi + 1}.0"))
            self.patch(f"{p}/max-above-int64-max", path, 9223372036854775807)
            self.patch(f"{p}/min-below-int64-min", path, -9223372036854775808)

    def array_cases(self, path, node):
        p = dotted(path)
        items = node.get("items", {})
        self.patch(f"{p}/type-object", path, {"a": "b"})
        self.patch(f"{p}/type-string", path, "x")
        self.patch(f"{p}/item-null", path, [None])
        self.patch(f"{p}/item-object", path, [{"x": 1}])
        if node.get("minItems"):
            self.patch(f"{p}/min-items", path, [])
        else:
            self.patch(f"{p}/valid-empty", path, [])
        if items.get("type") == "string":
            self.patch(f"{p}/item-type-integer", path, [1])
            if "pattern" in items:
                self.pattern_cases(path)
            else:
                self.patch(f"{p}/valid-strings", path, ["", "a b", "a", "a"])
        elif items.get("type") == "integer":
            self.patch(f"{p}/item-type-string", path, ["80"])
            self.patch(f"{p}/item-float-1.5", path, [Raw("1.5")])
            self.patch(f"{p}/item-float-5.0", path, [Raw("5.0")])
            self.patch(f"{p}/item-float-1e30", path, [Raw("1e30")])
            self.patch(f"{p}/item-overflow-9223372036854775808", path, [9223372036854775808])
            lo, hi = items["minimum"], items["maximum"]
            self.patch(f"{p}/item-min-below", path, [lo - 1])
            self.patch(f"{p}/item-negative", path, [-1])
            self.patch(f"{p}/item-max-above", path, [hi + 1])
            self.patch(f"{p}/item-max-above-float", path, [Raw(f"{hi + 1}.0")])
            self.patch(f"{p}/item-bounds-allowed", path, [lo, hi, 8080, 8080])
            self.patch(f"{p}/item-index-paths", path, [8080, lo - 1, 70000, "x", 443])
        else:
            raise ValueError(f"unexpected items at {p}: {items}")

    def pattern_cases(self, path):
        p = dotted(path)
        self.patch(f"{p}/pattern-valid", path, ["10.0.0.0/8", "192.168.1.1/32", "0.0.0.0/0"])
        self.patch(f"{p}/pattern-weak-999", path, ["999.999.999.999/99"])
        self.patch(f"{p}/pattern-weak-prefix", path, ["foo 1.2.3.4/32"])
        self.patch(f"{p}/pattern-weak-4-digit-octet", path, ["1111.2.3.4/32"])
        self.patch(f"{p}/pattern-no-prefix-len", path, ["10.0.0.1"])
        self.patch(f"{p}/pattern-3-digit-prefix-len", path, ["10.0.0.0/123"])
        self.patch(f"{p}/pattern-trailing-newline", path, ["10.0.0.0/8\n"])
        self.patch(f"{p}/pattern-trailing-space", path, ["10.0.0.0/8 "])
        self.patch(f"{p}/pattern-ipv6", path, ["fd00::/8"])
        self.patch(f"{p}/pattern-empty-string", path, [""])
        self.patch(f"{p}/pattern-index-paths", path, ["10.0.0.0/8", "bad", 1, "x"])

    # -- everything

    def build(self):
        # spec itself
        self.add("spec/type-string", patch={"spec": "x"})
        self.add("spec/type-array", patch={"spec": []})
        self.add("spec/type-array-of-objects", patch={"spec": [{"traffic": {}}]})
        self.add("spec/type-integer", patch={"spec": 1})
        self.add("spec/type-boolean", patch={"spec": True})
        self.add("spec/null-removes", patch={"spec": None})
        self.add("spec/empty-patch", patch={})
        self.add("spec/unknown-field", patch={"spec": {BOGUS: 1}})
        self.create("create/spec/absent", omit_spec=True)
        self.create("create/spec/null", None)
        self.create("create/spec/empty", {})
        self.create("create/spec/type-string", "x")
        self.create("create/spec/type-array", [])
        self.create("create/spec/base-object", copy.deepcopy(self.base_spec))
        self.create("create/spec/sections-null", {k: None for k in children(self.s)})
        self.create("create/spec/sections-empty", {k: {} for k in children(self.s) if not children(self.s)[k].get("required")})

        string_idx = 0
        for path, node, parent in walk(self.s):
            t = node.get("type")
            # merge-patch null deletes the key: Required if the parent lists it,
            # else allowed (and re-defaulted where the CRD has a default)
            # (for plain booleans/strings the CREATE "nulls-pruned" case of the
            # parent object covers nulls)
            if path[-1] in (parent.get("required") or []):
                self.patch(f"{dotted(path)}/required-null", path, None)
            elif t in ("object", "array", "integer") or "default" in node or "enum" in node:
                self.patch(f"{dotted(path)}/null-removes", path, None)
            if t == "object":
                self.object_cases(path, node)
            elif t == "boolean":
                self.boolean_cases(path, node)
            elif t == "string":
                self.string_cases(path, node, string_idx)
                string_idx += 1
            elif t == "integer":
                self.integer_cases(path, node)
            elif t == "array":
                self.array_cases(path, node)
            else:
                raise ValueError(f"unexpected type {t} at {path}")

        self.valid_cases()
        self.logLevel_cases()
        self.unknown_cases()
        self.absent_cases()
        self.multi_cases()
        return self.cases

    def valid_cases(self):
        # every field at once with a valid value: one UPDATE, one CREATE
        full = {}
        for path, node, _ in walk(self.s):
            if is_map(node):
                v = {"cpu": "500m", "memory": "256Mi"}
            elif node.get("type") == "object":
                continue
            else:
                v = valid_sample(path[-1], node)
            full = set_in(full, path, v)
        self.add("valid/every-field-set", patch={"spec": full})
        self.create("create/valid/every-field-set", full)
        # all booleans false / true, all strings empty, all integers zero
        for label, pick in (
            ("booleans-false", lambda n: False if n.get("type") == "boolean" else None),
            ("booleans-true", lambda n: True if n.get("type") == "boolean" else None),
            ("strings-empty", lambda n: "" if n.get("type") == "string" and "enum" not in n and "pattern" not in n else None),
            ("strings-unicode", lambda n: "\u00b5s \u2603 \u65e5\u672c" if n.get("type") == "string" and "enum" not in n else None),
            ("integers-zero", lambda n: 0 if n.get("type") == "integer" and "minimum" not in n else None),
            ("lists-empty", lambda n: [] if n.get("type") == "array" and not n.get("minItems") else None),
        ):
            body = {}
            for path, node, _ in walk(self.s):
                v = pick(node)
                if v is not None:
                    body = set_in(merge(self.context(path), body), path, v)
            if body:
                self.add(f"valid/{label}", patch={"spec": body})

    def logLevel_cases(self):
        # "off" is refused (the CRD's bare `off` is YAML 1.1's false, which is
        # the member the apiserver holds; a boolean has only its type error)
        # (the PATCH "enum-off-refused" case is generated with the other levels)
        path = ("sidecar", "logLevel")
        if "sidecar.logLevel/type-boolean" not in self.names:
            self.patch("sidecar.logLevel/boolean-false", path, False)
        self.create("create/sidecar.logLevel/off-refused", {"sidecar": {"logLevel": "off"}})
        self.create("create/sidecar.logLevel/unsupported", {"sidecar": {"logLevel": "fatal"}})

    def unknown_cases(self):
        self.add("unknown/root", patch={BOGUS: 1})
        self.add("unknown/metadata", patch={"metadata": {"labelz": {"a": "b"}}})
        self.add("unknown/status", patch={"status": {"phase": "Ready"}})
        deep = {
            "spec": merge(
                self.context(("certificate", "ingressGateway", "secret", "x")),
                {
                    "zzz": 1,
                    "aaa": {"b": 2},
                    "sidecar": {"enableEgress": True, "resources": {"limits": {"cpu": {"m": 1}}, "other": {}}},
                    "traffic": {"inboundExternalAuthorization": {BOGUS: "x"}},
                    "observability": {"tracing": {BOGUS: [1]}},
                },
            ),
            "x": 1,
        }
        if self.has(("certificate", "ingressGateway", "secret")):
            deep["spec"] = merge(deep["spec"], {"certificate": {"ingressGateway": {"secret": {BOGUS: 1}}}})
        self.add("unknown/several-depths-sorted", patch=deep)
        # unknown fields are pruned before validation: their values are never checked
        self.add("unknown/wrong-type-value-ignored", patch={"spec": {"traffic": {"enableEgres": "no"}}})
        # warnings come with a rejection too
        self.add(
            "unknown/with-errors",
            patch={"spec": {"traffic": {"enableEgres": True, "enableEgress": "no"}, "sidecar": {"logLevl": "x", "logLevel": "x"}}},
        )
        self.create(
            "create/unknown/several-depths",
            {"sidecar": {"logLevl": "info"}, "traffic": {"inboundExternalAuthorization": {"enable": True, BOGUS: 1}}, BOGUS: {}},
            metadata_extra={"labelz": {"a": "b"}},
            top_extra={"status": {}},
        )

    def absent_cases(self):
        """Fields other releases/versions have but this schema lacks: pruned with a warning."""
        done = []
        for path in sorted(self.union):
            if self.has(path) or any(path[: len(d)] == d for d in done):
                continue
            if not self.has(path[:-1]):
                continue
            done.append(path)
            node = self.union[path]
            # a value of the wrong type on purpose: nothing checks it
            wrong = 1 if node.get("type") == "string" else "x"
            self.patch(f"absent/{dotted(path)}", path, wrong)

    def multi_cases(self):
        def keep(pairs):
            return [(p, v) for p, v in pairs if self.has(p)]

        cases = {
            "multi/types-across-sections": [
                (("sidecar", "logLevel"), "loud"),
                (("sidecar", "maxDataPlaneConnections"), "10"),
                (("traffic", "enableEgress"), "no"),
                (("traffic", "outboundIPRangeExclusionList"), ["x"]),
                (("certificate", "serviceCertValidityDuration"), 24),
                (("featureFlags", "enableWASMStats"), [True]),
            ],
            "multi/ports-and-bounds": [
                (("traffic", "outboundPortExclusionList"), [8080, 0, 70000]),
                (("traffic", "inboundPortExclusionList"), [-1]),
                (("traffic", "inboundExternalAuthorization", "port"), 0),
                (("observability", "tracing", "port"), "9411"),
            ],
            "multi/two-errors-same-field": [
                (("sidecar", "logLevel"), 1),
                (("traffic", "inboundExternalAuthorization", "port"), Raw("1e30")),
                (("sidecar", "tlsMinProtocolVersion"), True),
                (("observability", "enableDebugServer"), {"on": True}),
            ],
            "multi/objects-and-arrays-swapped": [
                (("sidecar",), []),
                (("traffic", "inboundExternalAuthorization"), "x"),
                (("observability", "tracing"), [{"enable": True}]),
                (("featureFlags",), "all"),
                (("traffic", "outboundPortExclusionList"), {"port": 80}),
            ],
            "multi/v1alpha2-fields": [
                (("sidecar", "tlsMinProtocolVersion"), "TLSv1_4"),
                (("sidecar", "tlsMaxProtocolVersion"), 13),
                (("sidecar", "localProxyMode"), "podip"),
                (("sidecar", "cipherSuites"), "ECDHE"),
                (("sidecar", "ecdhCurves"), [25519]),
                (("traffic", "outboundIPRangeInclusionList"), ["::/0"]),
                (("traffic", "networkInterfaceExclusionList"), [None]),
            ],
        }
        for name, pairs in cases.items():
            kept = keep(pairs)
            if len(kept) >= 3:
                self.patch_multi(name, kept)
        # the oracle sorts by field path as a string: [11] sorts before [2]
        ports = [1000 + i for i in range(12)]
        ports[1], ports[2], ports[11] = 0, "x", 70000
        self.patch_multi(
            "multi/index-order-lexicographic",
            [(("traffic", "outboundPortExclusionList"), ports), (("traffic", "enableEgress"), 0), (("sidecar", "logLevel"), "x")],
        )
        # required + minItems + types under certificate (v0.10+)
        if self.has(("certificate", "ingressGateway")):
            self.add(
                "multi/certificate-required-and-types",
                patch={
                    "spec": {
                        "certificate": {
                            "certKeyBitSize": None,
                            "serviceCertValidityDuration": 24,
                            "ingressGateway": {"subjectAltNames": [], "secret": {"name": 1}},
                        },
                        "sidecar": {"maxDataPlaneConnections": Raw("0.5")},
                    }
                },
            )
            self.create(
                "create/multi/required-everywhere",
                {
                    "certificate": {"ingressGateway": {"secret": {}}},
                    "traffic": {"outboundIPRangeExclusionList": ["10.0.0.0"], "inboundExternalAuthorization": {"port": 0}},
                    "sidecar": {"logLevel": "off", "envoyImage": 5},
                },
            )
        self.create(
            "create/multi/every-section",
            {
                "sidecar": {"logLevel": "Info", "maxDataPlaneConnections": -1, "resources": {"limits": "1"}},
                "traffic": {"enableEgress": "false", "outboundPortExclusionList": [0], "outboundIPRangeExclusionList": [""]},
                "observability": {"osmLogLevel": 3, "tracing": {"port": Raw("9411.5")}},
                "certificate": {"serviceCertValidityDuration": ["24h"]},
                "featureFlags": {"enableWASMStats": "yes"},
            },
        )
        self.create(
            "create/multi/spec-types-with-unknown",
            {"sidecar": "x", "traffic": [], "observability": 1, BOGUS: True},
            metadata_extra={"labelz": "y"},
        )


def build_cases(spec_schema, base_obj, api_version, union_fields):
    return Builder(spec_schema, base_obj, api_version, union_fields).build()


def apply_defaults(x, node):
    """Structural defaulting (apiextensions schema/defaulting), as the oracle does it."""
    if not isinstance(x, dict) or node is None:
        return x
    for k, c in children(node).items():
        if "default" in c and (k not in x or x[k] is None):
            x[k] = copy.deepcopy(c["default"])
    for k, v in x.items():
        if k in children(node):
            apply_defaults(v, children(node)[k])
    return x


def restrict(x, node, path=(), dropped=None):
    """Drop keys the schema does not know (what pruning would do); returns the dropped paths."""
    if dropped is None:
        dropped = []
    if isinstance(x, dict) and node is not None and node.get("type") == "object" and not is_map(node):
        for k in list(x):
            if k not in children(node):
                dropped.append(path + (k,))
                del x[k]
            else:
                restrict(x[k], children(node)[k], path + (k,), dropped)
    return dropped
