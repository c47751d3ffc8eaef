//! Word lists for generated names, summaries and labels.

pub(crate) const FIRST: &[&str] = &[
    "Mia", "Emma", "Liam", "Noah", "Olivia", "Ava", "Lucas", "Amelia", "Ethan", "Sofia", "Mateo",
    "Isla", "Hugo", "Chloe", "Arjun", "Priya", "Kenji", "Yuki", "Omar", "Leila", "Tomasz", "Ana",
    "Felix", "Nora", "Jonas", "Ingrid", "Diego", "Lucia", "Kwame", "Amara",
];

pub(crate) const LAST: &[&str] = &[
    "Krystof",
    "Richards",
    "Nguyen",
    "Garcia",
    "Müller",
    "Rossi",
    "Kowalski",
    "Smith",
    "Tanaka",
    "Okafor",
    "Haddad",
    "Johansson",
    "Silva",
    "Dubois",
    "Novak",
    "Patel",
    "O'Brien",
    "Kim",
    "Fernández",
    "Larsen",
    "Ivanova",
    "Mensah",
    "Cohen",
    "Moreau",
];

pub(crate) const TIME_ZONES: &[&str] = &[
    "Australia/Sydney",
    "Europe/Paris",
    "America/New_York",
    "Asia/Tokyo",
    "Europe/London",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Asia/Kolkata",
];

pub(crate) const PRODUCTS: &[&str] = &[
    "Checkout",
    "Billing",
    "Search",
    "Identity",
    "Payments",
    "Catalog",
    "Inventory",
    "Shipping",
    "Notifications",
    "Analytics",
    "Gateway",
    "Mobile",
    "Ledger",
    "Onboarding",
    "Reporting",
    "Scheduler",
    "Storage",
    "Messaging",
    "Pricing",
    "Support",
];

pub(crate) const AREAS: &[&str] = &[
    "Platform", "Service", "Portal", "API", "Console", "Core", "Web", "Worker", "Engine", "Hub",
];

pub(crate) const VERBS: &[&str] = &[
    "Fix",
    "Investigate",
    "Refactor",
    "Add",
    "Remove",
    "Speed up",
    "Document",
    "Migrate",
    "Retry",
    "Validate",
    "Cache",
    "Paginate",
    "Harden",
    "Instrument",
    "Deprecate",
];

pub(crate) const OBJECTS: &[&str] = &[
    "order flow",
    "login redirect",
    "invoice export",
    "webhook delivery",
    "search index",
    "rate limiter",
    "user avatar upload",
    "retry budget",
    "nightly report",
    "session timeout",
    "payment callback",
    "feature flag",
    "audit log",
    "CSV import",
    "email digest",
    "cache eviction",
    "token refresh",
    "health check",
    "timezone handling",
    "pagination cursor",
];

pub(crate) const QUALIFIERS: &[&str] = &[
    "for large tenants",
    "on mobile",
    "after deploy",
    "under load",
    "in the EU region",
    "for admin users",
    "when the queue is full",
    "behind the proxy",
    "in Safari",
    "on first login",
];

pub(crate) const LABELS: &[&str] = &[
    "backend",
    "frontend",
    "tech-debt",
    "customer",
    "security",
    "performance",
    "flaky",
    "ux",
    "infra",
    "regression",
    "good-first-issue",
    "needs-triage",
];

pub(crate) const CATEGORIES: &[(&str, &str)] = &[
    ("FIRST", "First Project Category"),
    ("PLATFORM", "Shared platform teams"),
    ("PRODUCT", "Customer facing products"),
];

pub(crate) const SPRINT_GOALS: &[&str] = &[
    "Ship the checkout redesign",
    "Burn down tech debt",
    "Stabilise the release pipeline",
    "Hit the Q1 performance budget",
    "Close customer escalations",
];

pub(crate) const EPIC_COLORS: &[&str] = &[
    "color_1", "color_2", "color_3", "color_4", "color_5", "color_6", "color_7", "color_8",
];
