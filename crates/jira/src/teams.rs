//! The `team` kind: Atlassian Teams of an organisation, each with its members in `__members`
//! (Ocean's enrichment), from the public Teams REST API.

use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use ocean_core::{
    Endpoint, Error, ListRequest, Pagination, RawItem, Record, Result, path_segment, raw_field,
};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::{JiraClient, JiraKind};

/// The teams of an organisation: `GET …/org/{org_id}/teams`, cursor-paged (`cursor` in, root
/// `cursor` out, `size` per page).
const TEAMS_PATH: &str = "/gateway/api/public/teams/v1/org/{org_id}/teams";

/// Members per request, as Ocean asks.
const MEMBERS_PAGE: u32 = 50;

fn endpoint() -> Endpoint {
    Endpoint::new("team", TEAMS_PATH)
        .items("entities")
        .paginate(
            Pagination::cursor()
                .cursor_param("cursor")
                .cursor_field("cursor")
                .limit_param("size"),
        )
        .id_field("teamId")
}

impl JiraClient {
    /// Every team of the organisation `org_id`, members included as `__members`.
    pub(crate) fn team_records(&self, org_id: Option<&str>) -> BoxStream<'static, Result<Record>> {
        let Some(org_id) = org_id.map(path_segment).filter(|o| !o.is_empty()) else {
            tracing::info!("no Atlassian organisation id (--org-id): no teams synced");
            return stream::empty().boxed();
        };
        let client = self.clone();
        let teams = ListRequest::<RawItem>::new(&self.core, endpoint())
            .path_param("org_id", &org_id)
            .page_size(self.page_size)
            .stream();
        teams
            .and_then(move |team| {
                let client = client.clone();
                let org_id = org_id.clone();
                async move {
                    let id =
                        raw_field(&team, "teamId")
                            .ok()
                            .flatten()
                            .ok_or_else(|| Error::Decode {
                                url: client
                                    .core
                                    .url(TEAMS_PATH)
                                    .map_or_else(|_| TEAMS_PATH.to_owned(), |u| u.to_string()),
                                path: "entities[].teamId".into(),
                                message: "a team has no `teamId`".into(),
                            })?;
                    let members = client.team_members(&org_id, &id).await?;
                    Ok(Record::new(
                        JiraKind::Team.as_str(),
                        with_members(&team, members)?,
                    ))
                }
            })
            .boxed()
    }

    /// Every member of a team: `POST …/teams/{id}/members?first=50&after=…`, following
    /// `pageInfo.endCursor` while `hasNextPage`.
    async fn team_members(&self, org_id: &str, team_id: &str) -> Result<Vec<Value>> {
        let path = format!(
            "/gateway/api/public/teams/v1/org/{org_id}/teams/{}/members",
            path_segment(team_id)
        );
        let mut members = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut request = self.core.post(&path).query("first", MEMBERS_PAGE);
            if let Some(cursor) = &after {
                request = request.query("after", cursor);
            }
            // A members list is a read, even over POST.
            let page: Value = request
                .json(&Map::new())
                .retryable(true)
                .send_json()
                .await?;
            let results = page["results"].as_array().cloned().unwrap_or_default();
            let done = results.is_empty() || page["pageInfo"]["hasNextPage"] != Value::Bool(true);
            members.extend(results);
            let next = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
            if done || next.is_none() || next == after {
                return Ok(members);
            }
            after = next;
        }
    }
}

/// The team's JSON with `"__members": [...]` added, its own bytes otherwise untouched.
fn with_members(team: &RawValue, members: Vec<Value>) -> Result<RawItem> {
    let text = team.get().trim_end();
    let members = serde_json::to_string(&members).map_err(|e| Error::Config(e.to_string()))?;
    let Some(open) = text.strip_suffix('}') else {
        return Err(Error::Config("a team is not a JSON object".into()));
    };
    let separator = if open.trim_end().ends_with('{') {
        ""
    } else {
        ","
    };
    let joined = format!("{open}{separator}\"__members\":{members}}}");
    RawValue::from_string(joined).map_err(|e| Error::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_appended_to_the_untouched_team() {
        let team = RawValue::from_string(r#"{"teamId":"t1", "displayName":"A"}"#.into()).unwrap();
        let out = with_members(&team, vec![serde_json::json!({"accountId": "u1"})]).unwrap();
        assert_eq!(
            out.get(),
            r#"{"teamId":"t1", "displayName":"A","__members":[{"accountId":"u1"}]}"#
        );
        let empty = RawValue::from_string("{}".into()).unwrap();
        assert_eq!(
            with_members(&empty, vec![]).unwrap().get(),
            r#"{"__members":[]}"#
        );
    }
}
