//! Engine cost: `validate::meshconfig` on OSM v1.2.4's preset and on objects 10× and 100× larger
//! (long lists and many resources), to show the time per byte stays flat.
//!
//! Run: `cargo bench --bench validate`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meshconfig_webhook::schema::{ApiVersion, Release, Schema};
use meshconfig_webhook::validate;
#[path = "support/objects.rs"]
mod objects;

use objects::{grown, preset};

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
