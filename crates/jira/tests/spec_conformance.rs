//! Every typed Jira model holds every value its schema in the Jira Cloud platform
//! OpenAPI document allows (issue 17). The agile models (boards, sprints, epics) are
//! not in that document and are not checked here.

#[path = "../../../tests/conformance/spec.rs"]
mod spec;

use std::path::Path;

use ocean_jira::models::{Component, Issue, Project, Release, User, Worklog};
use spec::{Spec, assert_conforms, check};

const SPEC: &str = "jira-platform-v3.json";

fn jira() -> Spec {
    Spec::load(Path::new(env!("CARGO_MANIFEST_DIR")), SPEC)
}

#[test]
fn every_jira_model_holds_its_schemas_range() {
    let spec = jira();
    let mut failures = Vec::new();
    failures.extend(check::<Project>(&spec, "Project", "Project"));
    failures.extend(check::<Component>(
        &spec,
        "ComponentWithIssueCount",
        "Component",
    ));
    failures.extend(check::<Release>(&spec, "Version", "Release"));
    failures.extend(check::<Worklog>(&spec, "Worklog", "Worklog"));
    failures.extend(check::<User>(&spec, "User", "User"));
    failures.extend(check::<Issue>(&spec, "IssueBean", "Issue"));
    assert_conforms(failures);
}

/// The check itself: a model with the old `u64` types is caught, field by field.
#[test]
fn the_check_catches_a_model_that_drifted() {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct OldComponent {
        id: Option<String>,
        project_id: Option<u64>,
        issue_count: Option<u64>,
    }
    let failures = check::<OldComponent>(&jira(), "ComponentWithIssueCount", "OldComponent");
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert!(
        failures[0].starts_with("OldComponent.issueCount (int64"),
        "{failures:#?}"
    );
    assert!(
        failures[1].starts_with("OldComponent.projectId (int64"),
        "{failures:#?}"
    );
    assert!(
        failures[0].contains("-9223372036854775808"),
        "{failures:#?}"
    );
}
