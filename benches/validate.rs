//! Engine cost: `validate::meshconfig` on OSM v1.2.4's preset and on objects 10× and 100× larger
//! (long lists and many resources), to show the time per byte stays flat.
//!
//! Run: `cargo bench --bench validate`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meshconfig_webhook::schema::{ApiVersion, Release, Schema};
use meshconfig_webhook::validate;
use serde_json::{Value, json};

fn preset() -> Value {
    let text = include_str!("../tests/fixtures/objects/meshconfig-v1.2.4.json");
    serde_json::from_str(text).expect("fixture is JSON")
}

/// The preset grown by `factor`: every list and the resource maps get `factor`× more entries, so
/// the object's size grows roughly linearly with it.
fn grown(factor: usize) -> Value {
    let mut o = preset();
    let n = 4 * factor;
    let spec = &mut o["spec"];
    spec["traffic"]["outboundIPRangeExclusionList"] = (0..n)
        .map(|i| json!(format!("10.{}.{}.0/24", i / 256 % 256, i % 256)))
        .collect();
    spec["traffic"]["outboundIPRangeInclusionList"] =
        (0..n).map(|i| json!(format!("172.16.{}.0/24", i % 256))).collect();
    spec["traffic"]["outboundPortExclusionList"] = (0..n).map(|i| json!(1000 + i)).collect();
    spec["traffic"]["inboundPortExclusionList"] = (0..n).map(|i| json!(20000 + i)).collect();
    spec["traffic"]["networkInterfaceExclusionList"] = (0..n).map(|i| json!(format!("eth{i}"))).collect();
    let limits: serde_json::Map<String, Value> = (0..factor)
        .map(|i| (format!("example.com/dev{i}"), json!("2")))
        .collect();
    let mut requests = limits.clone();
    requests.insert("cpu".into(), json!("100m"));
    let mut limits = limits;
    limits.insert("cpu".into(), json!("1"));
    spec["sidecar"]["resources"] = json!({"limits": limits, "requests": requests});
    o
}

fn bench(c: &mut Criterion) {
    let schema = Schema::get(Release::V1_2, ApiVersion::V1alpha2).expect("schema");
    let mut g = c.benchmark_group("validate");
    for (label, object) in [("preset", preset()), ("10x", grown(10)), ("100x", grown(100))] {
        let outcome = validate::meshconfig(schema, &object, None);
        assert!(outcome.allowed(), "{label} must be valid: {:?}", outcome.errors);
        let bytes = serde_json::to_vec(&object).map(|b| b.len()).unwrap_or(0) as u64;
        g.throughput(Throughput::Bytes(bytes));
        g.bench_with_input(
            BenchmarkId::new("create", format!("{label} ({bytes} B)")),
            &object,
            |b, o| b.iter(|| validate::meshconfig(schema, black_box(o), None)),
        );
        g.bench_with_input(
            BenchmarkId::new("update", format!("{label} ({bytes} B)")),
            &object,
            |b, o| b.iter(|| validate::meshconfig(schema, black_box(o), Some(black_box(o)))),
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
