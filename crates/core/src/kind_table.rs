//! [`kinds!`](crate::kinds): a provider's kinds declared once, as one table.

/// Declares a provider's kinds in one table: each row names a kind, the item field
/// holding its identity, the kind it is fetched under, and whether
/// [`Provider::changes_since`](crate::Provider::changes_since) and
/// [`Provider::census`](crate::Provider::census) serve it. Everything else is derived
/// from the rows, in their order (parents first):
///
/// * the enum itself, with the rows' docs;
/// * `ALL`, every kind; `INFOS`, every kind as a [`KindInfo`](crate::KindInfo), for
///   [`Provider::kinds`](crate::Provider::kinds); `info()`, one of them;
/// * `as_str()`, `id_field()`, `parent()`;
/// * `from_name()` (ASCII case and surrounding space ignored), `names()` (the list a
///   parse error or a `--help` shows) and `Display`.
///
/// ```
/// ocean_core::kinds! {
///     /// A kind of the Acme API.
///     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
///     pub enum AcmeKind {
///         /// Teams.
///         Team = "team", id = "id";
///         /// Tickets of every team, also changed ones alone.
///         Ticket = "ticket", id = "key", parent = Team, incremental = true;
///     }
/// }
/// assert_eq!(AcmeKind::ALL, [AcmeKind::Team, AcmeKind::Ticket]);
/// assert_eq!(AcmeKind::Ticket.parent(), Some(AcmeKind::Team));
/// assert_eq!(AcmeKind::from_name(" TICKET "), Some(AcmeKind::Ticket));
/// assert_eq!(AcmeKind::names(), "team, ticket");
/// let info = AcmeKind::Ticket.info();
/// assert_eq!((info.name, info.id_field, info.parent), ("ticket", "key", Some("team")));
/// assert!(info.incremental && !info.census);
/// ```
#[macro_export]
macro_rules! kinds {
    (
        $(#[$meta:meta])*
        $vis:vis enum $Kind:ident {
            $(
                $(#[$row_meta:meta])*
                $Variant:ident = $name:literal, id = $id:literal
                $(, parent = $parent:ident)?
                $(, incremental = $incremental:literal)?
                $(, census = $census:literal)?
            );+ $(;)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $Kind {
            $( $(#[$row_meta])* $Variant, )+
        }

        impl $Kind {
            /// Every kind, in the table's order (parents before their children).
            pub const ALL: [Self; [$($name),+].len()] = [$(Self::$Variant),+];

            /// Every kind as a provider describes it, in [`Self::ALL`]'s order.
            pub const INFOS: [$crate::KindInfo; [$($name),+].len()] = [$(
                $crate::KindInfo {
                    name: $name,
                    id_field: $id,
                    parent: $crate::__kind_parent!($(Self::$parent.as_str())?),
                    incremental: false $(|| $incremental)?,
                    census: false $(|| $census)?,
                }
            ),+];

            /// The kind's name.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$Variant => $name,)+ }
            }

            /// The item field holding an item's identity.
            pub const fn id_field(self) -> &'static str {
                match self { $(Self::$Variant => $id,)+ }
            }

            /// The kind whose items this kind is fetched under, if any.
            pub const fn parent(self) -> ::core::option::Option<Self> {
                match self { $(Self::$Variant => $crate::__kind_parent!($(Self::$parent)?),)+ }
            }

            /// The kind as a provider describes it.
            pub const fn info(self) -> $crate::KindInfo {
                Self::INFOS[self as usize]
            }

            /// The kind named `name`, ignoring ASCII case and surrounding whitespace.
            pub fn from_name(name: &str) -> ::core::option::Option<Self> {
                let name = name.trim();
                Self::ALL.into_iter().find(|kind| kind.as_str().eq_ignore_ascii_case(name))
            }

            /// Every kind's name, comma-separated, in [`Self::ALL`]'s order.
            pub fn names() -> ::std::string::String {
                Self::ALL.map(Self::as_str).join(", ")
            }
        }

        impl ::core::fmt::Display for $Kind {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// `Some(parent)` for a row that names one, `None` otherwise.
#[doc(hidden)]
#[macro_export]
macro_rules! __kind_parent {
    () => {
        ::core::option::Option::None
    };
    ($parent:expr) => {
        ::core::option::Option::Some($parent)
    };
}

#[cfg(test)]
mod tests {
    crate::kinds! {
        /// A provider's kinds before a new one is added.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Before {
            /// Boards.
            Board = "board", id = "id";
        }
    }

    crate::kinds! {
        /// The same table with one row added.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum After {
            /// Boards.
            Board = "board", id = "id";
            /// Sprints of every board: the row added.
            Sprint = "sprint", id = "id", parent = Board, incremental = true;
        }
    }

    #[test]
    fn a_row_added_is_seen_everywhere() {
        assert_eq!(Before::ALL.len() + 1, After::ALL.len());
        assert_eq!(After::ALL.last(), Some(&After::Sprint));
        assert_eq!(
            After::INFOS.last().map(|i| (i.name, i.parent)),
            Some(("sprint", Some("board")))
        );
        assert_eq!(After::from_name("sprint"), Some(After::Sprint));
        assert_eq!(After::Sprint.to_string(), "sprint");
        assert_eq!(After::names(), "board, sprint");
        assert_eq!(After::Sprint.parent().map(After::id_field), Some("id"));
        assert!(After::Sprint.info().incremental && !After::Board.info().incremental);
        assert_eq!(Before::from_name("sprint"), None);
        assert_eq!(
            (Before::names(), Before::Board.parent()),
            ("board".into(), None)
        );
        assert_eq!(Before::INFOS, [Before::Board.info()]);
        assert_eq!(Before::Board.info().id_field, Before::Board.id_field());
        for (i, kind) in After::ALL.into_iter().enumerate() {
            assert_eq!(kind.info(), After::INFOS[i]);
        }
    }
}
