//! The caps every validator outcome keeps, whatever the input (`field::bounds`); shared by the
//! validator fuzz targets.

use meshconfig_webhook::field::bounds;
use meshconfig_webhook::validate::Outcome;

/// At most [`bounds::MAX_CAUSES`] errors and [`bounds::MAX_WARNINGS`] warnings, and warnings the
/// apiserver passes on whole.
pub fn assert_bounded(outcome: &Outcome) {
    assert!(outcome.errors.len() <= bounds::MAX_CAUSES);
    assert!(outcome.warnings.len() <= bounds::MAX_WARNINGS);
    for w in bounds::webhook_warnings(&outcome.warnings, outcome.more_warnings) {
        assert!(
            w.chars().count() <= bounds::APISERVER_WARNING_ITEM_RUNES,
            "warning too long: {w}"
        );
    }
}
