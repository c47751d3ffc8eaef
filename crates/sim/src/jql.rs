//! Just enough JQL: validation like Jira's (non-empty, bounded, balanced) and evaluation of the
//! clauses a sync client narrows by: `project`, `key`/`issuekey`, `id` with `=`, `!=`, `in`,
//! `not in`, and `updated`/`created` compared (`=`, `!=`, `>`, `>=`, `<`, `<=`) with a date
//! (`"2026/12/04 05:30"`, `"2026-12-04 05:30"`, `"2026/12/04"`, `"2026-12-04"`, read as UTC) or
//! a period relative to now (`-15m`, `"-2h"`, `-1d`, `-1w`, `"-1w 2d"`, `now()`). Every other
//! clause (status, text, date functions...) cannot be told and counts as matching, so the
//! default JQL of a sync selects every simulated issue. `ORDER BY` sorts by `updated`,
//! `created`, `key` and `id` (ascending unless `DESC`); other sort fields are accepted and
//! ignored.

use std::cmp::Ordering;

use crate::rng::fnv1a;
use crate::time::DATE_FORMATS_HINT;

/// Why a JQL string was rejected (Jira answers 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JqlError {
    Empty,
    Unbounded,
    Syntax(String),
    /// A value the field cannot take (a malformed date); the message is complete.
    Value(String),
}

impl JqlError {
    pub(crate) fn message(&self) -> String {
        match self {
            JqlError::Empty => "The JQL query is required.".to_owned(),
            JqlError::Unbounded => {
                "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
                    .to_owned()
            }
            JqlError::Syntax(m) => format!("Error in the JQL Query: {m}"),
            JqlError::Value(m) => m.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

fn lex(s: &str) -> Result<Vec<Token>, JqlError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::LParen);
                i += 1;
            }
            ')' => {
                out.push(Token::RParen);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '"' | '\'' => {
                let quote = c;
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(JqlError::Syntax(format!(
                                "The quoted string starting with {quote} is not closed."
                            )));
                        }
                        Some('\\') => {
                            if let Some(n) = chars.get(i + 1) {
                                v.push(*n);
                            }
                            i += 2;
                        }
                        Some(&ch) if ch == quote => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            v.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(Token::Str(v));
            }
            '!' | '>' | '<' | '=' | '~' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = match two.as_str() {
                    "!=" => "!=",
                    "!~" => "!~",
                    ">=" => ">=",
                    "<=" => "<=",
                    _ => match c {
                        '=' => "=",
                        '~' => "~",
                        '>' => ">",
                        '<' => "<",
                        _ => return Err(JqlError::Syntax("Unexpected '!'.".to_owned())),
                    },
                };
                i += op.len();
                out.push(Token::Op(op));
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(
                        chars[i],
                        '(' | ')' | ',' | '"' | '\'' | '=' | '!' | '~' | '<' | '>'
                    )
                {
                    i += 1;
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Clause {
        field: String,
        op: String,
        values: Vec<String>,
    },
    /// `updated`/`created` compared with a date.
    Date {
        field: DateField,
        cmp: Cmp,
        when: When,
    },
}

/// The date fields the simulator evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateField {
    Created,
    Updated,
}

impl DateField {
    fn parse(field: &str) -> Option<Self> {
        match field {
            "updated" | "updateddate" => Some(DateField::Updated),
            "created" | "createddate" => Some(DateField::Created),
            _ => None,
        }
    }
}

/// A date comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Cmp {
    fn parse(op: &str) -> Option<Self> {
        Some(match op {
            "=" => Cmp::Eq,
            "!=" => Cmp::Ne,
            ">" => Cmp::Gt,
            ">=" => Cmp::Ge,
            "<" => Cmp::Lt,
            "<=" => Cmp::Le,
            _ => return None,
        })
    }

    fn holds(self, ord: Ordering) -> bool {
        match self {
            Cmp::Eq => ord == Ordering::Equal,
            Cmp::Ne => ord != Ordering::Equal,
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Ge => ord != Ordering::Less,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Le => ord != Ordering::Greater,
        }
    }
}

/// A date operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// An absolute instant, epoch milliseconds (minute precision, as JQL writes it).
    At(i64),
    /// Now plus this many milliseconds (negative: in the past).
    FromNow(i64),
    /// A date function the simulator does not evaluate (`startOfDay()`...).
    Unknown,
}

impl When {
    /// Parses a JQL date value; `None` when it is neither a date nor a period.
    fn parse(value: &str) -> Option<When> {
        let v = value.trim();
        if v.eq_ignore_ascii_case("now") {
            return Some(When::FromNow(0));
        }
        if let Some(ms) = crate::time::parse_jql_date(v) {
            return Some(When::At(ms));
        }
        period_ms(v).map(When::FromNow)
    }

    fn resolve(self, now_ms: i64) -> Option<i64> {
        match self {
            When::At(ms) => Some(ms),
            When::FromNow(offset) => Some(now_ms.saturating_add(offset)),
            When::Unknown => None,
        }
    }
}

/// A JQL period (`-1w 2d`, `15m`, `+3h`) in milliseconds; the sign applies to the whole period.
fn period_ms(v: &str) -> Option<i64> {
    let (sign, rest) = match v.as_bytes().first()? {
        b'-' => (-1, &v[1..]),
        b'+' => (1, &v[1..]),
        _ => (1, v),
    };
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut groups = 0;
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' if digits.is_empty() => {}
            'w' | 'd' | 'h' | 'm' | 'W' | 'D' | 'H' if !digits.is_empty() => {
                let n: i64 = digits.parse().ok()?;
                let unit = match c.to_ascii_lowercase() {
                    'w' => 7 * 86_400_000,
                    'd' => 86_400_000,
                    'h' => 3_600_000,
                    _ => 60_000,
                };
                total = total.checked_add(n.checked_mul(unit)?)?;
                digits.clear();
                groups += 1;
            }
            _ => return None,
        }
    }
    (groups > 0 && digits.is_empty()).then_some(sign * total)
}

/// A sort key of `ORDER BY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortField {
    /// `updated` / `updatedDate`.
    Updated,
    /// `created` / `createdDate`.
    Created,
    /// `key` / `issuekey`: project key, then the issue number.
    Key,
    /// `id`.
    Id,
}

/// One `ORDER BY` term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sort {
    pub(crate) field: SortField,
    pub(crate) descending: bool,
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Whether the last single value read was a function call (`now()`, `startOfDay(-1)`).
    was_function: bool,
}

fn is_kw(t: Option<&Token>, kw: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, k: usize) -> Option<&Token> {
        self.tokens.get(self.pos + k)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn at_order_by(&self) -> bool {
        is_kw(self.peek(), "order") && is_kw(self.peek_at(1), "by")
    }

    fn or(&mut self) -> Result<Expr, JqlError> {
        let mut parts = vec![self.and()?];
        while is_kw(self.peek(), "or") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, JqlError> {
        let mut parts = vec![self.not()?];
        while is_kw(self.peek(), "and") {
            self.pos += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn not(&mut self) -> Result<Expr, JqlError> {
        if is_kw(self.peek(), "not") || self.peek() == Some(&Token::Op("!")) {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, JqlError> {
        match self.next() {
            Some(Token::LParen) => {
                let e = self.or()?;
                match self.next() {
                    Some(Token::RParen) => Ok(e),
                    _ => Err(JqlError::Syntax(
                        "Expecting ')' before the end of the query.".into(),
                    )),
                }
            }
            Some(Token::Word(field)) | Some(Token::Str(field)) => self.clause(field),
            Some(t) => Err(JqlError::Syntax(format!(
                "Expecting a field name but got {t:?}."
            ))),
            None => Err(JqlError::Syntax(
                "Expecting a field name before the end of the query.".into(),
            )),
        }
    }

    fn clause(&mut self, mut field: String) -> Result<Expr, JqlError> {
        // Custom fields are written cf[10010].
        if let Some(Token::Word(w)) = self.peek() {
            if w.starts_with('[') {
                field.push_str(w);
                self.pos += 1;
            }
        }
        let op = match self.next() {
            Some(Token::Op(op)) => op.to_owned(),
            Some(Token::Word(w)) => {
                let w = w.to_lowercase();
                let follows = |p: &Parser, kw| is_kw(p.peek(), kw);
                match w.as_str() {
                    "not" if follows(self, "in") => {
                        self.pos += 1;
                        "not in".to_owned()
                    }
                    "is" if follows(self, "not") => {
                        self.pos += 1;
                        "is not".to_owned()
                    }
                    "was" if follows(self, "not") => {
                        self.pos += 1;
                        if follows(self, "in") {
                            self.pos += 1;
                        }
                        "was not".to_owned()
                    }
                    "was" if follows(self, "in") => {
                        self.pos += 1;
                        "was in".to_owned()
                    }
                    "in" | "is" | "was" | "changed" => w,
                    _ => {
                        return Err(JqlError::Syntax(format!(
                            "Unknown operator '{w}' after field '{field}'."
                        )));
                    }
                }
            }
            _ => {
                return Err(JqlError::Syntax(format!(
                    "Expecting an operator after the field '{field}'."
                )));
            }
        };
        let values = if op == "changed" {
            Vec::new()
        } else {
            self.value()?
        };
        // Predicates of history operators: `was "Open" before -1w by currentUser()`.
        while let Some(Token::Word(w)) = self.peek() {
            let w = w.to_lowercase();
            if !matches!(
                w.as_str(),
                "after" | "before" | "by" | "on" | "during" | "from" | "to"
            ) {
                break;
            }
            self.pos += 1;
            self.value()?;
        }
        let field = field.to_lowercase();
        if let (Some(date_field), Some(cmp)) = (DateField::parse(&field), Cmp::parse(&op)) {
            let when = match values.as_slice() {
                [v] if self.was_function => {
                    if v.eq_ignore_ascii_case("now") {
                        When::FromNow(0)
                    } else {
                        When::Unknown
                    }
                }
                [v] => When::parse(v).ok_or_else(|| {
                    JqlError::Value(format!(
                        "Date value '{v}' for field '{field}' is invalid. {DATE_FORMATS_HINT}"
                    ))
                })?,
                _ => When::Unknown,
            };
            return Ok(Expr::Date {
                field: date_field,
                cmp,
                when,
            });
        }
        Ok(Expr::Clause { field, op, values })
    }

    /// A value, a function call or a parenthesised list.
    fn value(&mut self) -> Result<Vec<String>, JqlError> {
        self.was_function = false;
        match self.next() {
            Some(Token::LParen) => {
                let mut values = Vec::new();
                loop {
                    match self.next() {
                        Some(Token::RParen) => break,
                        Some(Token::Comma) => {}
                        Some(Token::Word(w)) | Some(Token::Str(w)) => {
                            if self.peek() == Some(&Token::LParen) {
                                self.skip_args()?;
                            }
                            values.push(w);
                        }
                        _ => {
                            return Err(JqlError::Syntax(
                                "Expecting ')' to close the list.".into(),
                            ));
                        }
                    }
                }
                Ok(values)
            }
            Some(Token::Word(w)) => {
                if self.peek() == Some(&Token::LParen) {
                    self.skip_args()?;
                    self.was_function = true;
                }
                Ok(vec![w])
            }
            Some(Token::Str(s)) => Ok(vec![s]),
            _ => Err(JqlError::Syntax("Expecting a value.".into())),
        }
    }

    fn skip_args(&mut self) -> Result<(), JqlError> {
        let mut depth = 0;
        loop {
            match self.next() {
                Some(Token::LParen) => depth += 1,
                Some(Token::RParen) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Some(_) => {}
                None => {
                    return Err(JqlError::Syntax(
                        "Expecting ')' to close the function.".into(),
                    ));
                }
            }
        }
    }

    /// Reads `ORDER BY f [ASC|DESC], ...`: the number of fields and the sorts the simulator
    /// applies (unknown fields are skipped).
    fn order_by(&mut self) -> Result<(usize, Vec<Sort>), JqlError> {
        self.pos += 2;
        let mut fields = 0;
        let mut sorts = Vec::new();
        loop {
            let name = match self.next() {
                Some(Token::Word(w)) | Some(Token::Str(w)) => w.to_lowercase(),
                _ => {
                    return Err(JqlError::Syntax(
                        "Expecting a field name after ORDER BY.".into(),
                    ));
                }
            };
            fields += 1;
            let descending = is_kw(self.peek(), "desc");
            if descending || is_kw(self.peek(), "asc") {
                self.pos += 1;
            }
            let field = match name.as_str() {
                "updated" | "updateddate" => Some(SortField::Updated),
                "created" | "createddate" => Some(SortField::Created),
                "key" | "issuekey" => Some(SortField::Key),
                "id" => Some(SortField::Id),
                _ => None,
            };
            if let Some(field) = field {
                sorts.push(Sort { field, descending });
            }
            match self.peek() {
                Some(Token::Comma) => self.pos += 1,
                None => return Ok((fields, sorts)),
                Some(t) => return Err(JqlError::Syntax(format!("Unexpected {t:?} in ORDER BY."))),
            }
        }
    }
}

/// What an issue is matched against.
pub(crate) struct IssueFacts<'a> {
    pub(crate) id: &'a str,
    pub(crate) key: &'a str,
    pub(crate) project_key: &'a str,
    /// `fields.created` in epoch ms; `None` when unknown (date clauses then cannot be told).
    pub(crate) created_ms: Option<i64>,
    /// `fields.updated` in epoch ms; `None` when unknown.
    pub(crate) updated_ms: Option<i64>,
}

/// A validated JQL query.
#[derive(Debug, Clone)]
pub(crate) struct Jql {
    expr: Option<Expr>,
    /// The `ORDER BY` terms the simulator applies, in order.
    pub(crate) order: Vec<Sort>,
    /// Identifies the query in page tokens.
    pub(crate) fingerprint: u64,
}

/// Parses and validates JQL the way the enhanced search does.
pub(crate) fn parse(jql: &str) -> Result<Jql, JqlError> {
    let text = jql.trim();
    if text.is_empty() {
        return Err(JqlError::Empty);
    }
    let mut p = Parser {
        tokens: lex(text)?,
        pos: 0,
        was_function: false,
    };
    let expr = if p.at_order_by() { None } else { Some(p.or()?) };
    let mut order = Vec::new();
    if p.at_order_by() {
        let (fields, sorts) = p.order_by()?;
        if fields > 7 {
            return Err(JqlError::Syntax("ORDER BY takes at most 7 fields.".into()));
        }
        order = sorts;
    }
    if let Some(t) = p.peek() {
        return Err(JqlError::Syntax(format!("Unexpected {t:?} in the query.")));
    }
    if expr.is_none() {
        return Err(JqlError::Unbounded);
    }
    Ok(Jql {
        expr,
        order,
        fingerprint: fnv1a(text.as_bytes()),
    })
}

impl Jql {
    /// Whether the query has no clause the simulator evaluates (it then matches every issue).
    pub(crate) fn matches_all(&self) -> bool {
        !self.expr.as_ref().is_some_and(has_known)
    }

    /// Issue keys or ids the query is restricted to by a top-level `key =`/`key in`/`id =`.
    pub(crate) fn key_candidates(&self) -> Option<Vec<String>> {
        let clauses: Vec<&Expr> = match &self.expr {
            Some(Expr::And(parts)) => parts.iter().collect(),
            Some(e) => vec![e],
            None => return None,
        };
        clauses.into_iter().find_map(|e| match e {
            Expr::Clause { field, op, values }
                if matches!(field.as_str(), "key" | "issuekey" | "id")
                    && matches!(op.as_str(), "=" | "in") =>
            {
                Some(values.clone())
            }
            _ => None,
        })
    }

    /// Evaluates the query at `now_ms` (for relative dates); `project_matches(value,
    /// project_key)` resolves project ids/names.
    pub(crate) fn matches(
        &self,
        issue: &IssueFacts<'_>,
        project_matches: &dyn Fn(&str, &str) -> bool,
        now_ms: i64,
    ) -> bool {
        let ctx = Ctx {
            issue,
            pm: project_matches,
            now_ms,
        };
        self.expr
            .as_ref()
            .is_none_or(|e| eval(e, &ctx).unwrap_or(true))
    }
}

fn has_known(e: &Expr) -> bool {
    match e {
        Expr::And(p) | Expr::Or(p) => p.iter().any(has_known),
        Expr::Not(e) => has_known(e),
        Expr::Clause { field, op, .. } => known(field, op),
        Expr::Date { when, .. } => *when != When::Unknown,
    }
}

/// What one evaluation needs.
struct Ctx<'a, 'b> {
    issue: &'a IssueFacts<'b>,
    pm: &'a dyn Fn(&str, &str) -> bool,
    now_ms: i64,
}

fn known(field: &str, op: &str) -> bool {
    matches!(field, "project" | "key" | "issuekey" | "id")
        && matches!(op, "=" | "!=" | "in" | "not in")
}

/// `None` means "cannot tell" (a clause the simulator does not evaluate).
fn eval(e: &Expr, ctx: &Ctx<'_, '_>) -> Option<bool> {
    let issue = ctx.issue;
    match e {
        Expr::And(parts) => {
            let mut all = Some(true);
            for r in parts.iter().map(|p| eval(p, ctx)) {
                match r {
                    Some(false) => return Some(false),
                    None => all = None,
                    Some(true) => {}
                }
            }
            all
        }
        Expr::Or(parts) => {
            let mut any = Some(false);
            for r in parts.iter().map(|p| eval(p, ctx)) {
                match r {
                    Some(true) => return Some(true),
                    None => any = None,
                    Some(false) => {}
                }
            }
            any
        }
        Expr::Not(e) => eval(e, ctx).map(|b| !b),
        Expr::Date { field, cmp, when } => {
            let value = match field {
                DateField::Updated => issue.updated_ms,
                DateField::Created => issue.created_ms,
            }?;
            let bound = when.resolve(ctx.now_ms)?;
            // JQL dates have minute precision: `=` means "within that minute".
            let ord = if matches!(cmp, Cmp::Eq | Cmp::Ne) {
                value.div_euclid(60_000).cmp(&bound.div_euclid(60_000))
            } else {
                value.cmp(&bound)
            };
            Some(cmp.holds(ord))
        }
        Expr::Clause { field, op, values } => {
            if !known(field, op) {
                return None;
            }
            let hit = values.iter().any(|v| match field.as_str() {
                "project" => (ctx.pm)(v, issue.project_key),
                "id" => v == issue.id,
                _ => v.eq_ignore_ascii_case(issue.key) || v == issue.id,
            });
            Some(if matches!(op.as_str(), "=" | "in") {
                hit
            } else {
                !hit
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Now" in these tests: 2026-12-04T05:30:00Z.
    const NOW: i64 = 1_796_362_200_000;
    const MIN: i64 = 60_000;

    fn facts() -> IssueFacts<'static> {
        IssueFacts {
            id: "10001",
            key: "PROJ1-2",
            project_key: "PROJ1",
            created_ms: Some(NOW - 3 * 86_400_000),
            updated_ms: Some(NOW - 30 * MIN),
        }
    }

    fn pm(v: &str, key: &str) -> bool {
        v.eq_ignore_ascii_case(key) || (v == "10000" && key == "PROJ1")
    }

    fn m(q: &str) -> bool {
        parse(q).unwrap().matches(&facts(), &pm, NOW)
    }

    #[test]
    fn validation() {
        assert_eq!(parse("").unwrap_err(), JqlError::Empty);
        assert_eq!(
            parse("  order by key desc").unwrap_err(),
            JqlError::Unbounded
        );
        assert_eq!(parse("ORDER BY created").unwrap_err(), JqlError::Unbounded);
        assert!(matches!(
            parse("project = (A").unwrap_err(),
            JqlError::Syntax(_)
        ));
        assert!(matches!(
            parse("project = \"A").unwrap_err(),
            JqlError::Syntax(_)
        ));
        assert!(matches!(parse("project").unwrap_err(), JqlError::Syntax(_)));
        assert!(matches!(
            parse("project = A order by a,b,c,d,e,f,g,h").unwrap_err(),
            JqlError::Syntax(_)
        ));
        for ok in [
            "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)",
            "updated >= -1w order by key",
            "project not in (\"6f1c-uuid\")",
            "assignee = currentUser() AND status was \"Open\" before -1w by currentUser()",
            "cf[10010] = 5 AND labels is EMPTY",
            "status changed after startOfDay(-1) ORDER BY created DESC, key ASC",
            "summary ~ 'it\\'s broken'",
        ] {
            assert!(parse(ok).is_ok(), "{ok}: {:?}", parse(ok));
        }
    }

    #[test]
    fn dates_relative_and_absolute() {
        assert_eq!(crate::time::parse_jql_date("2026/12/04 05:30"), Some(NOW));
        // updated 30 minutes ago, created 3 days ago.
        for yes in [
            "updated >= -31m",
            "updated >= \"-31m\"",
            "updated > -1h",
            "updated >= -1d AND created <= -2d",
            "updated >= -1w",
            "updated >= \"-1w 2d\"",
            "updated >= \"2026/12/04 05:00\"",
            "updated >= \"2026-12-04 04:59\"",
            "updated <= now()",
            "updated < \"2026/12/05\"",
            "updatedDate >= 2026-12-04",
            "updated = \"2026/12/04 05:00\"",
            "created < -2d",
            "(project = PROJ2 OR updated >= -1h) AND key in (PROJ1-1, PROJ1-2)",
            "updated >= startOfDay()",
        ] {
            assert!(m(yes), "{yes}");
        }
        for no in [
            "updated >= -29m",
            "updated >= \"-29m\"",
            "updated > \"2026/12/04 05:01\"",
            "updated < -1h",
            "created >= -1d",
            "updated != \"2026/12/04 05:00\"",
            "project = PROJ1 AND updated >= -5m",
            "(updated >= -5m OR created >= -1d) AND project = PROJ1",
        ] {
            assert!(!m(no), "{no}");
        }
        assert!(!parse("updated >= -1w").unwrap().matches_all());
        assert!(parse("updated >= startOfWeek()").unwrap().matches_all());
        for bad in [
            "updated >= yesterday",
            "updated > \"2026/13/01\"",
            "created < -1x",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(matches!(err, JqlError::Value(_)), "{bad}: {err:?}");
            assert!(
                err.message().contains("yyyy/MM/dd HH:mm"),
                "{}",
                err.message()
            );
        }
        // Unknown dates leave the clause untold.
        let no_dates = IssueFacts {
            created_ms: None,
            updated_ms: None,
            ..facts()
        };
        assert!(
            parse("updated >= -1m")
                .unwrap()
                .matches(&no_dates, &pm, NOW)
        );
    }

    #[test]
    fn periods() {
        assert_eq!(period_ms("-15m"), Some(-15 * MIN));
        assert_eq!(period_ms("2h"), Some(120 * MIN));
        assert_eq!(period_ms("+1d"), Some(86_400_000));
        assert_eq!(period_ms("-1w 2d"), Some(-9 * 86_400_000));
        assert_eq!(period_ms("-"), None);
        assert_eq!(period_ms("5"), None);
        assert_eq!(period_ms("-5y"), None);
        assert_eq!(period_ms("99999999999999999999m"), None);
    }

    #[test]
    fn order_by_terms() {
        let q = parse("project = A ORDER BY updated DESC, key, rank ASC, id asc").unwrap();
        assert_eq!(
            q.order,
            [
                Sort {
                    field: SortField::Updated,
                    descending: true
                },
                Sort {
                    field: SortField::Key,
                    descending: false
                },
                Sort {
                    field: SortField::Id,
                    descending: false
                },
            ]
        );
        assert!(parse("project = A").unwrap().order.is_empty());
    }

    #[test]
    fn evaluation() {
        assert!(m(
            "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)"
        ));
        assert!(parse("status = Done").unwrap().matches_all());
        assert!(m("project = PROJ1"));
        assert!(m("project = 10000"));
        assert!(!m("project = PROJ2"));
        assert!(m("project in (PROJ2, proj1)"));
        assert!(m("project not in (\"uuid-xyz\")"));
        assert!(!m("(updated >= -1w) AND key = PROJ1-3"));
        assert!(m("(updated >= -1w) AND key = PROJ1-2"));
        assert!(m("id in (1, 2, 10001)"));
        assert!(!m("id in (1, 2, 3)"));
        assert!(m("key in (PROJ1-9, proj1-2)"));
        assert!(m("issuekey in (PROJ1-1, PROJ1-2) order by key"));
        assert!(!m("NOT project = PROJ1"));
        assert!(m("project = PROJ2 OR key = PROJ1-2"));
        assert!(
            m("project = PROJ2 OR status = Done"),
            "unknown branch keeps the issue"
        );
        assert_eq!(
            parse("(x = 1) AND key in (A-1, A-2)")
                .unwrap()
                .key_candidates(),
            Some(vec!["A-1".to_owned(), "A-2".to_owned()])
        );
        assert_eq!(parse("x = 1 OR key = A-1").unwrap().key_candidates(), None);
        assert_ne!(
            parse("project = A").unwrap().fingerprint,
            parse("project = B").unwrap().fingerprint
        );
    }
}
