# expect: Q321 1 sort @timestamp desc
# source: a Terraform CloudWatch dashboard widget (public repository); it runs on AWS
SOURCE '/aws/ecs/fargate/app' | fields @timestamp, @message
| filter @message like /POST/
| sort @timestamp desc
| stats count(*) by bin(1d) as post_requests_per_day
