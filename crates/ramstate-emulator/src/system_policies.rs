//! The built-in system policies: Alibaba's names, descriptions and documents.

/// One system policy (always version `v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemPolicy {
    pub name: &'static str,
    pub description: &'static str,
    pub document: String,
    pub create_date: &'static str,
}

fn allow(actions: &[&str]) -> String {
    let list = actions
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{{\n    \"Version\": \"1\",\n    \"Statement\": [\n        {{\n            \"Action\": [{list}],\n            \"Resource\": \"*\",\n            \"Effect\": \"Allow\"\n        }}\n    ]\n}}"
    )
}

/// Every system policy the emulator knows, sorted by name.
pub fn all() -> Vec<SystemPolicy> {
    let p = |name, description, actions: &[&str]| SystemPolicy {
        name,
        description,
        document: allow(actions),
        create_date: "2015-04-28T16:00:00Z",
    };
    let mut list = vec![
        p(
            "AdministratorAccess",
            "Provides full access to Alibaba Cloud services and resources.",
            &["*"],
        ),
        p(
            "ReadOnlyAccess",
            "Provides read-only access to all Alibaba Cloud services and resources.",
            &[
                "*:Describe*",
                "*:List*",
                "*:Get*",
                "*:BatchGet*",
                "*:Query*",
                "*:BatchQuery*",
            ],
        ),
        p(
            "AliyunECSFullAccess",
            "Provides full access to Elastic Compute Service (ECS) via Management Console.",
            &["ecs:*", "vpc:DescribeVpcs", "vpc:DescribeVSwitches"],
        ),
        p(
            "AliyunECSReadOnlyAccess",
            "Provides read-only access to Elastic Compute Service (ECS) via Management Console.",
            &[
                "ecs:Describe*",
                "ecs:List*",
                "vpc:DescribeVpcs",
                "vpc:DescribeVSwitches",
            ],
        ),
        p(
            "AliyunOSSFullAccess",
            "Provides full access to Object Storage Service (OSS) via Management Console.",
            &["oss:*"],
        ),
        p(
            "AliyunOSSReadOnlyAccess",
            "Provides read-only access to Object Storage Service (OSS) via Management Console.",
            &["oss:Get*", "oss:List*"],
        ),
        p(
            "AliyunSTSAssumeRoleAccess",
            "Provides access to call the AssumeRole operation of Security Token Service (STS).",
            &["sts:AssumeRole"],
        ),
        p(
            "AliyunRAMFullAccess",
            "Provides full access to Resource Access Management (RAM).",
            &["ram:*"],
        ),
        p(
            "AliyunRAMReadOnlyAccess",
            "Provides read-only access to Resource Access Management (RAM).",
            &["ram:Get*", "ram:List*"],
        ),
        p(
            "AliyunVPCFullAccess",
            "Provides full access to Virtual Private Cloud (VPC) via Management Console.",
            &["vpc:*"],
        ),
        p(
            "AliyunVPCReadOnlyAccess",
            "Provides read-only access to Virtual Private Cloud (VPC) via Management Console.",
            &["vpc:Describe*", "vpc:List*"],
        ),
        p(
            "AliyunLogFullAccess",
            "Provides full access to Log Service via Management Console.",
            &["log:*"],
        ),
        p(
            "AliyunLogReadOnlyAccess",
            "Provides read-only access to Log Service via Management Console.",
            &["log:Get*", "log:List*"],
        ),
        p(
            "AliyunRDSFullAccess",
            "Provides full access to ApsaraDB RDS via Management Console.",
            &["rds:*", "dbs:*", "hdm:*"],
        ),
        p(
            "AliyunSLBFullAccess",
            "Provides full access to Server Load Balancer (SLB) via Management Console.",
            &["slb:*"],
        ),
        p(
            "AliyunKMSFullAccess",
            "Provides full access to Key Management Service (KMS) via Management Console.",
            &["kms:*"],
        ),
        p(
            "AliyunActionTrailFullAccess",
            "Provides full access to ActionTrail via Management Console.",
            &["actiontrail:*", "oss:ListBuckets", "log:ListProject"],
        ),
        p(
            "AliyunCloudMonitorFullAccess",
            "Provides full access to CloudMonitor via Management Console.",
            &["cms:*"],
        ),
        p(
            "AliyunCDNFullAccess",
            "Provides full access to Alibaba Cloud CDN via Management Console.",
            &["cdn:*"],
        ),
        p(
            "AliyunDNSFullAccess",
            "Provides full access to Alibaba Cloud DNS via Management Console.",
            &["alidns:*", "pvtz:*"],
        ),
        p(
            "AliyunResourceManagerFullAccess",
            "Provides full access to Resource Manager.",
            &["resourcemanager:*"],
        ),
        p(
            "AliyunServiceRolePolicyForECS",
            "Default policy of the service-linked role of Elastic Compute Service.",
            &["ecs:*", "vpc:Describe*"],
        ),
    ];
    list.sort_by(|a, b| a.name.cmp(b.name));
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_policies_are_valid_json_with_unique_names() {
        let all = all();
        assert!(all.len() >= 15);
        let mut names: Vec<_> = all.iter().map(|p| p.name).collect();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for p in &all {
            let v: serde_json::Value = serde_json::from_str(&p.document).unwrap();
            assert!(v["Statement"].is_array(), "{}", p.name);
        }
        assert!(all.iter().any(|p| p.name == "AliyunSTSAssumeRoleAccess"));
    }
}
