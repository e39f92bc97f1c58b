//! meshconfig-webhook: a validating admission webhook for Open Service Mesh's MeshConfig.
//!
//! Data flows one way: bytes → review (`admission`) → object → schema walk (`validate` over
//! `schema`) → field errors (`field`) → Status → review → bytes. `schema`, `validate` and `field`
//! are pure and synchronous; `server` owns sockets, TLS and time.

#![forbid(unsafe_code)]

pub mod admission;
pub mod arc;
pub mod certs;
pub mod cli;
pub mod field;
pub mod policy;
pub mod schema;
pub mod server;
pub mod validate;
