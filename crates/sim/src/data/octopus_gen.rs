//! The generated Octopus releases and deployments as a pure function of their position in
//! their space: rendered once at start, or whenever served when
//! [`SimConfig::lazy`](crate::SimConfig) is on.

use bytes::Bytes;

use super::octopus::{
    DeploymentSpec, ReleaseSpec, channel_of, deployment_attrs, release_attrs, render_deployment,
    render_release, version,
};
use crate::rng::Rng;
use crate::store::{Attrs, Render};
use crate::time::{DAY_MS, EPOCH_MS};

/// How far back generated releases and deployments go.
const SPAN_MS: i64 = 365 * DAY_MS;

/// What one space's releases and deployments are a function of.
pub(crate) struct SpacePlan {
    pub(crate) id: &'static str,
    /// Project ids in creation order; release `k` belongs to project `k % len`.
    pub(crate) project_ids: Vec<String>,
    /// (id, name) of the environments; deployment `j` goes to `j % len`.
    pub(crate) environments: Vec<(String, &'static str)>,
    pub(crate) releases: usize,
    pub(crate) deployments: usize,
    /// Number of the space's first release minus one (`Releases-{first + 1}`).
    pub(crate) release_base: u64,
    /// Number of the space's first deployment minus one; server tasks are numbered alike.
    pub(crate) deployment_base: u64,
}

/// Every space's plan.
pub(crate) struct OctopusGen {
    pub(crate) spaces: Vec<SpacePlan>,
    pub(crate) seed: u64,
}

/// A generated release or deployment: its id and row attributes.
pub(crate) struct Generated {
    pub(crate) id: String,
    pub(crate) attrs: Attrs,
}

impl OctopusGen {
    fn release_parts(&self, s: usize, k: usize) -> (String, &str, String, String) {
        let sp = &self.spaces[s];
        let id = format!("Releases-{}", sp.release_base + k as u64 + 1);
        let project = &sp.project_ids[k % sp.project_ids.len()];
        let ver = version((k / sp.project_ids.len()) as u64);
        (id, project, channel_of(project), ver)
    }

    /// Release `k` of space `s`: id and attributes, and its JSON appended to `buf`.
    pub(crate) fn release(&self, s: usize, k: usize, buf: &mut Vec<u8>) -> Generated {
        let sp = &self.spaces[s];
        let (id, project, channel, ver) = self.release_parts(s, k);
        let assembled = EPOCH_MS - SPAN_MS + (k as i64) * (SPAN_MS / sp.releases.max(1) as i64);
        render_release(
            buf,
            &ReleaseSpec {
                space: sp.id,
                id: &id,
                project_id: project,
                channel_id: &channel,
                version: &ver,
                assembled_ms: assembled,
            },
        );
        Generated {
            attrs: release_attrs(project, &channel, &ver),
            id,
        }
    }

    /// Deployment `j` of space `s`: id and attributes, and its JSON appended to `buf`.
    pub(crate) fn deployment(&self, s: usize, j: usize, buf: &mut Vec<u8>) -> Generated {
        let sp = &self.spaces[s];
        let number = sp.deployment_base + j as u64 + 1;
        let id = format!("Deployments-{number}");
        let task = format!("ServerTasks-{}", 10_000 + number);
        let (release, project, channel, _) =
            self.release_parts(s, j * sp.releases / sp.deployments.max(1));
        let (env_id, env_name) = &sp.environments[j % sp.environments.len()];
        let mut rng = Rng::new(self.seed, "octopus.deployment", number);
        let created =
            EPOCH_MS - SPAN_MS + (j as i64) * (SPAN_MS / sp.deployments.max(1) as i64) + 60_000;
        render_deployment(
            buf,
            &DeploymentSpec {
                space: sp.id,
                id: &id,
                release_id: &release,
                project_id: project,
                channel_id: &channel,
                environment_id: env_id,
                environment_name: env_name,
                task_id: &task,
                created_ms: created,
                failed: rng.chance(0.08),
                deployed_by: if rng.chance(0.7) {
                    "System"
                } else {
                    "deploy-bot"
                },
            },
        );
        Generated {
            attrs: deployment_attrs(project, &release, env_id, &channel, &task),
            id,
        }
    }

    /// (space, position) of the generated item `id` (`{prefix}{number}`), where `span(space)`
    /// gives the number before the space's first such item and how many it has.
    fn locate(
        &self,
        id: &str,
        prefix: &str,
        span: impl Fn(&SpacePlan) -> (u64, usize),
    ) -> Option<(usize, usize)> {
        let number: u64 = id.strip_prefix(prefix)?.parse().ok()?;
        self.spaces.iter().enumerate().find_map(|(s, sp)| {
            let (base, count) = span(sp);
            let pos = number.checked_sub(base + 1)? as usize;
            (pos < count).then_some((s, pos))
        })
    }
}

/// Renders generated releases by id.
pub(crate) struct LazyReleases(pub(crate) std::sync::Arc<OctopusGen>);

impl Render for LazyReleases {
    fn render(&self, id: &str) -> Bytes {
        let g = &self.0;
        let Some((s, k)) = g.locate(id, "Releases-", |sp| (sp.release_base, sp.releases)) else {
            return Bytes::new();
        };
        let mut buf = Vec::with_capacity(2048);
        g.release(s, k, &mut buf);
        buf.into()
    }
}

/// Renders generated deployments by id.
pub(crate) struct LazyDeployments(pub(crate) std::sync::Arc<OctopusGen>);

impl Render for LazyDeployments {
    fn render(&self, id: &str) -> Bytes {
        let g = &self.0;
        let Some((s, j)) = g.locate(id, "Deployments-", |sp| {
            (sp.deployment_base, sp.deployments)
        }) else {
            return Bytes::new();
        };
        let mut buf = Vec::with_capacity(2048);
        g.deployment(s, j, &mut buf);
        buf.into()
    }
}
