//! Jira routes: paging dialects, caps, errors, auth, getters.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Env, basic, start};

fn keys(items: &[Value], field: &str) -> Vec<String> {
    items.iter().map(|v| v[field].to_string()).collect()
}

#[tokio::test]
async fn project_search_pages_concatenate_to_the_dataset() {
    let env = start(600).await; // 12 projects
    let all = env
        .jira_offset_all("/rest/api/3/project/search?expand=insight", 5, "values")
        .await;
    assert_eq!(all, env.sim.dataset().jira("project"));
    assert_eq!(all.len(), 12);

    let first = env
        .jira_get("/rest/api/3/project/search?maxResults=5")
        .await
        .json();
    assert_eq!(
        (first["total"].as_u64(), first["isLast"].as_bool()),
        (Some(12), Some(false))
    );
    let next = first["nextPage"].as_str().unwrap();
    assert!(
        next.starts_with(&env.sim.jira_url()) && next.contains("startAt=5"),
        "{next}"
    );
    assert!(
        first["self"]
            .as_str()
            .unwrap()
            .contains("startAt=0&maxResults=5")
    );

    let last = env
        .jira_get("/rest/api/3/project/search?startAt=10&maxResults=5")
        .await
        .json();
    assert_eq!(last["isLast"], true);
    assert!(last.get("nextPage").is_none());
    assert_eq!(last["values"].as_array().unwrap().len(), 2);

    // maxResults is clamped to 100, not rejected.
    let clamped = env
        .jira_get("/rest/api/3/project/search?maxResults=5000")
        .await
        .json();
    assert_eq!(clamped["maxResults"], 100);

    // Following nextPage URLs walks the same pages.
    let mut url = format!(
        "{}/rest/api/3/project/search?maxResults=4",
        env.sim.jira_url()
    );
    let mut walked = Vec::new();
    loop {
        let page = env
            .send(Method::GET, &url, &[("authorization", &basic())], None)
            .await
            .json();
        walked.extend(page["values"].as_array().unwrap().iter().cloned());
        match page.get("nextPage") {
            Some(n) => url = n.as_str().unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!(walked, all);
}

async fn search_all(env: &Env, jql: &str, max: u64, fields: Value) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"jql": jql, "maxResults": max, "fields": fields});
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let r = env
            .jira(Method::POST, "/rest/api/3/search/jql", Some(body))
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        let page = r.json();
        assert!(page.get("total").is_none(), "search/jql never sends total");
        let issues = page["issues"].as_array().unwrap();
        assert!(issues.len() as u64 <= max.min(100));
        out.extend(issues.iter().cloned());
        pages += 1;
        let is_last = page["isLast"].as_bool().unwrap();
        match page.get("nextPageToken") {
            Some(t) => {
                assert!(!is_last);
                token = Some(t.as_str().unwrap().to_owned());
            }
            None => {
                assert!(is_last, "the last page omits nextPageToken and says isLast");
                return (out, pages);
            }
        }
    }
}

#[tokio::test]
async fn search_jql_tokens_walk_every_issue_exactly_once() {
    let env = start(250).await;
    let default_jql = "(statusCategory != Done) OR (created >= -1w) OR (updated >= 2020-01-01)";
    let (issues, pages) = search_all(&env, default_jql, 7, json!(["*all"])).await;
    assert_eq!(pages, 250usize.div_ceil(7));
    assert_eq!(issues, env.sim.dataset().jira("issue"));

    // maxResults above the cap gives pages of 100.
    let (_, pages) = search_all(
        &env,
        "updated >= 2020-01-01 order by key",
        500,
        json!("*all"),
    )
    .await;
    assert_eq!(pages, 3);

    // GET takes the same parameters in the query string.
    let r = env
        .jira_get("/rest/api/3/search/jql?jql=project%20%3D%20PROJ2&maxResults=3&fields=*all")
        .await
        .json();
    let got = r["issues"].as_array().unwrap();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|i| i["fields"]["project"]["key"] == "PROJ2"));
    let token = r["nextPageToken"].as_str().unwrap();
    let r2 = env
        .jira_get(&format!(
            "/rest/api/3/search/jql?jql=project%20%3D%20PROJ2&maxResults=3&fields=*all&nextPageToken={token}"
        ))
        .await
        .json();
    assert_ne!(r2["issues"][0]["id"], got[0]["id"]);

    // A project-restricted sync returns that project's issues, in order.
    let (proj, _) = search_all(&env, "project = PROJ3", 50, json!(["*all"])).await;
    let expected: Vec<Value> = env
        .sim
        .dataset()
        .jira("issue")
        .into_iter()
        .filter(|i| i["fields"]["project"]["key"] == "PROJ3")
        .collect();
    assert_eq!(proj, expected);
}

#[tokio::test]
async fn search_jql_fields_and_key_lookups() {
    let env = start(100).await;
    let post = |body: Value| env.jira(Method::POST, "/rest/api/3/search/jql", Some(body));

    // Without fields, Jira returns ids only.
    let r = post(json!({"jql": "updated >= 2020-01-01", "maxResults": 2}))
        .await
        .json();
    assert_eq!(r["issues"][0], json!({"id": "10000"}));

    let r = post(json!({"jql": "updated >= 2020-01-01", "maxResults": 1, "fields": ["key"]}))
        .await
        .json();
    assert_eq!(r["issues"][0]["key"], "PROJ1-1");
    assert_eq!(r["issues"][0]["fields"], json!({}));

    let r = post(
        json!({"jql": "updated >= 2020-01-01", "maxResults": 1, "fields": ["summary", "status"]}),
    )
    .await
    .json();
    let fields = r["issues"][0]["fields"].as_object().unwrap();
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["status", "summary"]);

    // The webhook re-fetch shape: selector JQL AND key = K, with reconcileIssues.
    let r = post(json!({
        "jql": "(updated >= 2020-01-01) AND key = PROJ2-3",
        "maxResults": 1,
        "fields": ["*all"],
        "reconcileIssues": [10005],
    }))
    .await
    .json();
    assert_eq!(r["issues"].as_array().unwrap().len(), 1);
    assert_eq!(r["issues"][0]["key"], "PROJ2-3");
    assert_eq!(r["isLast"], true);
    assert_eq!(
        r["issues"][0],
        env.sim.dataset().jira_get("issue", "PROJ2-3").unwrap()
    );

    let r = post(json!({"jql": "key = PROJ9-999", "fields": ["*all"]}))
        .await
        .json();
    assert_eq!(r, json!({"issues": [], "isLast": true}));

    let count = env
        .jira(
            Method::POST,
            "/rest/api/3/search/approximate-count",
            Some(json!({"jql": "project = PROJ1"})),
        )
        .await
        .json();
    assert_eq!(count["count"], 50);
}

#[tokio::test]
async fn search_jql_rejects_bad_queries_and_tokens() {
    let env = start(60).await;
    let post = |body: Value| env.jira(Method::POST, "/rest/api/3/search/jql", Some(body));
    for jql in [
        "order by key",
        "ORDER BY created DESC",
        "",
        "project = (PROJ1",
    ] {
        let r = post(json!({"jql": jql})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{jql:?}");
        let v = r.json();
        assert!(
            v["errorMessages"][0].is_string() && v["errors"].is_object(),
            "{v}"
        );
    }
    let unbounded = post(json!({"jql": "order by key"})).await.json();
    assert!(
        unbounded["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("Unbounded")
    );

    let r = post(json!({"jql": "updated >= 2020-01-01", "nextPageToken": "not-a-token"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // A token only works with the query that produced it.
    let first = post(json!({"jql": "updated >= 2020-01-01", "maxResults": 5}))
        .await
        .json();
    let token = first["nextPageToken"].as_str().unwrap();
    let r = post(json!({"jql": "project = PROJ1", "nextPageToken": token})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = env
        .send(
            Method::POST,
            &format!("{}/rest/api/3/search/jql", env.sim.jira_url()),
            &[
                ("authorization", &basic()),
                ("content-type", "application/json"),
            ],
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a missing JQL is rejected"
    );

    for path in ["/rest/api/3/search?jql=project%3DX", "/rest/api/2/search"] {
        let r = env.jira_get(path).await;
        assert_eq!(r.status, StatusCode::GONE, "{path}");
        assert!(
            r.json()["errorMessages"][0]
                .as_str()
                .unwrap()
                .contains("/rest/api/3/search/jql")
        );
    }
    let r = env
        .jira(
            Method::POST,
            "/rest/api/3/search",
            Some(json!({"jql": "x = 1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::GONE);
}

#[tokio::test]
async fn users_search_is_a_bare_array_paged_until_empty() {
    let env = start(100).await; // 10 users
    let mut all = Vec::new();
    let mut start = 0;
    loop {
        let r = env
            .jira_get(&format!(
                "/rest/api/3/users/search?startAt={start}&maxResults=3"
            ))
            .await;
        let page = r.json();
        let items = page.as_array().expect("a bare array");
        if items.is_empty() {
            break;
        }
        start += items.len();
        all.extend(items.iter().cloned());
    }
    assert_eq!(all, env.sim.dataset().jira("user"));
    assert_eq!(all[0]["emailAddress"], ocean_sim::JIRA_EMAIL);
    let big = env
        .jira_get("/rest/api/3/users/search?maxResults=100000")
        .await
        .json();
    assert_eq!(big.as_array().unwrap().len(), 10);

    let account = all[3]["accountId"].as_str().unwrap();
    let one = env
        .jira_get(&format!("/rest/api/3/user?accountId={account}"))
        .await
        .json();
    assert_eq!(one, all[3]);
    let missing = env.jira_get("/rest/api/3/user?accountId=nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.json()["errorMessages"].is_array());
}

#[tokio::test]
async fn boards_sprints_and_epics() {
    let env = start(200).await; // 4 projects → 4 scrum boards + 1 kanban
    let ds = env.sim.dataset();
    let boards = env
        .jira_offset_all("/rest/agile/1.0/board", 2, "values")
        .await;
    assert_eq!(boards, ds.jira("board"));
    let capped = env
        .jira_get("/rest/agile/1.0/board?maxResults=500")
        .await
        .json();
    assert_eq!(capped["maxResults"], 50);
    let scrum = env
        .jira_get("/rest/agile/1.0/board?type=scrum&projectKeyOrId=PROJ2")
        .await
        .json();
    assert_eq!(scrum["total"], 1);

    let mut sprints = Vec::new();
    let mut epics = Vec::new();
    for board in &boards {
        let id = board["id"].as_u64().unwrap();
        let path = format!("/rest/agile/1.0/board/{id}/sprint");
        if board["type"] == "kanban" {
            let r = env.jira_get(&path).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST);
            assert_eq!(
                r.json(),
                json!({"errorMessages": ["The board does not support sprints"], "errors": {}})
            );
        } else {
            let page = env.jira_offset_all(&path, 2, "values").await;
            assert_eq!(page.len(), 3);
            sprints.extend(page);
            let active = env
                .jira_get(&format!("{path}?state=active,future"))
                .await
                .json();
            assert_eq!(
                keys(active["values"].as_array().unwrap(), "state"),
                ["\"active\"", "\"future\""]
            );
        }
        epics.extend(
            env.jira_offset_all(&format!("/rest/agile/1.0/board/{id}/epic"), 1, "values")
                .await,
        );
        let not_done = env
            .jira_get(&format!("/rest/agile/1.0/board/{id}/epic?done=false"))
            .await
            .json();
        assert!(
            not_done["values"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["done"] == false)
        );
        let single = env
            .jira_get(&format!("/rest/agile/1.0/board/{id}"))
            .await
            .json();
        assert_eq!(&single, board);
    }
    assert_eq!(sprints, ds.jira("sprint"));
    assert_eq!(epics, ds.jira("epic"));
    let bad_state = env
        .jira_get("/rest/agile/1.0/board/1/sprint?state=sleeping")
        .await;
    assert_eq!(bad_state.status, StatusCode::BAD_REQUEST);

    let sprint = env
        .jira_get(&format!("/rest/agile/1.0/sprint/{}", sprints[1]["id"]))
        .await
        .json();
    assert_eq!(sprint, sprints[1]);
    let projects = env.jira_get("/rest/agile/1.0/board/2/project").await.json();
    assert_eq!(projects["values"][0]["key"], "PROJ2");
    assert_eq!(
        env.jira_get("/rest/agile/1.0/board/999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        env.jira_get("/rest/agile/1.0/sprint/999").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn versions_components_and_worklogs_per_parent() {
    let env = start(120).await;
    let ds = env.sim.dataset();
    let (mut versions, mut components) = (Vec::new(), Vec::new());
    for project in ds.jira("project") {
        let key = project["key"].as_str().unwrap();
        versions.extend(
            env.jira_offset_all(&format!("/rest/api/3/project/{key}/version"), 2, "values")
                .await,
        );
        let id = project["id"].as_str().unwrap();
        components.extend(
            env.jira_offset_all(&format!("/rest/api/3/project/{id}/component"), 1, "values")
                .await,
        );
        let single = env
            .jira_get(&format!("/rest/api/3/project/{key}"))
            .await
            .json();
        assert_eq!(single, project);
    }
    assert_eq!(versions, ds.jira("release"));
    assert_eq!(components, ds.jira("component"));
    let v = env
        .jira_get(&format!(
            "/rest/api/3/version/{}",
            versions[4]["id"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(v, versions[4]);
    let missing = env.jira_get("/rest/api/3/project/NOPE/version").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json(),
        json!({"errorMessages": ["No project could be found with key 'NOPE'."], "errors": {}})
    );

    let mut worklogs = Vec::new();
    for issue in ds.jira("issue") {
        let key = issue["key"].as_str().unwrap();
        let page = env
            .jira_get(&format!("/rest/api/3/issue/{key}/worklog"))
            .await
            .json();
        assert_eq!(
            page["total"].as_u64().unwrap() as usize,
            page["worklogs"].as_array().unwrap().len()
        );
        assert_eq!(page["startAt"], 0);
        worklogs.extend(page["worklogs"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(worklogs, ds.jira("worklog"));
    let w = &worklogs[0];
    let issue_id = w["issueId"].as_str().unwrap();
    let one = env
        .jira_get(&format!(
            "/rest/api/3/issue/{issue_id}/worklog/{}",
            w["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one.json(), *w);
    // The third issue has two worklogs.
    let paged = env
        .jira_get("/rest/api/3/issue/10002/worklog?startAt=1&maxResults=1")
        .await
        .json();
    assert_eq!(
        (paged["total"].as_u64(), paged["maxResults"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        paged["worklogs"][0],
        ds.jira_children("worklog", "10002")[1]
    );
    let issue = env.jira_get("/rest/api/3/issue/PROJ1-2").await.json();
    assert_eq!(issue, ds.jira_get("issue", "PROJ1-2").unwrap());
    assert_eq!(
        env.jira_get("/rest/api/3/issue/NOPE-1").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn auth_is_required_and_errors_are_error_collections() {
    let env = start(20).await;
    let url = format!("{}/rest/api/3/project/search", env.sim.jira_url());
    let wrong = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "demo@example.com:wrong"
        )
    );
    for headers in [
        vec![],
        vec![("authorization", wrong.as_str())],
        vec![("authorization", "Bearer nope")],
    ] {
        let r = env.send(Method::GET, &url, &headers, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let v = r.json();
        assert!(
            v["errorMessages"][0].is_string() && v["errors"].is_object(),
            "{v}"
        );
    }
    let r = env
        .send(
            Method::GET,
            &url,
            &[("authorization", &crate::common::bearer())],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(env.sim.stats().unauthorized, 3);
}

#[tokio::test]
async fn permissions_and_admin_webhook_registration() {
    let env = start(20).await;
    let r = env.jira_get("/rest/api/3/mypermissions").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let p = env
        .jira_get("/rest/api/3/mypermissions?permissions=ADMINISTER")
        .await
        .json();
    assert_eq!(p["permissions"]["ADMINISTER"]["havePermission"], true);
    assert_eq!(p["permissions"]["ADMINISTER"]["type"], "GLOBAL");

    let body = json!({
        "name": "ocean", "url": "http://127.0.0.1:9/hook",
        "events": ["jira:issue_updated"], "filters": {"issue-related-events-section": "project = PROJ1"},
        "excludeBody": false, "secret": "s3cr3t",
    });
    let created = env
        .jira(Method::POST, "/rest/webhooks/1.0/webhook", Some(body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let hook = created.json();
    assert!(
        hook["self"]
            .as_str()
            .unwrap()
            .ends_with("/rest/webhooks/1.0/webhook/1")
    );
    assert!(hook.get("secret").is_none(), "the secret is never echoed");
    let list = env.jira_get("/rest/webhooks/1.0/webhook").await.json();
    assert_eq!(list, json!([hook]));
    assert_eq!(
        env.jira_get("/rest/webhooks/1.0/webhook/1").await.json(),
        hook
    );
    let r = env
        .jira(Method::DELETE, "/rest/webhooks/1.0/webhook/1", None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        env.jira_get("/rest/webhooks/1.0/webhook/1").await.status,
        StatusCode::NOT_FOUND
    );

    env.sim.faults().set_jira_admin(false);
    let p = env
        .jira_get("/rest/api/3/mypermissions?permissions=ADMINISTER")
        .await
        .json();
    assert_eq!(p["permissions"]["ADMINISTER"]["havePermission"], false);
    assert_eq!(
        env.jira_get("/rest/webhooks/1.0/webhook").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn dynamic_webhooks_are_for_apps() {
    let env = start(20).await;
    let body = json!({"url": "http://127.0.0.1:9/hook", "webhooks": [
        {"events": ["jira:issue_created", "jira:issue_updated"], "jqlFilter": "project not in (x-1)"},
        {"events": ["project_created"], "jqlFilter": "project = A"},
        {"events": ["jira:issue_deleted"]},
    ]});
    let r = env
        .jira(Method::POST, "/rest/api/3/webhook", Some(body.clone()))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "Basic callers are not apps"
    );
    let r = env
        .jira_app(Method::POST, "/rest/api/3/webhook", Some(body))
        .await
        .json();
    let results = r["webhookRegistrationResult"].as_array().unwrap();
    assert_eq!(results[0]["createdWebhookId"], 10000);
    assert!(
        results[1]["errors"][0]
            .as_str()
            .unwrap()
            .contains("project_created")
    );
    assert!(results[2]["errors"].is_array());

    let list = env
        .jira_app(Method::GET, "/rest/api/3/webhook", None)
        .await
        .json();
    assert_eq!(
        (list["total"].as_u64(), list["isLast"].as_bool()),
        (Some(1), Some(true))
    );
    assert!(list["values"][0]["expirationDate"].is_i64());
    let refreshed = env
        .jira_app(
            Method::PUT,
            "/rest/api/3/webhook/refresh",
            Some(json!({"webhookIds": [10000]})),
        )
        .await
        .json();
    assert!(refreshed["expirationDate"].as_i64().unwrap() > 0);
    let r = env
        .jira_app(
            Method::DELETE,
            "/rest/api/3/webhook",
            Some(json!({"webhookIds": [10000]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let list = env
        .jira_app(Method::GET, "/rest/api/3/webhook", None)
        .await
        .json();
    assert_eq!(list["total"], 0);
}
