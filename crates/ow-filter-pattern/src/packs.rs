//! Ready-made metric-filter packs.
//!
//! [`cis`] is the CIS AWS Foundations Benchmark v1.4/1.5 §4 set of CloudTrail metric filters
//! and alarms (filter-patterns.md §9). Patterns are verbatim from the spec table; filter and
//! metric names follow `nozaq/terraform-aws-secure-baseline` `modules/alarm-baseline/main.tf`
//! (the deployment the spec cites), as do the alarm settings: `Sum >= 1` over one period of
//! 300 s, missing data not breaching, namespace `CISBenchmark` (that module's default
//! `alarm_namespace`) \[I for the companion settings, as the spec says\].

/// One CIS metric filter with its companion alarm settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CisMetricFilter {
    /// CIS v1.4 control id (`"4.1"` … `"4.15"`; `"4.2-sso"` for the SSO-aware variant).
    pub cis_id: &'static str,
    /// AWS Security Hub control checking the same condition (`"CloudWatch.2"`), if any.
    pub security_hub_control: Option<&'static str>,
    /// Metric filter name (also used as the alarm name).
    pub filter_name: &'static str,
    /// What the filter detects.
    pub purpose: &'static str,
    /// The filter pattern (a JSON pattern).
    pub pattern: &'static str,
    /// Metric name published by the filter.
    pub metric_name: &'static str,
    /// Metric namespace.
    pub metric_namespace: &'static str,
    /// `metricValue` of the transformation (a literal).
    pub metric_value: &'static str,
    /// Alarm statistic.
    pub alarm_statistic: &'static str,
    /// Alarm comparison operator (CloudWatch enum name).
    pub alarm_comparison_operator: &'static str,
    /// Alarm threshold (in units of the statistic: a count of matching events).
    pub alarm_threshold: f64,
    /// Alarm period in **seconds** (CloudWatch's `Period` unit).
    pub alarm_period_s: u32,
    /// Alarm `EvaluationPeriods`.
    pub alarm_evaluation_periods: u32,
    /// Alarm `TreatMissingData`.
    pub alarm_treat_missing_data: &'static str,
}

/// Namespace the CIS pack publishes to.
pub const CIS_NAMESPACE: &str = "CISBenchmark";

const fn cis_filter(
    cis_id: &'static str,
    security_hub_control: Option<&'static str>,
    name: &'static str,
    purpose: &'static str,
    pattern: &'static str,
) -> CisMetricFilter {
    CisMetricFilter {
        cis_id,
        security_hub_control,
        filter_name: name,
        purpose,
        pattern,
        metric_name: name,
        metric_namespace: CIS_NAMESPACE,
        metric_value: "1",
        alarm_statistic: "Sum",
        alarm_comparison_operator: "GreaterThanOrEqualToThreshold",
        alarm_threshold: 1.0,
        alarm_period_s: 300,
        alarm_evaluation_periods: 1,
        alarm_treat_missing_data: "notBreaching",
    }
}

static CIS: [CisMetricFilter; 16] = [
    cis_filter(
        "4.1",
        Some("CloudWatch.2"),
        "UnauthorizedAPICalls",
        "Unauthorized API calls",
        r#"{(($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && (($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket"))}"#,
    ),
    cis_filter(
        "4.2",
        Some("CloudWatch.3"),
        "NoMFAConsoleSignin",
        "Console sign-in without MFA",
        r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#,
    ),
    cis_filter(
        "4.2-sso",
        Some("CloudWatch.3"),
        "NoMFAConsoleSignin",
        "Console sign-in without MFA, excluding SSO users",
        r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#,
    ),
    cis_filter(
        "4.3",
        Some("CloudWatch.1"),
        "RootUsage",
        "Root account usage",
        r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
    ),
    cis_filter(
        "4.4",
        Some("CloudWatch.4"),
        "IAMChanges",
        "IAM policy changes",
        r#"{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}"#,
    ),
    cis_filter(
        "4.5",
        Some("CloudWatch.5"),
        "CloudTrailCfgChanges",
        "CloudTrail configuration changes",
        r#"{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }"#,
    ),
    cis_filter(
        "4.6",
        Some("CloudWatch.6"),
        "ConsoleSigninFailures",
        "Console authentication failures",
        r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#,
    ),
    cis_filter(
        "4.7",
        Some("CloudWatch.7"),
        "DisableOrDeleteCMK",
        "Disabling or scheduled deletion of customer-managed KMS keys",
        r#"{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }"#,
    ),
    cis_filter(
        "4.8",
        Some("CloudWatch.8"),
        "S3BucketPolicyChanges",
        "S3 bucket policy changes",
        r#"{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }"#,
    ),
    cis_filter(
        "4.9",
        Some("CloudWatch.9"),
        "AWSConfigChanges",
        "AWS Config changes",
        r#"{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }"#,
    ),
    cis_filter(
        "4.10",
        Some("CloudWatch.10"),
        "SecurityGroupChanges",
        "Security group changes",
        r#"{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup)}"#,
    ),
    cis_filter(
        "4.11",
        Some("CloudWatch.11"),
        "NACLChanges",
        "Network ACL changes",
        r#"{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }"#,
    ),
    cis_filter(
        "4.12",
        Some("CloudWatch.12"),
        "NetworkGWChanges",
        "Network gateway changes",
        r#"{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }"#,
    ),
    cis_filter(
        "4.13",
        Some("CloudWatch.13"),
        "RouteTableChanges",
        "Route table changes",
        r#"{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }"#,
    ),
    cis_filter(
        "4.14",
        Some("CloudWatch.14"),
        "VPCChanges",
        "VPC changes",
        r#"{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }"#,
    ),
    cis_filter(
        "4.15",
        None,
        "OrganizationsChanges",
        "AWS Organizations changes",
        r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName= "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName ="UpdateOrganizationalUnit")) }"#,
    ),
];

/// The CIS AWS Foundations CloudTrail metric filters (§9 table, 16 rows including the
/// SSO-aware 4.2 variant, which shares the name `NoMFAConsoleSignin` as in the terraform
/// module: an installer picks one of the two 4.2 rows).
pub fn cis() -> &'static [CisMetricFilter] {
    &CIS
}
