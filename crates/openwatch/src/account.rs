//! Which account's directory a command uses (the one place the CLI maps accounts to
//! directories; the layout itself is `ow_api::account_data_dir`).
//!
//! Accounts are isolated: the default account of a server (its first configured key's,
//! else the demo key's in `<data-dir>/credentials.json`, else `000000000000`) keeps its
//! data in the data directory itself; every other account in
//! `<data-dir>/accounts/<account-id>/`. `openwatch serve` records its default account in
//! `<data-dir>/default-account`, so `import`/`query`/`pack install --account ID` resolve the
//! same directory the server uses for `ID`.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The file in a data directory naming its default account (one line, 12 digits).
pub const DEFAULT_ACCOUNT_FILE: &str = "default-account";

/// Checks that `id` is an AWS account id (12 ASCII digits).
///
/// # Errors
/// A message naming the bad id.
pub fn check_account_id(id: &str) -> anyhow::Result<()> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        anyhow::bail!("account id {id:?} is not 12 digits")
    }
}

/// The default account recorded in `data_dir`: `default-account` (written by `serve`),
/// else the demo key's account in `credentials.json`; `None` when neither exists.
///
/// # Errors
/// An unreadable or malformed file.
pub fn recorded_default_account(data_dir: &Path) -> anyhow::Result<Option<String>> {
    let path = data_dir.join(DEFAULT_ACCOUNT_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let id = text.trim().to_string();
        check_account_id(&id).with_context(|| format!("in {}", path.display()))?;
        return Ok(Some(id));
    }
    let creds = ow_api::demo_credentials_path(data_dir);
    if creds.exists() {
        let text = std::fs::read_to_string(&creds)
            .with_context(|| format!("reading {}", creds.display()))?;
        let keys = ow_api::KeyStore::from_json(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", creds.display()))?;
        return Ok(keys.keys().first().map(|k| k.account_id.clone()));
    }
    Ok(None)
}

/// Records `account_id` as the default account of `data_dir` (written when it changes).
///
/// # Errors
/// I/O errors writing the file.
pub fn record_default_account(data_dir: &Path, account_id: &str) -> anyhow::Result<()> {
    let path = data_dir.join(DEFAULT_ACCOUNT_FILE);
    if std::fs::read_to_string(&path).is_ok_and(|t| t.trim() == account_id) {
        return Ok(());
    }
    std::fs::write(&path, format!("{account_id}\n"))
        .with_context(|| format!("writing {}", path.display()))
}

/// The account id of `account`'s store under `data_dir`: `account` itself, or for `None`
/// the default account (recorded in `data_dir`, else `000000000000`). Log groups created
/// in that store are owned by it (their ARNs and `@log` name it).
///
/// # Errors
/// An account id that is not 12 digits; an unreadable `default-account` or credentials file.
pub fn account_id(data_dir: &Path, account: Option<&str>) -> anyhow::Result<String> {
    match account {
        Some(id) => {
            check_account_id(id)?;
            Ok(id.to_string())
        }
        None => Ok(recorded_default_account(data_dir)?
            .unwrap_or_else(|| ow_api::auth::DEFAULT_ACCOUNT_ID.to_string())),
    }
}

/// The directory of `account` (`None`: the default account) under `data_dir`, given the
/// default account `default_account` (`None`: the recorded one, else `000000000000`).
///
/// # Errors
/// An account id that is not 12 digits; an unreadable `default-account` or credentials file.
pub fn account_dir(
    data_dir: &Path,
    account: Option<&str>,
    default_account: Option<&str>,
) -> anyhow::Result<PathBuf> {
    let Some(id) = account else {
        return Ok(data_dir.to_path_buf());
    };
    check_account_id(id)?;
    let default = match default_account {
        Some(d) => d.to_string(),
        None => recorded_default_account(data_dir)?
            .unwrap_or_else(|| ow_api::auth::DEFAULT_ACCOUNT_ID.to_string()),
    };
    Ok(ow_api::account_data_dir(data_dir, id, &default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qa_account_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(account_dir(d, None, None).unwrap(), d);
        assert_eq!(account_dir(d, Some("000000000000"), None).unwrap(), d);
        assert_eq!(
            account_dir(d, Some("123456789012"), None).unwrap(),
            d.join("accounts/123456789012")
        );
        record_default_account(d, "123456789012").unwrap();
        assert_eq!(account_dir(d, Some("123456789012"), None).unwrap(), d);
        assert_eq!(
            account_dir(d, Some("222222222222"), None).unwrap(),
            d.join("accounts/222222222222")
        );
        assert_eq!(
            account_dir(d, Some("222222222222"), Some("222222222222")).unwrap(),
            d
        );
        assert!(account_dir(d, Some("12"), None).is_err());
        assert!(account_dir(d, Some("../../etc/pw00"), None).is_err());
    }
}
