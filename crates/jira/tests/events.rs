//! Webhook deliveries: every event type, malformed and unknown bodies, signatures.

mod support;

use ocean_core::ParentRef;
use ocean_core::webhook::{Action, Change, hmac_sha256_hex};
use ocean_jira::events::{EventError, JiraEvent};
use ocean_jira::{JiraKind, WEBHOOK_EVENTS, verify_signature};
use serde_json::{Value, json};
use support::*;

fn parse(body: Value) -> Result<JiraEvent, EventError> {
    JiraEvent::parse(body.to_string().as_bytes())
}

/// A body carrying every entity, so any event name finds its object.
fn everything(event: &str) -> Value {
    json!({
        "timestamp": 1545144267596u64,
        "webhookEvent": event,
        "issue": {"id": "16642", "key": "ST3-4", "fields": {}},
        "comment": {"id": "100"},
        "project": {"self": "https://x/rest/api/2/project/10000", "id": 10000, "key": "EX", "name": "Example"},
        "user": {"accountId": "5b2be739a85c485354681b3b", "displayName": "Marvin"},
        "version": {"id": "10100", "name": "1.0", "projectId": 10000, "released": true},
        "board": {"id": 7, "name": "Board 7", "type": "scrum"},
        "sprint": {"id": 11, "state": "active", "originBoardId": 7},
        "worklog": {"id": "100028", "issueId": "16642", "timeSpentSeconds": 12000},
    })
}

#[test]
fn the_issue_fixture_is_an_issue_upsert() {
    let body = fixture_text("jira-webhook-event-issue-updated.json");
    let event = JiraEvent::parse(body.as_bytes()).unwrap();
    assert_eq!(event.webhook_event(), "jira:issue_updated");
    assert_eq!(event.kind(), Some(JiraKind::Issue));
    assert_eq!(event.action(), Some(Action::Upsert));
    assert_eq!(event.id(), Some("ST3-4"));
    assert_eq!(event.issue_id(), Some(16642));
    assert_eq!(
        event.changes(),
        [Change {
            kind: "issue",
            action: Action::Upsert,
            id: "ST3-4".into(),
            parent: None
        }]
    );
}

#[test]
fn every_subscribed_event_maps_to_a_kind_action_and_id() {
    let expected = |event: &str| -> (JiraKind, Action, &'static str) {
        let restored = event.starts_with("project_restored_");
        let action = if !restored && (event.ends_with("_deleted") || event == "project_archived") {
            Action::Delete
        } else {
            Action::Upsert
        };
        let (kind, id) = match event {
            e if e.starts_with("jira:issue_") => (JiraKind::Issue, "ST3-4"),
            e if e.starts_with("jira:version_") => (JiraKind::Release, "10100"),
            e if e.starts_with("project_") => (JiraKind::Project, "EX"),
            e if e.starts_with("user_") => (JiraKind::User, "5b2be739a85c485354681b3b"),
            e if e.starts_with("board_") => (JiraKind::Board, "7"),
            e if e.starts_with("sprint_") => (JiraKind::Sprint, "11"),
            e if e.starts_with("worklog_") => (JiraKind::Worklog, "100028"),
            e => panic!("unexpected {e}"),
        };
        (kind, action, id)
    };
    for name in WEBHOOK_EVENTS {
        let event = parse(everything(name)).unwrap();
        let (kind, action, id) = expected(name);
        assert_eq!(event.webhook_event(), name);
        assert_eq!(
            (event.kind(), event.action(), event.id()),
            (Some(kind), Some(action), Some(id)),
            "{name}"
        );
        let changes = event.changes();
        assert_eq!(changes.len(), 1, "{name}");
        assert_eq!(
            (changes[0].kind, changes[0].action, changes[0].id.as_str()),
            (kind.as_str(), action, id)
        );
    }
}

#[test]
fn restored_projects_are_upserts_and_archived_ones_deletes() {
    for (name, action) in [
        ("project_soft_deleted", Action::Delete),
        ("project_archived", Action::Delete),
        ("project_restored_deleted", Action::Upsert),
        ("project_restored_archived", Action::Upsert),
    ] {
        assert_eq!(
            parse(everything(name)).unwrap().action(),
            Some(action),
            "{name}"
        );
    }
    // A project payload without a key falls back to the id.
    let event =
        parse(json!({"webhookEvent": "project_deleted", "project": {"id": 10000}})).unwrap();
    assert_eq!(event.id(), Some("10000"));
}

#[test]
fn children_name_their_parents() {
    let worklog = parse(everything("worklog_deleted")).unwrap();
    assert_eq!(
        worklog.changes(),
        [Change {
            kind: "worklog",
            action: Action::Delete,
            id: "100028".into(),
            parent: Some(ParentRef {
                field: "issue_id",
                id: "16642".into()
            }),
        }]
    );
    let sprint = parse(everything("sprint_closed")).unwrap();
    assert_eq!(
        sprint.changes()[0].parent,
        Some(ParentRef {
            field: "board_id",
            id: "7".into()
        })
    );
    let release = parse(everything("jira:version_released")).unwrap();
    assert_eq!(
        release.changes()[0].parent,
        Some(ParentRef {
            field: "project_id",
            id: "10000".into()
        })
    );
    // A minimal worklog delete has no issue id: still valid.
    let bare = parse(json!({"webhookEvent": "worklog_deleted", "worklog": {"id": 5}})).unwrap();
    assert_eq!(bare.changes()[0].parent, None);
}

#[test]
fn a_moved_issue_deletes_its_old_key() {
    let mut body = everything("jira:issue_updated");
    body["changelog"] = json!({"id": "1", "items": [
        {"field": "Key", "fieldtype": "jira", "from": null, "fromString": "OLD-9", "to": null, "toString": "ST3-4"}
    ]});
    let changes = parse(body).unwrap().changes();
    let summary: Vec<_> = changes.iter().map(|c| (c.action, c.id.as_str())).collect();
    assert_eq!(
        summary,
        [(Action::Delete, "OLD-9"), (Action::Upsert, "ST3-4")]
    );
}

#[test]
fn a_merged_version_upserts_its_target() {
    let body = json!({"webhookEvent": "jira:version_merged", "version": {"id": "3", "projectId": 1},
                      "mergedTo": {"id": "4", "name": "2.0"}});
    let changes = parse(body).unwrap().changes();
    let summary: Vec<_> = changes.iter().map(|c| (c.action, c.id.as_str())).collect();
    assert_eq!(summary, [(Action::Delete, "3"), (Action::Upsert, "4")]);
}

#[test]
fn comment_and_sprint_start_events_are_understood() {
    let comment = parse(everything("comment_created")).unwrap();
    assert_eq!(
        (comment.kind(), comment.id()),
        (Some(JiraKind::Issue), Some("ST3-4"))
    );
    let started = parse(everything("sprint_started")).unwrap();
    assert_eq!(started.action(), Some(Action::Upsert));
}

#[test]
fn unknown_events_are_unsupported_not_errors() {
    let event =
        parse(json!({"webhookEvent": "issuelink_created", "issueLink": {"id": 1}})).unwrap();
    assert_eq!(
        event,
        JiraEvent::Unsupported {
            webhook_event: "issuelink_created".into()
        }
    );
    assert_eq!(
        (event.kind(), event.action(), event.id()),
        (None, None, None)
    );
    assert!(event.changes().is_empty());
}

#[test]
fn malformed_bodies_name_the_json_path() {
    let err = JiraEvent::parse(b"{\"webhookEvent\": ").unwrap_err();
    assert!(matches!(err, EventError::Syntax { .. }), "{err}");
    assert_eq!(err.path(), ".");
    assert!(err.to_string().contains("line 1"), "{err}");

    let err = parse(json!(["not", "an", "object"])).unwrap_err();
    assert_eq!(err.path(), ".");

    let err = parse(json!({"timestamp": 1})).unwrap_err();
    assert_eq!(
        err,
        EventError::Missing {
            path: "webhookEvent".into()
        }
    );

    let err =
        parse(json!({"webhookEvent": "jira:issue_updated", "issue": {"id": "1"}})).unwrap_err();
    assert_eq!(err.path(), "issue.key");
    assert_eq!(err.to_string(), "the webhook body has no `issue.key`");

    let err = parse(json!({"webhookEvent": "jira:issue_deleted", "issue": "ST3-4"})).unwrap_err();
    assert_eq!(
        err,
        EventError::WrongType {
            path: "issue".into(),
            expected: "an object",
            found: "a string"
        }
    );

    let err =
        parse(json!({"webhookEvent": "worklog_created", "worklog": {"id": [1]}})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`worklog.id` in the webhook body is an array, expected a string or number"
    );

    let err = parse(json!({"webhookEvent": "board_updated", "board": {"id": null}})).unwrap_err();
    assert_eq!(err.path(), "board.id");

    let err = parse(json!({"webhookEvent": 5})).unwrap_err();
    assert_eq!(err.path(), "webhookEvent");
}

#[test]
fn signatures_are_checked_against_the_raw_body() {
    let body = fixture_text("jira-webhook-event-issue-updated.json");
    let header = format!("sha256={}", hmac_sha256_hex(b"s3cret", body.as_bytes()));
    assert!(verify_signature(b"s3cret", body.as_bytes(), Some(&header)));
    assert!(verify_signature(
        b"s3cret",
        body.as_bytes(),
        Some(&header.to_uppercase().replace("SHA256", "sha256"))
    ));
    assert!(!verify_signature(b"other", body.as_bytes(), Some(&header)));
    let tampered = body.replace("foo bar", "foo baz");
    assert!(!verify_signature(
        b"s3cret",
        tampered.as_bytes(),
        Some(&header)
    ));
    assert!(!verify_signature(b"s3cret", body.as_bytes(), None));
    assert!(!verify_signature(
        b"s3cret",
        body.as_bytes(),
        Some("sha1=abc")
    ));
    // An empty secret proves nothing.
    let unsigned = format!("sha256={}", hmac_sha256_hex(b"", body.as_bytes()));
    assert!(!verify_signature(b"", body.as_bytes(), Some(&unsigned)));
}
