//! `metav1.Status` for an invalid object (`apierrors.NewInvalid`) and kubectl's rendering of it.

use serde::{Deserialize, Serialize};

use super::{FieldError, aggregate_message};

/// `metav1.StatusCause`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// `metav1.StatusDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Details {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Cause>,
}

/// `metav1.Status`, serialized with the apiserver's field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub kind: String,
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub status: String,
    pub message: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Details>,
    pub code: u16,
}

impl Status {
    /// `apierrors.NewInvalid(schema.GroupKind{group, kind}, name, errs)`: code 422, reason
    /// `Invalid`, message `<Kind>.<group> "<name>" is invalid: <aggregate>`, one cause per error.
    pub fn invalid(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> Self {
        Self::invalid_capped(group, kind, name, errors, 0)
    }

    /// [`Status::invalid`] for the first errors of a longer list: `more` errors left out are
    /// counted in one last cause (`… and N more errors`, reason `FieldValueTooMany`, no field)
    /// and at the end of the message.
    pub fn invalid_capped(group: &str, kind: &str, name: &str, errors: &[FieldError], more: usize) -> Self {
        let qualified = if group.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}.{group}")
        };
        let mut causes: Vec<Cause> = errors
            .iter()
            .map(|e| Cause {
                reason: e.kind.cause_reason().to_owned(),
                message: e.body(),
                field: super::bounds::shown_field(&e.field).into_owned(),
            })
            .collect();
        let mut aggregate = aggregate_message(errors);
        if more > 0 {
            causes.push(super::bounds::more_errors_cause(more));
            // The aggregate's brackets are kept for one shown error plus the count, as for two.
            let shown = aggregate
                .strip_prefix('[')
                .and_then(|a| a.strip_suffix(']'))
                .unwrap_or(&aggregate);
            aggregate = format!("[{shown}, {}]", super::bounds::more_errors_text(more));
        }
        Self {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: serde_json::Map::new(),
            status: "Failure".into(),
            message: format!("{qualified} {} is invalid: {aggregate}", super::go_quote(name)),
            reason: "Invalid".into(),
            details: Some(Details {
                name: name.into(),
                group: group.into(),
                kind: kind.into(),
                causes,
            }),
            code: 422,
        }
    }

    /// `apierrors.NewForbidden(schema.GroupResource{group, resource}, name, errors.New(reason))`:
    /// code 403, message `<resource>.<group> "<name>" is forbidden: <reason>`.
    pub fn forbidden(group: &str, resource: &str, name: &str, reason: &str) -> Self {
        let qualified = if group.is_empty() {
            resource.to_owned()
        } else {
            format!("{resource}.{group}")
        };
        Self {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: serde_json::Map::new(),
            status: "Failure".into(),
            message: format!("{qualified} {} is forbidden: {reason}", super::go_quote(name)),
            reason: "Forbidden".into(),
            details: Some(Details {
                name: name.into(),
                group: group.into(),
                kind: resource.into(),
                causes: Vec::new(),
            }),
            code: 403,
        }
    }

    /// `apierrors.NewBadRequest(message)`: code 400, reason BadRequest.
    pub fn bad_request(message: &str) -> Self {
        Self {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: serde_json::Map::new(),
            status: "Failure".into(),
            message: message.into(),
            reason: "BadRequest".into(),
            details: None,
            code: 400,
        }
    }

    /// `apierrors.NewRequestEntityTooLargeError("limit is N")`: what kube-apiserver answers for a
    /// request body over its limit, before reading the object.
    pub fn request_entity_too_large(limit: usize) -> Self {
        Self {
            message: format!("Request entity too large: limit is {limit}"),
            reason: "RequestEntityTooLarge".into(),
            code: 413,
            ..Self::bad_request("")
        }
    }

    /// What kube-apiserver answers for a JSON patch that does not apply to the stored object
    /// (`NewGenericServerResponse(422, …)`): no detail reaches kubectl.
    pub fn unprocessable_patch() -> Self {
        Self {
            message: "the server rejected our request due to an error in our request".into(),
            reason: "Invalid".into(),
            code: 422,
            ..Self::bad_request("")
        }
    }

    /// `apierrors.NewInternalError(errors.New(problem))`: code 500, reason InternalError.
    pub fn internal_error(problem: &str) -> Self {
        Self {
            message: format!("Internal error occurred: {problem}"),
            reason: "InternalError".into(),
            code: 500,
            details: Some(Details {
                causes: vec![Cause {
                    reason: String::new(),
                    message: problem.to_owned(),
                    field: String::new(),
                }],
                ..Details::default()
            }),
            ..Self::bad_request("")
        }
    }

    /// What kubectl prints for this Status (`cmdutil.CheckErr` for an Invalid error), with the
    /// trailing newline kubectl writes.
    pub fn kubectl_message(&self) -> String {
        if self.reason != "Invalid" && self.details.is_none() && self.code != 400 {
            // Not an Invalid error: kubectl's generic `Error from server (<Reason>): <message>`.
            return format!("Error from server ({}): {}\n", self.reason, self.message);
        }
        match &self.details {
            Some(d) => kubectl_invalid_message(&d.kind, &d.name, &d.causes),
            None if self.message.is_empty() => "The request is invalid\n".into(),
            None => format!("The request is invalid: {}\n", self.message),
        }
    }
}

/// kubectl's `The <Kind> "<name>" is invalid: …` rendering: one cause on the same line, several as
/// `* ` bullet lines after `is invalid: `.
pub fn kubectl_invalid_message(kind: &str, name: &str, causes: &[Cause]) -> String {
    let prefix = if !kind.is_empty() || !name.is_empty() {
        format!("The {kind} {} is invalid: ", super::go_quote(name))
    } else {
        "The request is invalid: ".to_owned()
    };
    let line = |c: &Cause| {
        if c.field.is_empty() {
            c.message.clone()
        } else {
            format!("{}: {}", c.field, c.message)
        }
    };
    match causes {
        [] => format!("{}\n", prefix.trim_end_matches(": ")),
        [one] => format!("{prefix}{}\n", line(one)),
        many => {
            let mut s = format!("{prefix}\n");
            for c in many {
                s.push_str("* ");
                s.push_str(&line(c));
                s.push('\n');
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_status_matches_the_apiserver() {
        let errs = [
            FieldError::not_supported("spec.sidecar.logLevel", "loud", &["trace", "off"]),
            FieldError::type_invalid(
                "spec.traffic.enableEgress",
                "string",
                "spec.traffic.enableEgress in body must be of type boolean: \"string\"",
            ),
        ];
        let st = Status::invalid("config.openservicemesh.io", "MeshConfig", "osm-mesh-config", &errs);
        assert_eq!(st.code, 422);
        assert_eq!(
            st.message,
            "MeshConfig.config.openservicemesh.io \"osm-mesh-config\" is invalid: [spec.sidecar.logLevel: Unsupported value: \"loud\": supported values: \"trace\", \"off\", spec.traffic.enableEgress: Invalid value: \"string\": spec.traffic.enableEgress in body must be of type boolean: \"string\"]"
        );
        let causes = &st.details.as_ref().map(|d| d.causes.clone()).unwrap_or_default();
        assert_eq!(causes[1].reason, "FieldValueTypeInvalid");
        assert_eq!(
            st.kubectl_message(),
            "The MeshConfig \"osm-mesh-config\" is invalid: \n* spec.sidecar.logLevel: Unsupported value: \"loud\": supported values: \"trace\", \"off\"\n* spec.traffic.enableEgress: Invalid value: \"string\": spec.traffic.enableEgress in body must be of type boolean: \"string\"\n"
        );
        let json = serde_json::to_string(&st).unwrap_or_default();
        assert!(json.starts_with(r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"#));
    }

    #[test]
    fn single_cause_stays_on_one_line() {
        let errs = [FieldError::required("spec.certificate.certKeyBitSize", "")];
        let st = Status::invalid("config.openservicemesh.io", "MeshConfig", "osm-mesh-config", &errs);
        assert_eq!(
            st.kubectl_message(),
            "The MeshConfig \"osm-mesh-config\" is invalid: spec.certificate.certKeyBitSize: Required value\n"
        );
    }
}
