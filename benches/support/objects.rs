//! Objects shared by the benches: OSM v1.2.4's preset and the same object grown with long lists
//! and many resources, so cost can be compared as size grows.

use serde_json::{Value, json};

pub fn preset() -> Value {
    let text = include_str!("../../tests/fixtures/objects/meshconfig-v1.2.4.json");
    serde_json::from_str(text).expect("fixture is JSON")
}

/// The preset grown by `factor`: every list and the resource maps get `factor`× more entries, so the
/// object's size grows roughly linearly with it; the port lists hold the 15 ports OSM can write
/// into one iptables multiport rule at most.
pub fn grown(factor: usize) -> Value {
    let mut o = preset();
    if factor <= 1 {
        return o;
    }
    let n = 4 * factor;
    let spec = &mut o["spec"];
    spec["traffic"]["outboundIPRangeExclusionList"] = (0..n)
        .map(|i| json!(format!("10.{}.{}.0/24", i / 256 % 256, i % 256)))
        .collect();
    spec["traffic"]["outboundIPRangeInclusionList"] =
        (0..n).map(|i| json!(format!("172.16.{}.0/24", i % 256))).collect();
    let ports = n.min(15);
    spec["traffic"]["outboundPortExclusionList"] = (0..ports).map(|i| json!(1000 + i)).collect();
    spec["traffic"]["inboundPortExclusionList"] = (0..ports).map(|i| json!(20000 + i)).collect();
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
