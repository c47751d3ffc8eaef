//! The resource kinds this crate syncs, and the trait that makes any other kind
//! listable in every space.

use std::str::FromStr;

use ocean_core::Resource;

/// Declares the Octopus kinds through [`ocean_core::kinds!`], each row adding the
/// kind's collection (`projects`) and document type (`Projects`, whose ids are
/// `Projects-1`), so that a kind is declared in one row. Every document is identified by
/// its `Id`.
macro_rules! octopus_kinds {
    (
        $(#[$meta:meta])*
        pub enum OctopusKind {
            $(
                $(#[$row_meta:meta])*
                $Variant:ident = $name:literal, plural = $plural:literal, document = $document:literal
                $(, parent = $parent:ident)?;
            )+
        }
    ) => {
        ocean_core::kinds! {
            $(#[$meta])*
            pub enum OctopusKind {
                $( $(#[$row_meta])* $Variant = $name, id = "Id" $(, parent = $parent)?; )+
            }
        }

        impl OctopusKind {
            /// The collection's path segment (`"projects"` in `/api/Spaces-1/projects`).
            pub const fn plural(self) -> &'static str {
                match self { $(Self::$Variant => $plural,)+ }
            }

            /// The Octopus document type, as used in event-subscription filters (`"Projects"`).
            pub const fn document_type(self) -> &'static str {
                match self { $(Self::$Variant => $document,)+ }
            }

            /// The prefix of this kind's document ids (`"Projects-"`).
            pub const fn id_prefix(self) -> &'static str {
                match self { $(Self::$Variant => concat!($document, "-"),)+ }
            }
        }
    };
}

octopus_kinds! {
    /// A kind of Octopus document this crate syncs: one row each, the only place a kind
    /// is declared. All but spaces are listed per space.
    ///
    /// ```
    /// use ocean_octopus::OctopusKind;
    /// let kind: OctopusKind = "deployment".parse().unwrap();
    /// assert_eq!(kind, OctopusKind::Deployment);
    /// assert_eq!(kind.to_string(), "deployment");
    /// assert_eq!(kind.id_prefix(), "Deployments-");
    /// assert_eq!(OctopusKind::from_id("Deployments-42"), Some(OctopusKind::Deployment));
    /// assert!("runbook".parse::<OctopusKind>().unwrap_err().to_string().contains("space, project"));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum OctopusKind {
        /// A space (`Spaces-1`): the container of everything else, listed from `/api/spaces`.
        Space = "space", plural = "spaces", document = "Spaces";
        /// A project (`Projects-1`).
        Project = "project", plural = "projects", document = "Projects", parent = Space;
        /// A release of a project (`Releases-1`); capped per space.
        Release = "release", plural = "releases", document = "Releases", parent = Space;
        /// A deployment of a release to an environment (`Deployments-1`); capped per space.
        Deployment = "deployment", plural = "deployments", document = "Deployments", parent = Space;
        /// A deployment target (`Machines-1`), listed from `/machines`.
        Machine = "machine", plural = "machines", document = "Machines", parent = Space;
        /// An environment (`Environments-1`).
        Environment = "environment", plural = "environments", document = "Environments", parent = Space;
    }
}

impl OctopusKind {
    /// The kind a document id belongs to, by its prefix (compared case-insensitively),
    /// or `None` for ids of kinds this crate does not track (`ServerTasks-1`, `Channels-2`).
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| {
            let prefix = kind.id_prefix();
            id.len() > prefix.len()
                && id.is_char_boundary(prefix.len())
                && id[..prefix.len()].eq_ignore_ascii_case(prefix)
        })
    }

    /// True for every kind but [`OctopusKind::Space`]: listed per space, under `/api/{space_id}/…`.
    pub const fn is_space_scoped(self) -> bool {
        self.parent().is_some()
    }

    /// True for the kinds whose history grows without bound (releases and deployments):
    /// the client's `max_items_per_space` caps them.
    pub const fn is_capped(self) -> bool {
        matches!(self, Self::Release | Self::Deployment)
    }
}

/// The error of parsing an unknown [`OctopusKind`]; it lists the valid names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown Octopus kind `{given}`; valid kinds: {}",
    OctopusKind::names()
)]
pub struct ParseKindError {
    /// The name that was given.
    pub given: String,
}

impl FromStr for OctopusKind {
    type Err = ParseKindError;

    /// Parses a kind's name, case-insensitively; the plural (`"projects"`) is accepted too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| {
                wanted.eq_ignore_ascii_case(k.as_str()) || wanted.eq_ignore_ascii_case(k.plural())
            })
            .ok_or_else(|| ParseKindError {
                given: s.to_owned(),
            })
    }
}

/// A resource listed once per space, from a path with a `{space_id}` placeholder.
///
/// Implement it for any `#[derive(Resource)]` struct whose path is
/// `/{space_id}/<collection>` to list it in one space
/// ([`OctopusClient::in_space`](crate::OctopusClient::in_space)), in every space
/// ([`OctopusClient::all`](crate::OctopusClient::all)) or losslessly
/// ([`OctopusClient::sync_resource`](crate::OctopusClient::sync_resource)); see the
/// [crate docs](crate#any-other-kind) for an example.
pub trait SpaceScoped: Resource {
    /// Whether the client's `max_items_per_space` cap applies (default: no).
    const CAPPED: bool = false;
}

/// The placeholder every [`SpaceScoped`] path must hold.
pub(crate) const SPACE_PARAM: &str = "space_id";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_errors_list_the_valid_names() {
        for kind in OctopusKind::ALL {
            assert_eq!(kind.as_str().parse::<OctopusKind>(), Ok(kind));
            assert_eq!(kind.plural().parse::<OctopusKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(" Machine ".parse(), Ok(OctopusKind::Machine));
        let err = "runbook".parse::<OctopusKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown Octopus kind `runbook`; valid kinds: space, project, release, deployment, machine, environment"
        );
    }

    #[test]
    fn ids_map_to_kinds_by_prefix() {
        assert_eq!(OctopusKind::from_id("Spaces-1"), Some(OctopusKind::Space));
        assert_eq!(
            OctopusKind::from_id("projects-7"),
            Some(OctopusKind::Project)
        );
        assert_eq!(
            OctopusKind::from_id("Environments-1621"),
            Some(OctopusKind::Environment)
        );
        for untracked in ["ServerTasks-1", "Channels-2", "Projects-", "", "Proj", "é"] {
            assert_eq!(OctopusKind::from_id(untracked), None, "{untracked}");
        }
    }

    #[test]
    fn only_releases_and_deployments_are_capped() {
        let capped: Vec<_> = OctopusKind::ALL
            .into_iter()
            .filter(|k| k.is_capped())
            .collect();
        assert_eq!(capped, [OctopusKind::Release, OctopusKind::Deployment]);
        assert!(!OctopusKind::Space.is_space_scoped());
        assert!(OctopusKind::Machine.is_space_scoped());
    }
}
