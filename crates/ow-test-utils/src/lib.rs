//! Test support shared by OpenWatch's crates (a dev-dependency only).
//!
//! - [`cloudtrail`]: reads the real CloudTrail files in `../shared/data/cloudtrail` (gzip NDJSON,
//!   one record per line).
//! - [`cis`]: what each CIS AWS Foundations CloudTrail control is about, written by hand from
//!   the benchmark's intent (filter-patterns.md §9), independently of the filter patterns. The
//!   filter-pattern, metrics and API tests all check the CIS pack against these predicates.

use std::io::BufRead;
use std::path::PathBuf;

use serde_json::Value;

/// `../shared/data/cloudtrail`, beside the repository.
pub fn cloudtrail_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/cloudtrail"
    ))
}

/// Reading the shared CloudTrail data.
pub mod cloudtrail {
    use super::*;

    /// The non-blank lines of `file` (relative to [`cloudtrail_dir`]), a gzip NDJSON file.
    ///
    /// # Panics
    /// When the file is missing or not gzip text: tests need the shared data.
    pub fn lines(file: &str) -> Vec<String> {
        let path = cloudtrail_dir().join(file);
        let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        std::io::BufReader::new(flate2::read::GzDecoder::new(f))
            .lines()
            .map(|l| l.expect("gzip NDJSON line"))
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// `(eventTime in epoch ms, raw line, parsed record)` for every record of `files` that
    /// parses and has an RFC 3339 `eventTime`, sorted by time.
    pub fn events(files: &[&str]) -> Vec<(i64, String, Value)> {
        let mut out = Vec::new();
        for f in files {
            for line in lines(f) {
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let Some(t) = v["eventTime"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                else {
                    continue;
                };
                out.push((t.timestamp_millis(), line, v));
            }
        }
        out.sort_by_key(|e| e.0);
        out
    }
}

/// The CIS controls' intent. The predicates encode filter-pattern semantics directly: a
/// wildcard is a prefix/suffix test, `!=` on a missing field is false (filter-patterns.md
/// §4.2 [I]), `NOT EXISTS` means absent.
pub mod cis {
    use super::*;

    /// The CIS row of a metric filter or alarm name from the pack (`UnauthorizedAPICalls`
    /// → `4.1`, …), written by hand from the benchmark's control list.
    ///
    /// # Panics
    /// On an unknown name.
    pub fn id_of(name: &str) -> &'static str {
        match name {
            "UnauthorizedAPICalls" => "4.1",
            "NoMFAConsoleSignin" => "4.2",
            "NoMFAConsoleSigninSSOAware" | "NoMFAConsoleSigninIAMUser" => "4.2-sso",
            "RootUsage" => "4.3",
            "IAMChanges" => "4.4",
            "CloudTrailCfgChanges" => "4.5",
            "ConsoleSigninFailures" => "4.6",
            "DisableOrDeleteCMK" => "4.7",
            "S3BucketPolicyChanges" => "4.8",
            "AWSConfigChanges" => "4.9",
            "SecurityGroupChanges" => "4.10",
            "NACLChanges" => "4.11",
            "NetworkGWChanges" => "4.12",
            "RouteTableChanges" => "4.13",
            "VPCChanges" => "4.14",
            "OrganizationsChanges" => "4.15",
            other => panic!("no CIS row known for filter or alarm {other}"),
        }
    }

    /// [`intent`] keyed by the pack's metric filter or alarm name.
    pub fn intent_of(name: &str, e: &Value) -> bool {
        intent(id_of(name), e)
    }

    fn at<'a>(e: &'a Value, path: &[&str]) -> Option<&'a Value> {
        path.iter().try_fold(e, |v, k| v.as_object()?.get(*k))
    }

    fn text<'a>(e: &'a Value, path: &[&str]) -> Option<&'a str> {
        at(e, path)?.as_str()
    }

    fn is(e: &Value, path: &[&str], want: &str) -> bool {
        text(e, path) == Some(want)
    }

    /// `!=` on a present string field.
    fn is_not(e: &Value, path: &[&str], unwanted: &str) -> bool {
        text(e, path).is_some_and(|v| v != unwanted)
    }

    fn name_in(e: &Value, names: &[&str]) -> bool {
        text(e, &["eventName"]).is_some_and(|n| names.contains(&n))
    }

    /// The hand-written meaning of CIS row `cis_id` (`"4.1"` … `"4.15"`, and `"4.2-sso"` for the
    /// SSO-aware variant of 4.2): whether the control is about event `e`.
    ///
    /// # Panics
    /// On an id with no predicate, so that a new pack row cannot go untested.
    pub fn intent(cis_id: &str, e: &Value) -> bool {
        let id = cis_id;
        match id {
            "4.1" => {
                let code = text(e, &["errorCode"]).unwrap_or("");
                (code.ends_with("UnauthorizedOperation") || code.starts_with("AccessDenied"))
                    && is_not(e, &["sourceIPAddress"], "delivery.logs.amazonaws.com")
                    && is_not(e, &["eventName"], "HeadBucket")
            }
            "4.2" => {
                is(e, &["eventName"], "ConsoleLogin")
                    && is_not(e, &["additionalEventData", "MFAUsed"], "Yes")
            }
            "4.2-sso" => {
                is(e, &["eventName"], "ConsoleLogin")
                    && is_not(e, &["additionalEventData", "MFAUsed"], "Yes")
                    && is(e, &["userIdentity", "type"], "IAMUser")
                    && is(e, &["responseElements", "ConsoleLogin"], "Success")
            }
            "4.3" => {
                is(e, &["userIdentity", "type"], "Root")
                    && at(e, &["userIdentity", "invokedBy"]).is_none()
                    && is_not(e, &["eventType"], "AwsServiceEvent")
            }
            "4.4" => name_in(
                e,
                &[
                    "DeleteGroupPolicy",
                    "DeleteRolePolicy",
                    "DeleteUserPolicy",
                    "PutGroupPolicy",
                    "PutRolePolicy",
                    "PutUserPolicy",
                    "CreatePolicy",
                    "DeletePolicy",
                    "CreatePolicyVersion",
                    "DeletePolicyVersion",
                    "AttachRolePolicy",
                    "DetachRolePolicy",
                    "AttachUserPolicy",
                    "DetachUserPolicy",
                    "AttachGroupPolicy",
                    "DetachGroupPolicy",
                ],
            ),
            "4.5" => name_in(
                e,
                &[
                    "CreateTrail",
                    "UpdateTrail",
                    "DeleteTrail",
                    "StartLogging",
                    "StopLogging",
                ],
            ),
            "4.6" => {
                is(e, &["eventName"], "ConsoleLogin")
                    && is(e, &["errorMessage"], "Failed authentication")
            }
            "4.7" => {
                is(e, &["eventSource"], "kms.amazonaws.com")
                    && name_in(e, &["DisableKey", "ScheduleKeyDeletion"])
            }
            "4.8" => {
                is(e, &["eventSource"], "s3.amazonaws.com")
                    && name_in(
                        e,
                        &[
                            "PutBucketAcl",
                            "PutBucketPolicy",
                            "PutBucketCors",
                            "PutBucketLifecycle",
                            "PutBucketReplication",
                            "DeleteBucketPolicy",
                            "DeleteBucketCors",
                            "DeleteBucketLifecycle",
                            "DeleteBucketReplication",
                        ],
                    )
            }
            "4.9" => {
                is(e, &["eventSource"], "config.amazonaws.com")
                    && name_in(
                        e,
                        &[
                            "StopConfigurationRecorder",
                            "DeleteDeliveryChannel",
                            "PutDeliveryChannel",
                            "PutConfigurationRecorder",
                        ],
                    )
            }
            "4.10" => name_in(
                e,
                &[
                    "AuthorizeSecurityGroupIngress",
                    "AuthorizeSecurityGroupEgress",
                    "RevokeSecurityGroupIngress",
                    "RevokeSecurityGroupEgress",
                    "CreateSecurityGroup",
                    "DeleteSecurityGroup",
                ],
            ),
            "4.11" => name_in(
                e,
                &[
                    "CreateNetworkAcl",
                    "CreateNetworkAclEntry",
                    "DeleteNetworkAcl",
                    "DeleteNetworkAclEntry",
                    "ReplaceNetworkAclEntry",
                    "ReplaceNetworkAclAssociation",
                ],
            ),
            "4.12" => name_in(
                e,
                &[
                    "CreateCustomerGateway",
                    "DeleteCustomerGateway",
                    "AttachInternetGateway",
                    "CreateInternetGateway",
                    "DeleteInternetGateway",
                    "DetachInternetGateway",
                ],
            ),
            "4.13" => name_in(
                e,
                &[
                    "CreateRoute",
                    "CreateRouteTable",
                    "ReplaceRoute",
                    "ReplaceRouteTableAssociation",
                    "DeleteRouteTable",
                    "DeleteRoute",
                    "DisassociateRouteTable",
                ],
            ),
            "4.14" => name_in(
                e,
                &[
                    "CreateVpc",
                    "DeleteVpc",
                    "ModifyVpcAttribute",
                    "AcceptVpcPeeringConnection",
                    "CreateVpcPeeringConnection",
                    "DeleteVpcPeeringConnection",
                    "RejectVpcPeeringConnection",
                    "AttachClassicLinkVpc",
                    "DetachClassicLinkVpc",
                    "DisableVpcClassicLink",
                    "EnableVpcClassicLink",
                ],
            ),
            "4.15" => {
                is(e, &["eventSource"], "organizations.amazonaws.com")
                    && name_in(
                        e,
                        &[
                            "AcceptHandshake",
                            "AttachPolicy",
                            "CreateAccount",
                            "CreateOrganizationalUnit",
                            "CreatePolicy",
                            "DeclineHandshake",
                            "DeleteOrganization",
                            "DeleteOrganizationalUnit",
                            "DeletePolicy",
                            "DetachPolicy",
                            "DisablePolicyType",
                            "EnablePolicyType",
                            "InviteAccountToOrganization",
                            "LeaveOrganization",
                            "MoveAccount",
                            "RemoveAccountFromOrganization",
                            "UpdatePolicy",
                            "UpdateOrganizationalUnit",
                        ],
                    )
            }
            other => panic!("no hand-written predicate for CIS {other}"),
        }
    }
}

/// Every file and directory under `dir` (recursively) with its length in bytes and its
/// modification time: compare two listings to show that something wrote nothing.
///
/// # Panics
/// When `dir` or an entry cannot be read.
pub fn file_listing(
    dir: &std::path::Path,
) -> std::collections::BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("readable directory") {
            let entry = entry.expect("readable entry");
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                todo.push(entry.path());
            }
            out.insert(
                entry.path(),
                (meta.len(), meta.modified().expect("modification time")),
            );
        }
    }
    out
}
