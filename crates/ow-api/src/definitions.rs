//! Saved Logs Insights query definitions (PutQueryDefinition, DescribeQueryDefinitions,
//! DeleteQueryDefinition; spec/api.md §A.2), persisted as one JSON file in the data
//! directory.
//!
//! File format (`query-definitions.json`): `{"version": 1, "definitions": [QueryDefinition…]}`
//! with the members below in camelCase. Every change rewrites the file atomically (write a
//! temporary file, fsync, rename), so a crash leaves either the old or the new file.

use std::path::PathBuf;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

/// The file name inside the data directory.
pub const FILE_NAME: &str = "query-definitions.json";

/// One saved query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryDefinition {
    /// Account owning the definition (from the signing key).
    pub account_id: String,
    /// `queryDefinitionId` (a UUID).
    pub query_definition_id: String,
    /// `name` (1–255 chars; `/` builds folders in the console).
    pub name: String,
    /// `queryString` (1–10,000 chars).
    pub query_string: String,
    /// `logGroupNames` (may be empty).
    #[serde(default)]
    pub log_group_names: Vec<String>,
    /// `queryLanguage`: `CWLI` (default), `SQL` or `PPL`.
    pub query_language: String,
    /// `parameters`, stored as given (each `{name, defaultValue?, description?}`).
    #[serde(default)]
    pub parameters: Vec<Value>,
    /// `lastModified`, epoch ms.
    pub last_modified_ms: i64,
    /// The `clientToken` of the PutQueryDefinition that created it (idempotency; not on
    /// the wire).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

impl QueryDefinition {
    /// The DescribeQueryDefinitions member for this definition.
    pub fn to_wire(&self) -> Value {
        let mut v = serde_json::json!({
            "queryLanguage": self.query_language,
            "queryDefinitionId": self.query_definition_id,
            "name": self.name,
            "queryString": self.query_string,
            "lastModified": self.last_modified_ms,
            "logGroupNames": self.log_group_names,
        });
        if !self.parameters.is_empty() {
            v["parameters"] = Value::Array(self.parameters.clone());
        }
        v
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct FileContent {
    version: u32,
    definitions: Vec<QueryDefinition>,
}

/// The persisted set of query definitions.
pub struct DefinitionStore {
    path: PathBuf,
    max_per_account: usize,
    definitions: Mutex<Vec<QueryDefinition>>,
}

impl DefinitionStore {
    /// Loads `path` (absent = none saved yet).
    ///
    /// # Errors
    /// [`ApiError::Internal`] if the file exists but cannot be read or parsed.
    pub fn open(path: PathBuf, max_per_account: usize) -> Result<Self, ApiError> {
        let definitions = match std::fs::read(&path) {
            Ok(bytes) => {
                let content: FileContent = serde_json::from_slice(&bytes).map_err(|e| {
                    ApiError::Internal(format!(
                        "{}: not a query definitions file: {e}",
                        path.display()
                    ))
                })?;
                content.definitions
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(ApiError::Internal(format!("{}: {e}", path.display())));
            }
        };
        Ok(DefinitionStore {
            path,
            max_per_account,
            definitions: Mutex::new(definitions),
        })
    }

    fn save(&self, definitions: &[QueryDefinition]) -> Result<(), ApiError> {
        use std::io::Write;
        let content = FileContent {
            version: 1,
            definitions: definitions.to_vec(),
        };
        let bytes = serde_json::to_vec_pretty(&content)
            .map_err(|e| ApiError::Internal(format!("encode query definitions: {e}")))?;
        let tmp = self.path.with_extension("json.tmp");
        let io = |e: std::io::Error| ApiError::Internal(format!("{}: {e}", self.path.display()));
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        Ok(())
    }

    /// Creates (`definition.query_definition_id` unknown and `create` true) or replaces a
    /// definition, then saves the file. On a failed save nothing changes in memory either.
    /// Returns the definition's id: a create whose `client_token` an earlier create of the
    /// same account carried changes nothing and returns that definition's id (AWS:
    /// `clientToken` makes PutQueryDefinition idempotent [I: a repeat with other members
    /// returns the first definition unchanged]).
    ///
    /// # Errors
    /// `ResourceNotFound` when updating an id that does not exist for the account;
    /// `LimitExceeded` past the per-account quota; `Internal` when the file cannot be written.
    pub fn put(&self, definition: QueryDefinition, create: bool) -> Result<String, ApiError> {
        let mut defs = self.definitions.lock();
        if create && definition.client_token.is_some() {
            if let Some(d) = defs.iter().find(|d| {
                d.account_id == definition.account_id && d.client_token == definition.client_token
            }) {
                return Ok(d.query_definition_id.clone());
            }
        }
        let id = definition.query_definition_id.clone();
        let mut next = defs.clone();
        let pos = next.iter().position(|d| {
            d.query_definition_id == definition.query_definition_id
                && d.account_id == definition.account_id
        });
        match (pos, create) {
            (Some(i), _) => {
                // An update keeps the creating request's token.
                let token = next[i].client_token.take();
                next[i] = definition;
                next[i].client_token = next[i].client_token.take().or(token);
            }
            (None, false) => {
                return Err(ApiError::ResourceNotFound(format!(
                    "Query definition {} does not exist",
                    definition.query_definition_id
                )))
            }
            (None, true) => {
                let count = next
                    .iter()
                    .filter(|d| d.account_id == definition.account_id)
                    .count();
                if count >= self.max_per_account {
                    return Err(ApiError::LimitExceeded(format!(
                        "The account already has the maximum of {} query definitions",
                        self.max_per_account
                    )));
                }
                next.push(definition);
            }
        }
        self.save(&next)?;
        *defs = next;
        Ok(id)
    }

    /// Deletes a definition of `account_id`; saves the file.
    ///
    /// # Errors
    /// `ResourceNotFound` if there is none with that id; `Internal` on a failed save.
    pub fn delete(&self, account_id: &str, id: &str) -> Result<(), ApiError> {
        let mut defs = self.definitions.lock();
        let mut next = defs.clone();
        let before = next.len();
        next.retain(|d| !(d.query_definition_id == id && d.account_id == account_id));
        if next.len() == before {
            return Err(ApiError::ResourceNotFound(format!(
                "Query definition {id} does not exist"
            )));
        }
        self.save(&next)?;
        *defs = next;
        Ok(())
    }

    /// The definitions of `account_id` whose name starts with `prefix` and whose language
    /// is `language` (if given), ordered by name then id [I: AWS's order is not documented].
    pub fn list(
        &self,
        account_id: &str,
        prefix: Option<&str>,
        language: Option<&str>,
    ) -> Vec<QueryDefinition> {
        let defs = self.definitions.lock();
        let mut out: Vec<QueryDefinition> = defs
            .iter()
            .filter(|d| d.account_id == account_id)
            .filter(|d| prefix.is_none_or(|p| d.name.starts_with(p)))
            .filter(|d| language.is_none_or(|l| d.query_language == l))
            .cloned()
            .collect();
        out.sort_by(|a, b| {
            (a.name.as_str(), a.query_definition_id.as_str())
                .cmp(&(b.name.as_str(), b.query_definition_id.as_str()))
        });
        out
    }

    /// The definition with id `id` of `account_id`.
    pub fn get(&self, account_id: &str, id: &str) -> Option<QueryDefinition> {
        self.definitions
            .lock()
            .iter()
            .find(|d| d.query_definition_id == id && d.account_id == account_id)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(id: &str, name: &str) -> QueryDefinition {
        QueryDefinition {
            account_id: "000000000000".into(),
            query_definition_id: id.into(),
            name: name.into(),
            query_string: "fields @message".into(),
            log_group_names: vec![],
            query_language: "CWLI".into(),
            parameters: vec![],
            last_modified_ms: 1,
            client_token: None,
        }
    }

    #[test]
    fn persists_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let store = DefinitionStore::open(path.clone(), 2).unwrap();
        store.put(def("a", "zeta"), true).unwrap();
        store.put(def("b", "alpha"), true).unwrap();
        assert!(matches!(
            store.put(def("c", "c"), true),
            Err(ApiError::LimitExceeded(_))
        ));
        assert!(matches!(
            store.put(def("zz", "c"), false),
            Err(ApiError::ResourceNotFound(_))
        ));
        store.delete("000000000000", "a").unwrap();
        let reopened = DefinitionStore::open(path, 2).unwrap();
        let names: Vec<String> = reopened
            .list("000000000000", None, None)
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, vec!["alpha"]);
        assert!(reopened.list("111111111111", None, None).is_empty());
    }

    #[test]
    fn corrupt_file_is_an_error_not_an_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, b"{not json").unwrap();
        assert!(DefinitionStore::open(path.clone(), 10).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"{not json");
    }
}
