//! Just enough JQL: validation like Jira's (non-empty, bounded, balanced) and evaluation of the
//! clauses a sync client narrows by (`project`, `key`/`issuekey`, `id` with `=`, `!=`, `in`,
//! `not in`). Every other clause (status, dates, text...) is treated as matching, so the default
//! JQL of a sync selects every simulated issue.

use crate::rng::fnv1a;

/// Why a JQL string was rejected (Jira answers 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JqlError {
    Empty,
    Unbounded,
    Syntax(String),
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
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
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
        Ok(Expr::Clause {
            field: field.to_lowercase(),
            op,
            values,
        })
    }

    /// A value, a function call or a parenthesised list.
    fn value(&mut self) -> Result<Vec<String>, JqlError> {
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

    fn order_by(&mut self) -> Result<usize, JqlError> {
        self.pos += 2;
        let mut fields = 0;
        loop {
            match self.next() {
                Some(Token::Word(_)) | Some(Token::Str(_)) => fields += 1,
                _ => {
                    return Err(JqlError::Syntax(
                        "Expecting a field name after ORDER BY.".into(),
                    ));
                }
            }
            if is_kw(self.peek(), "asc") || is_kw(self.peek(), "desc") {
                self.pos += 1;
            }
            match self.peek() {
                Some(Token::Comma) => self.pos += 1,
                None => return Ok(fields),
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
}

/// A validated JQL query.
#[derive(Debug, Clone)]
pub(crate) struct Jql {
    expr: Option<Expr>,
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
    };
    let expr = if p.at_order_by() { None } else { Some(p.or()?) };
    if p.at_order_by() {
        let fields = p.order_by()?;
        if fields > 7 {
            return Err(JqlError::Syntax("ORDER BY takes at most 7 fields.".into()));
        }
    }
    if let Some(t) = p.peek() {
        return Err(JqlError::Syntax(format!("Unexpected {t:?} in the query.")));
    }
    if expr.is_none() {
        return Err(JqlError::Unbounded);
    }
    Ok(Jql {
        expr,
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

    /// Evaluates the query; `project_matches(value, project_key)` resolves project ids/names.
    pub(crate) fn matches(
        &self,
        issue: &IssueFacts<'_>,
        project_matches: &dyn Fn(&str, &str) -> bool,
    ) -> bool {
        self.expr
            .as_ref()
            .is_none_or(|e| eval(e, issue, project_matches).unwrap_or(true))
    }
}

fn has_known(e: &Expr) -> bool {
    match e {
        Expr::And(p) | Expr::Or(p) => p.iter().any(has_known),
        Expr::Not(e) => has_known(e),
        Expr::Clause { field, op, .. } => known(field, op),
    }
}

fn known(field: &str, op: &str) -> bool {
    matches!(field, "project" | "key" | "issuekey" | "id")
        && matches!(op, "=" | "!=" | "in" | "not in")
}

/// `None` means "cannot tell" (a clause the simulator does not evaluate).
fn eval(e: &Expr, issue: &IssueFacts<'_>, pm: &dyn Fn(&str, &str) -> bool) -> Option<bool> {
    match e {
        Expr::And(parts) => {
            let mut all = Some(true);
            for r in parts.iter().map(|p| eval(p, issue, pm)) {
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
            for r in parts.iter().map(|p| eval(p, issue, pm)) {
                match r {
                    Some(true) => return Some(true),
                    None => any = None,
                    Some(false) => {}
                }
            }
            any
        }
        Expr::Not(e) => eval(e, issue, pm).map(|b| !b),
        Expr::Clause { field, op, values } => {
            if !known(field, op) {
                return None;
            }
            let hit = values.iter().any(|v| match field.as_str() {
                "project" => pm(v, issue.project_key),
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

    fn facts() -> IssueFacts<'static> {
        IssueFacts {
            id: "10001",
            key: "PROJ1-2",
            project_key: "PROJ1",
        }
    }

    fn pm(v: &str, key: &str) -> bool {
        v.eq_ignore_ascii_case(key) || (v == "10000" && key == "PROJ1")
    }

    fn m(q: &str) -> bool {
        parse(q).unwrap().matches(&facts(), &pm)
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
    fn evaluation() {
        assert!(m(
            "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)"
        ));
        assert!(parse("updated >= -1w").unwrap().matches_all());
        assert!(m("project = PROJ1"));
        assert!(m("project = 10000"));
        assert!(!m("project = PROJ2"));
        assert!(m("project in (PROJ2, proj1)"));
        assert!(m("project not in (\"uuid-xyz\")"));
        assert!(!m("(updated >= -1w) AND key = PROJ1-3"));
        assert!(m("(updated >= -1w) AND key = PROJ1-2"));
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
