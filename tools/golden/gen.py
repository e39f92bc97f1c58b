#!/usr/bin/env python3
"""Regenerates the CRD golden fixtures from the offline kube-apiserver oracle.

Writes (relative to the repository root):
  tests/fixtures/objects/meshconfig-*.json   stored base MeshConfig objects
  tests/fixtures/crd/<release>_<apiVersion>.json   cases + the oracle's verdicts

Usage: python3 tools/golden/gen.py [--shared DIR] [--check]
  --shared  the shared folder (default: <repo>/../shared) holding
            reference/osm-crds/ and tools/crd-oracle/
  --check   write nothing; exit 1 if a fixture would change

Needs Python 3.9+ with PyYAML, and the oracle built (tools/crd-oracle/build.sh).
See README.md.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter

import yaml

sys.dont_write_bytecode = True  # keep tools/golden free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as C  # noqa: E402

K8S = "1.30"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# stored objects: file -> (preset tag, CRD file, apiVersion, apply CRD defaults)
OBJECTS = {
    "meshconfig-v0.9.2.json": ("v0.9.2", "meshconfig-crd-v0.9.2.yaml", "v1alpha1", True),
    "meshconfig-v0.10.0.json": ("v0.10.0", "meshconfig-crd-v0.10.0.yaml", "v1alpha1", False),
    "meshconfig-v0.11.1.json": ("v0.11.1", "meshconfig-crd-v0.11.1.yaml", "v1alpha1", False),
    "meshconfig-v1.0.0.json": ("v1.0.0", "meshconfig-crd-v1.0.0.yaml", "v1alpha1", False),
    "meshconfig-v1.1.4.json": ("v1.1.4", "meshconfig-crd-v1.1.4.yaml", "v1alpha2", False),
    "meshconfig-v1.1.4-v1alpha1.json": ("v1.1.4", "meshconfig-crd-v1.1.4.yaml", "v1alpha1", False),
    "meshconfig-v1.2.4.json": ("v1.2.4", "meshconfig-crd-v1.2.4.yaml", "v1alpha2", False),
    "meshconfig-v1.2.4-v1alpha1.json": ("v1.2.4", "meshconfig-crd-v1.2.4.yaml", "v1alpha1", False),
    # no preset exists for the withdrawn pre-rel-v1.2 tag: the v1.2.4 preset, limited to the v1alpha3 fields
    "meshconfig-pre-rel-v1.2.json": ("v1.2.4", "meshconfig-crd-pre-rel-v1.2.yaml", "v1alpha3", False),
}

# fields a restricted object may lose (anything else dropping is a bug)
EXPECTED_DROPS = {
    "meshconfig-v1.1.4-v1alpha1.json": {"sidecar.localProxyMode", "traffic.outboundIPRangeInclusionList", "traffic.networkInterfaceExclusionList"},
    "meshconfig-v1.2.4-v1alpha1.json": {"sidecar.localProxyMode", "traffic.outboundIPRangeInclusionList", "traffic.networkInterfaceExclusionList"},
    "meshconfig-pre-rel-v1.2.json": {"traffic.networkInterfaceExclusionList"},
}

# schema fixtures: (release, apiVersion, CRD file, base object)
SCHEMAS = [
    ("0.9", "v1alpha1", "meshconfig-crd-v0.9.2.yaml", "meshconfig-v0.9.2.json"),
    ("0.10", "v1alpha1", "meshconfig-crd-v0.10.0.yaml", "meshconfig-v0.10.0.json"),
    ("0.11", "v1alpha1", "meshconfig-crd-v0.11.1.yaml", "meshconfig-v0.11.1.json"),
    ("1.0", "v1alpha1", "meshconfig-crd-v1.0.0.yaml", "meshconfig-v1.0.0.json"),
    ("1.1", "v1alpha2", "meshconfig-crd-v1.1.4.yaml", "meshconfig-v1.1.4.json"),
    ("1.1", "v1alpha1", "meshconfig-crd-v1.1.4.yaml", "meshconfig-v1.1.4-v1alpha1.json"),
    ("1.2", "v1alpha2", "meshconfig-crd-v1.2.4.yaml", "meshconfig-v1.2.4.json"),
    ("1.2", "v1alpha1", "meshconfig-crd-v1.2.4.yaml", "meshconfig-v1.2.4-v1alpha1.json"),
    ("1.2", "v1alpha3", "meshconfig-crd-pre-rel-v1.2.yaml", "meshconfig-pre-rel-v1.2.json"),
]

# OSM's CRDs list the Envoy level as a bare `- off`, which YAML 1.1 (kubectl,
# Helm, osm-bootstrap) reads as boolean false. The cases are written from copies
# with it quoted, so that they try the string "off" a user means; the oracle
# judges them against the CRDs as they are, as a cluster holds them.
OFF_RE = re.compile(r'(?m)^(\s*)- off$')


# ---------------------------------------------------------------- JSON text


def dumps(v, indent=None, _level=0):
    """Deterministic JSON: sorted keys, UTF-8, Raw numbers kept as written."""
    if isinstance(v, C.Raw):
        return v.text
    if isinstance(v, float):
        raise TypeError(f"bare float {v!r}: use cases.Raw to keep its spelling")
    if v is None or isinstance(v, (bool, int, str)):
        return json.dumps(v, ensure_ascii=False)
    nl = "" if indent is None else "\n" + " " * (indent * (_level + 1))
    end = "" if indent is None else "\n" + " " * (indent * _level)
    sep = "," if indent is None else ","
    colon = ":" if indent is None else ": "
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [json.dumps(k, ensure_ascii=False) + colon + dumps(v[k], indent, _level + 1) for k in sorted(v)]
        return "{" + nl + (sep + nl).join(items) + end + "}"
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[" + nl + (sep + nl).join(dumps(x, indent, _level + 1) for x in v) + end + "]"
    raise TypeError(f"cannot encode {type(v)}")


def to_raw(v):
    """json.loads result -> our value model (floats become Raw with their repr)."""
    if isinstance(v, dict):
        return {k: to_raw(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_raw(x) for x in v]
    if isinstance(v, float):
        raise TypeError(f"unexpected float {v!r} in oracle output")
    return v


# ---------------------------------------------------------------- oracle


class Oracle:
    def __init__(self, shared, tmp):
        self.dir = os.path.join(shared, "tools", "crd-oracle")
        self.bin = os.path.join(self.dir, "oracle")
        self.tmp = tmp
        self.runs = 0

    def run(self, args):
        self.runs += 1
        p = subprocess.run([self.bin, "-k8s", K8S, "-o", "json", *args], capture_output=True, text=True)
        if p.returncode not in (0, 1):
            raise RuntimeError(f"oracle failed ({p.returncode}): {args}\n{p.stderr}")
        out = json.loads(p.stdout)
        if out.get("allowed") != (p.returncode == 0):
            raise RuntimeError(f"oracle exit status disagrees with its output: {args}")
        # stderr may only hold the oracle's own remarks (none expected for these CRDs)
        if p.stderr.strip():
            raise RuntimeError(f"unexpected oracle stderr for {args}: {p.stderr}")
        return to_raw(out)

    def patch(self, crd, version, base_path, patch):
        return self.run(["-version", version, "-base", base_path, "-merge-patch", dumps(patch), crd])

    def create(self, crd, version, obj):
        path = os.path.join(self.tmp, "object.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(dumps(obj))
        return self.run(["-version", version, "-verb", "create", crd, path])

    def stored(self, crd, version, base_path):
        """The stored object as the apiserver reads it back (pruned + defaulted):
        taken from the strict-decoding error of a patch adding an unknown field."""
        out = self.run(["-version", version, "-field-validation", "Strict", "-base", base_path, "-merge-patch", '{"zzzReadBack":1}', crd])
        msg = out["status"]["details"]["causes"][0]["message"]
        m = re.fullmatch(r'Invalid value: (".*"): strict decoding error: unknown field "zzzReadBack"', msg, re.S)
        if not m:
            raise RuntimeError(f"cannot read back {base_path}: {msg}")
        obj = json.loads(json.loads(m.group(1)))
        del obj["zzzReadBack"]
        return obj


# ---------------------------------------------------------------- inputs


def load_crd(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    crd = [d for d in docs if d.get("kind") == "CustomResourceDefinition"]
    if len(crd) != 1:
        raise ValueError(f"{path}: expected one CRD")
    return crd[0]


def spec_schema(crd, version):
    for v in crd["spec"]["versions"]:
        if v["name"] == version:
            return v["schema"]["openAPIV3Schema"]["properties"]["spec"]
    raise KeyError(f"no version {version}")


def quoted_crds(shared, tmp):
    """Copies of the CRDs with the logLevel enum item quoted (- "off"), to write cases from."""
    src = os.path.join(shared, "reference", "osm-crds")
    out = {}
    for name in sorted({s[2] for s in SCHEMAS} | {o[1] for o in OBJECTS.values()}):
        with open(os.path.join(src, name), encoding="utf-8") as f:
            text = f.read()
        fixed, n = OFF_RE.subn(r'\1- "off"', text)
        versions = len(load_crd(os.path.join(src, name))["spec"]["versions"])
        if n != versions:
            raise ValueError(f"{name}: expected one bare '- off' per version ({versions}), found {n}")
        path = os.path.join(tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(fixed)
        out[name] = path
    return out


def stored_objects(shared, crds):
    objs = {}
    for fname, (tag, crd_name, version, defaults) in OBJECTS.items():
        with open(os.path.join(shared, "reference", "osm-crds", f"preset-meshconfig-{tag}.json"), encoding="utf-8") as f:
            spec = json.load(f)
        schema = spec_schema(load_crd(crds[crd_name]), version)
        dropped = {".".join(p) for p in C.restrict(spec, schema)}
        if dropped != EXPECTED_DROPS.get(fname, set()):
            raise ValueError(f"{fname}: unexpected pruned fields {sorted(dropped)}")
        if defaults:
            C.apply_defaults(spec, schema)
        objs[fname] = {
            "apiVersion": f"{C.GROUP}/{version}",
            "kind": "MeshConfig",
            "metadata": {"name": C.NAME, "namespace": C.NAMESPACE},
            "spec": spec,
        }
    return objs


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    shared = os.path.abspath(args.shared)

    outputs = {}  # repo-relative path -> text
    summary = []
    with tempfile.TemporaryDirectory(prefix="golden-") as tmp:
        oracle = Oracle(shared, tmp)
        crds = quoted_crds(shared, tmp)
        # What the oracle judges against: the CRDs as upstream ships them.
        cluster = {name: os.path.join(shared, "reference", "osm-crds", name) for name in crds}

        objs = stored_objects(shared, crds)
        obj_dir = os.path.join(tmp, "objects")
        os.makedirs(obj_dir)
        for fname, obj in objs.items():
            text = dumps(obj, indent=2) + "\n"
            outputs[f"tests/fixtures/objects/{fname}"] = text
            with open(os.path.join(obj_dir, fname), "w", encoding="utf-8") as f:
                f.write(text)
            tag, crd_name, version, _ = OBJECTS[fname]
            # each stored object must be valid, without warnings, and (v0.9) already defaulted
            ok = oracle.patch(cluster[crd_name], version, os.path.join(obj_dir, fname), {})
            if ok != {"allowed": True, "warnings": []}:
                raise RuntimeError(f"{fname} is not a valid stored object: {ok}")
            back = oracle.stored(cluster[crd_name], version, os.path.join(obj_dir, fname))
            added = sorted(set(flatten(back)) - set(flatten(obj)))
            if OBJECTS[fname][3] and back != obj:
                raise RuntimeError(f"{fname}: defaults not fully applied: {added}")
            if added:
                print(f"note: {fname}: the apiserver would default {', '.join(added)} when reading it", file=sys.stderr)

        # every field path of every schema, to probe fields a schema lacks
        union = {}
        for _, version, crd_name, _ in SCHEMAS:
            for path, node, _ in C.walk(spec_schema(load_crd(crds[crd_name]), version)):
                union.setdefault(path, node)

        for release, version, crd_name, base in SCHEMAS:
            schema = spec_schema(load_crd(crds[crd_name]), version)
            cases = C.build_cases(schema, objs[base], version, union)
            out_cases = []
            for case in sorted(cases, key=lambda c: c["name"]):
                if "patch" in case:
                    expect = oracle.patch(cluster[crd_name], version, os.path.join(obj_dir, base), case["patch"])
                    out_cases.append({"name": case["name"], "base": base, "patch": case["patch"], "expect": expect})
                else:
                    expect = oracle.create(cluster[crd_name], version, case["object"])
                    out_cases.append({"name": case["name"], "object": case["object"], "expect": expect})
            audit(f"{release}_{version}", schema, out_cases)
            doc = {"release": release, "apiVersion": version, "crd": crd_name, "k8s": K8S, "cases": out_cases}
            outputs[f"tests/fixtures/crd/{release}_{version}.json"] = dumps(doc, indent=1) + "\n"
            summary.append((f"{release}_{version}", out_cases))

    changed = []
    for rel, text in sorted(outputs.items()):
        path = os.path.join(REPO, rel)
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                old = f.read()
        if old != text:
            changed.append(rel)
            if not args.check:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
    print_summary(summary, oracle.runs)
    if args.check:
        print("changed: " + (", ".join(changed) if changed else "none"))
        return 1 if changed else 0
    print(f"wrote {len(changed)} of {len(outputs)} files")
    return 0


def audit(label, schema, cases):
    """Fails unless every field got the expected verdict kinds (the acceptance bar)."""
    seen = {}  # (field, reason) -> set of case kinds ("patch"/"create")
    for case in cases:
        for c in causes(case):
            f = re.sub(r"\[\d+\]", "[i]", c["field"])
            seen.setdefault((f, c["reason"]), set()).add("create" if "object" in case else "patch")
        if case["expect"]["allowed"]:
            seen.setdefault((case["name"], "allowed"), set()).add("x")
    missing = []

    def need(field, reason, kind="patch"):
        if kind not in seen.get((field, reason), set()):
            missing.append(f"{field} {reason} ({kind})")

    need("spec", "FieldValueTypeInvalid")
    need("spec", "FieldValueTypeInvalid", "create")
    for path, node, parent in C.walk(schema):
        f = "spec." + ".".join(path)
        need(f, "FieldValueTypeInvalid")
        if path[-1] in (parent.get("required") or []):
            need(f, "FieldValueRequired")
            need(f, "FieldValueRequired", "create")
        if "enum" in node:
            need(f, "FieldValueNotSupported")
        if "minimum" in node:
            need(f, "FieldValueInvalid")
        if node.get("minItems"):
            need(f, "FieldValueInvalid")
        if node.get("type") == "array":
            need(f + "[i]", "FieldValueTypeInvalid")
            if "pattern" in node.get("items", {}) or "minimum" in node.get("items", {}):
                need(f + "[i]", "FieldValueInvalid")
    if missing:
        raise RuntimeError(f"{label}: coverage gaps: {missing}")


def flatten(v, prefix=""):
    if isinstance(v, dict) and v:
        out = []
        for k, x in v.items():
            out += flatten(x, f"{prefix}.{k}" if prefix else k)
        return out
    return [prefix]


def print_summary(summary, runs):
    reasons = sorted({c["reason"] for _, cs in summary for case in cs for c in causes(case)})
    short = {r: r.replace("FieldValue", "") for r in reasons}
    head = ["schema", "cases", "allowed", "rejected", "warned"] + [short[r] for r in reasons]
    rows = []
    for name, cs in summary:
        cnt = Counter(c["reason"] for case in cs for c in causes(case))
        allowed = sum(1 for c in cs if c["expect"]["allowed"])
        warned = sum(1 for c in cs if c["expect"]["warnings"])
        rows.append([name, len(cs), allowed, len(cs) - allowed, warned] + [cnt.get(r, 0) for r in reasons])
    rows.append(["total"] + [sum(r[i] for r in rows) for i in range(1, len(head))])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    for r in [head] + rows:
        print("  ".join(str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in enumerate(zip(r, widths))))
    print(f"(cause counts per reason; {runs} oracle runs, k8s {K8S})")


def causes(case):
    st = case["expect"].get("status")
    return st["details"]["causes"] if st else []


if __name__ == "__main__":
    sys.exit(main())
