//! Static bearer tokens from `--token-auth-file`, kube's CSV format: one record per line,
//! `token,user,uid[,"group1,group2,…"]`, quoted as RFC 4180 (and Go's `encoding/csv`). A record
//! with an empty token is skipped, a repeated token replaces the earlier one (both with a
//! warning, as kube), fewer than three columns or broken quoting is an error naming the line.
//! Empty group names are dropped.

use std::collections::HashMap;
use std::path::Path;

use async_trait::async_trait;

use super::{AuthnError, Response, TokenAuthenticator, UserInfo, audience_agnostic};

/// A token file that cannot be used: the file and the line (1-based) of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token file {path}: line {line}: {message}")]
pub struct TokenFileError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

/// The users of a token file, by token.
#[derive(Debug, Clone)]
pub struct TokenFile {
    tokens: HashMap<String, UserInfo>,
    api_audiences: Vec<String>,
}

impl TokenFile {
    /// Reads and parses `path`.
    pub fn from_file(path: &Path, api_audiences: Vec<String>) -> Result<TokenFile, TokenFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| TokenFileError {
            path: path.display().to_string(),
            line: 0,
            message: e.to_string(),
        })?;
        Self::parse(&path.display().to_string(), &text, api_audiences)
    }

    /// Parses the CSV `text`; `path` names it in errors and warnings.
    pub fn parse(
        path: &str,
        text: &str,
        api_audiences: Vec<String>,
    ) -> Result<TokenFile, TokenFileError> {
        let mut tokens = HashMap::new();
        for (line, record) in records(text).map_err(|(line, message)| TokenFileError {
            path: path.to_owned(),
            line,
            message,
        })? {
            if record.len() < 3 {
                return Err(TokenFileError {
                    path: path.to_owned(),
                    line,
                    message: format!(
                        "must have at least 3 columns (token, user name, user uid), found {}",
                        record.len()
                    ),
                });
            }
            if record[0].is_empty() {
                tracing::warn!(path, line, "empty token in the token file: record skipped");
                continue;
            }
            let groups = record.get(3).map_or_else(Vec::new, |groups| {
                groups.split(',').filter(|g| !g.is_empty()).map(str::to_owned).collect()
            });
            let user = UserInfo {
                name: record[1].clone(),
                uid: record[2].clone(),
                groups,
                ..UserInfo::default()
            };
            if tokens.insert(record[0].clone(), user).is_some() {
                tracing::warn!(
                    path,
                    line,
                    "duplicate token in the token file: the later record wins"
                );
            }
        }
        Ok(TokenFile { tokens, api_audiences })
    }

    /// How many tokens the file holds.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

#[async_trait]
impl TokenAuthenticator for TokenFile {
    async fn authenticate_token(
        &self,
        token: &str,
        audiences: Option<&[String]>,
    ) -> Result<Option<Response>, AuthnError> {
        let Some(user) = self.tokens.get(token) else {
            return Ok(None);
        };
        let Some(audiences) = audience_agnostic(&self.api_audiences, audiences) else {
            return Ok(None);
        };
        Ok(Some(Response { user: user.clone(), audiences }))
    }
}

/// CSV records, each with the line it starts on.
type Records = Vec<(usize, Vec<String>)>;

/// Splits CSV text into records, each with the line it starts on. Blank lines are skipped.
/// Errors carry the line of the problem.
fn records(text: &str) -> Result<Records, (usize, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        // A blank line (or a lone \r\n) is no record.
        if matches!(chars.peek(), Some('\n')) {
            chars.next();
            line += 1;
            continue;
        }
        if matches!(chars.peek(), Some('\r')) {
            let mut look = chars.clone();
            look.next();
            if matches!(look.peek(), Some('\n') | None) {
                chars.next();
                continue;
            }
        }
        let mut record = Vec::new();
        loop {
            let mut field = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err((line, "quoted field is never closed".to_owned())),
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            field.push(c);
                        }
                    }
                }
                match chars.peek() {
                    None | Some(',') | Some('\n') | Some('\r') => {}
                    Some(_) => {
                        return Err((line, "extraneous or missing \" in quoted field".to_owned()));
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' || c == '\n' {
                        break;
                    }
                    if c == '"' {
                        return Err((line, "bare \" in non-quoted field".to_owned()));
                    }
                    field.push(c);
                    chars.next();
                }
                if field.ends_with('\r') && matches!(chars.peek(), Some('\n') | None) {
                    field.pop();
                }
            }
            record.push(field);
            match chars.next() {
                Some(',') => continue,
                Some('\r') => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    line += 1;
                    break;
                }
                Some('\n') => {
                    line += 1;
                    break;
                }
                None => break,
                Some(_) => unreachable!("fields end at a separator or the end of the input"),
            }
        }
        out.push((start, record));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TokenFile, TokenFileError> {
        TokenFile::parse("tokens.csv", text, vec!["api".to_owned()])
    }

    async fn user(file: &TokenFile, token: &str) -> Option<UserInfo> {
        file.authenticate_token(token, None).await.unwrap().map(|r| r.user)
    }

    #[tokio::test]
    async fn records_map_tokens_to_users_and_groups() {
        let file = parse(
            "t1,alice,1,\"dev,ops\"\n\
             t2,bob,2\r\n\
             \n\
             t3,\"carol \"\"c\"\"\",3,admins\n\
             ,nobody,4\n\
             t2,bobby,22,\n",
        )
        .unwrap();
        assert_eq!(file.len(), 3);
        let alice = user(&file, "t1").await.unwrap();
        assert_eq!((alice.name.as_str(), alice.uid.as_str()), ("alice", "1"));
        assert_eq!(alice.groups, vec!["dev", "ops"]);
        assert_eq!(user(&file, "t3").await.unwrap().name, "carol \"c\"");
        // The later record of a repeated token wins; an empty group column means no groups.
        let bob = user(&file, "t2").await.unwrap();
        assert_eq!((bob.name.as_str(), bob.groups.len()), ("bobby", 0));
        assert_eq!(user(&file, "nope").await, None);
        assert_eq!(user(&file, "").await, None);

        let response = file.authenticate_token("t1", None).await.unwrap().unwrap();
        assert_eq!(response.audiences, vec!["api"]);
        let elsewhere = ["other".to_owned()];
        assert_eq!(file.authenticate_token("t1", Some(&elsewhere)).await.unwrap(), None);
    }

    #[test]
    fn errors_name_the_line() {
        let error = parse("t1,alice,1\nt2,bob\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.contains("at least 3 columns"), "{error}");
        assert!(error.to_string().starts_with("token file tokens.csv: line 2:"), "{error}");

        let error = parse("t1,alice,1\n\nt2,b\"ob,2\n").unwrap_err();
        assert_eq!((error.line, error.message.as_str()), (3, "bare \" in non-quoted field"));

        let error = parse("t1,\"alice\"x,1\n").unwrap_err();
        assert_eq!(error.line, 1);
        assert!(error.message.contains("extraneous"), "{error}");

        let error = parse("t1,alice,1\nt2,\"bob\n,2\n").unwrap_err();
        assert_eq!(error.message, "quoted field is never closed");
    }

    #[test]
    fn quoted_fields_may_span_lines() {
        let records = records("a,\"b\nc\",d\ne,f,g").unwrap();
        assert_eq!(records[0], (1, vec!["a".into(), "b\nc".into(), "d".into()]));
        assert_eq!(records[1], (3, vec!["e".into(), "f".into(), "g".into()]));
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let error = TokenFile::from_file(Path::new("/nonexistent/tokens.csv"), vec![]).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/tokens.csv"), "{error}");
    }
}
