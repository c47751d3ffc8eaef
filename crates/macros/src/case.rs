//! `CamelCase` → `snake_case`, for default kinds and parameter names.

/// `JiraProject` → `jira_project`, `issueIdOrKey` → `issue_id_or_key`,
/// `HTTPServer` → `http_server`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            if let Some(&prev) = i.checked_sub(1).and_then(|p| chars.get(p)) {
                let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
                let boundary = prev.is_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_uppercase() && next_is_lower);
                if boundary && prev != '_' {
                    out.push('_');
                }
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn converts_camel_and_pascal_case() {
        assert_eq!(snake_case("Project"), "project");
        assert_eq!(snake_case("JiraProject"), "jira_project");
        assert_eq!(snake_case("issueIdOrKey"), "issue_id_or_key");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("ID"), "id");
        assert_eq!(snake_case("Board2Sprint"), "board2_sprint");
    }

    #[test]
    fn keeps_snake_case() {
        assert_eq!(snake_case("board_id"), "board_id");
        assert_eq!(snake_case("Space_Id"), "space_id");
        assert_eq!(snake_case("_x"), "_x");
    }
}
