//! Octopus routes: collection envelope arithmetic, links, getters, auth, subscriptions.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::start;

#[tokio::test]
async fn every_collection_pages_to_the_dataset() {
    let env = start(200).await;
    let ds = env.sim.dataset();
    let spaces = env.octopus_all("/api/spaces?take=1").await;
    assert_eq!(spaces, ds.octopus("space"));
    assert_eq!(spaces[0]["IsDefault"], true);

    for (kind, plural) in [
        ("project", "projects"),
        ("environment", "environments"),
        ("machine", "machines"),
        ("release", "releases"),
        ("deployment", "deployments"),
    ] {
        let mut all = Vec::new();
        for space in ["Spaces-1", "Spaces-2"] {
            let items = env
                .octopus_all(&format!("/api/{space}/{plural}?skip=0&take=7"))
                .await;
            assert!(
                items.iter().all(|i| i["SpaceId"] == space),
                "{kind} in {space}"
            );
            assert_eq!(items, ds.octopus_in_space(kind, space), "{kind} in {space}");
            all.extend(items);
        }
        assert_eq!(all, ds.octopus(kind), "{kind}");
    }

    // Newest first.
    let deployments = ds.octopus_in_space("deployment", "Spaces-1");
    let created: Vec<&str> = deployments
        .iter()
        .map(|d| d["Created"].as_str().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(deployments.len(), 100);
    assert_eq!(ds.octopus_len("release"), 50);
}

#[tokio::test]
async fn envelope_defaults_links_and_edges() {
    let env = start(200).await;
    let v = env.octopus_get("/api/Spaces-1/deployments").await.json();
    assert_eq!(v["ItemType"], "Deployment");
    assert_eq!(
        (v["TotalResults"].as_u64(), v["ItemsPerPage"].as_u64()),
        (Some(100), Some(30))
    );
    assert_eq!(
        (v["NumberOfPages"].as_u64(), v["LastPageNumber"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(v["Items"].as_array().unwrap().len(), 30);
    let links = &v["Links"];
    assert_eq!(links["Self"], "/api/Spaces-1/deployments?skip=0&take=30");
    assert_eq!(
        links["Page.Next"],
        "/api/Spaces-1/deployments?skip=30&take=30"
    );
    assert_eq!(
        links["Page.Last"],
        "/api/Spaces-1/deployments?skip=90&take=30"
    );
    assert!(links.get("Page.Prev").is_none());
    assert!(
        links["Template"]
            .as_str()
            .unwrap()
            .starts_with("/api/Spaces-1/deployments{?skip,take")
    );

    // No cap on take.
    let all = env
        .octopus_get("/api/Spaces-1/deployments?take=2147483647")
        .await
        .json();
    assert_eq!(all["Items"].as_array().unwrap().len(), 100);
    assert_eq!(
        (
            all["NumberOfPages"].as_u64(),
            all["LastPageNumber"].as_u64()
        ),
        (Some(1), Some(0))
    );

    let tail = env
        .octopus_get("/api/Spaces-1/deployments?skip=90&take=30")
        .await
        .json();
    assert_eq!(
        tail["Links"]["Page.Prev"],
        "/api/Spaces-1/deployments?skip=60&take=30"
    );
    assert!(tail["Links"].get("Page.Next").is_none());
    let beyond = env
        .octopus_get("/api/Spaces-1/deployments?skip=500")
        .await
        .json();
    assert_eq!(beyond["Items"], json!([]));

    let empty = env.octopus_get("/api/Spaces-2/subscriptions").await.json();
    assert_eq!(
        (
            empty["TotalResults"].as_u64(),
            empty["NumberOfPages"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(empty["LastPageNumber"], 0);
    assert!(empty["Links"].get("Page.Next").is_none());

    // Unscoped paths mean the default space; `all` is a bare array; filters work.
    let unscoped = env.octopus_all("/api/projects?take=3").await;
    assert_eq!(
        unscoped,
        env.sim.dataset().octopus_in_space("project", "Spaces-1")
    );
    let bare = env
        .octopus_get("/api/Spaces-2/environments/all")
        .await
        .json();
    assert_eq!(bare.as_array().unwrap().len(), 3);
    let some = env
        .octopus_get("/api/Spaces-1/deployments?ids=Deployments-3,Deployments-5")
        .await
        .json();
    assert_eq!(some["TotalResults"], 2);
    let by_project = env
        .octopus_get("/api/Spaces-1/releases?projects=Projects-1&take=1000")
        .await
        .json();
    assert!(
        by_project["Items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ProjectId"] == "Projects-1")
    );

    let bad = env.octopus_get("/api/Spaces-1/projects?take=-1").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["Errors"].is_array());
    let root = env.octopus_get("/api").await.json();
    assert_eq!(root["ApiVersion"], "3.0.0");
}

#[tokio::test]
async fn single_getters_and_not_found() {
    let env = start(80).await;
    let ds = env.sim.dataset();
    for (kind, plural) in [
        ("project", "projects"),
        ("release", "releases"),
        ("deployment", "deployments"),
        ("machine", "machines"),
        ("environment", "environments"),
    ] {
        for item in ds
            .octopus(kind)
            .iter()
            .take(3)
            .chain(ds.octopus(kind).last())
        {
            let (space, id) = (
                item["SpaceId"].as_str().unwrap(),
                item["Id"].as_str().unwrap(),
            );
            assert_eq!(
                &env.octopus_get(&format!("/api/{space}/{plural}/{id}"))
                    .await
                    .json(),
                item
            );
            let other = if space == "Spaces-1" {
                "Spaces-2"
            } else {
                "Spaces-1"
            };
            let r = env
                .octopus_get(&format!("/api/{other}/{plural}/{id}"))
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{id} is not in {other}");
            assert_eq!(
                r.json(),
                json!({"ErrorMessage": "The resource was not found.."})
            );
        }
    }
    let space = env.octopus_get("/api/spaces/Spaces-2").await.json();
    assert_eq!(space["Name"], "Platform");
    assert_eq!(
        env.octopus_get("/api/spaces/Spaces-9").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        env.octopus_get("/api/Spaces-9/projects").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        env.octopus_get("/api/Spaces-1/widgets").await.status,
        StatusCode::NOT_FOUND
    );
    let d = env
        .octopus_get("/api/deployments/Deployments-1")
        .await
        .json();
    assert_eq!(d["Id"], "Deployments-1");
}

#[tokio::test]
async fn auth_never_echoes_the_key() {
    let env = start(20).await;
    let url = format!("{}/api/Spaces-1/projects", env.sim.octopus_url());
    for headers in [vec![], vec![("x-octopus-apikey", "API-WRONGKEY123")]] {
        let r = env.send(Method::GET, &url, &headers, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let text = String::from_utf8_lossy(&r.body).to_string();
        assert!(text.contains("Either your API key is invalid"));
        assert!(!text.contains("API-WRONGKEY123") && !text.contains(ocean_sim::OCTOPUS_API_KEY));
    }
    let ok = env
        .send(
            Method::GET,
            &format!("{url}?apikey={}", ocean_sim::OCTOPUS_API_KEY),
            &[],
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(
        !String::from_utf8_lossy(&ok.body).contains(ocean_sim::OCTOPUS_API_KEY),
        "links drop apikey"
    );
}

#[tokio::test]
async fn subscriptions_are_created_listed_and_deleted() {
    let env = start(20).await;
    // shared/specs/examples/octopus-subscription-create-request.json
    let body = json!({
        "Name": "Deployment webhook", "Type": "Event", "IsDisabled": false, "SpaceId": "Spaces-1",
        "EventNotificationSubscription": {
            "Filter": {
                "Users": [], "Projects": [], "ProjectGroups": [], "Environments": [], "EventGroups": [],
                "EventCategories": ["DeploymentSucceeded", "DeploymentFailed"],
                "EventAgents": [], "Tenants": [], "Tags": [], "DocumentTypes": []
            },
            "EmailTeams": [], "EmailFrequencyPeriod": "01:00:00", "EmailPriority": "Normal",
            "EmailShowDatesInTimeZoneId": "UTC", "WebhookURI": "https://receiver.example.com/octopus",
            "WebhookTeams": [], "WebhookTimeout": "00:00:10",
            "WebhookHeaderKey": "X-Receiver-Token", "WebhookHeaderValue": "s3cr3t"
        }
    });
    let r = env
        .octopus(
            Method::POST,
            "/api/Spaces-1/subscriptions",
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let sub = r.json();
    assert_eq!(sub["Id"], "Subscriptions-1");
    assert_eq!(
        sub["Links"]["Self"],
        "/api/Spaces-1/subscriptions/Subscriptions-1"
    );
    assert_eq!(
        sub["EventNotificationSubscription"]["Filter"]["EventCategories"],
        json!(["DeploymentSucceeded", "DeploymentFailed"])
    );
    assert_eq!(
        sub["EventNotificationSubscription"]["WebhookLastProcessed"],
        Value::Null
    );

    let dup = env
        .octopus(Method::POST, "/api/Spaces-1/subscriptions", Some(body))
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    let nameless = env
        .octopus(
            Method::POST,
            "/api/subscriptions",
            Some(json!({"Type": "Event"})),
        )
        .await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);

    let list = env.octopus_all("/api/Spaces-1/subscriptions").await;
    assert_eq!(list, vec![sub.clone()]);
    assert_eq!(env.sim.dataset().octopus("subscription"), vec![sub]);
    let r = env
        .octopus(
            Method::DELETE,
            "/api/Spaces-1/subscriptions/Subscriptions-1",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        env.octopus_all("/api/Spaces-1/subscriptions")
            .await
            .is_empty()
    );
}
