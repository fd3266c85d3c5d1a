# source: evanharmon/eph-headspace aws-cloudwatch-insight-query-examples.md
stats count(*) by eventSource
| sort eventSource asc
| limit 2000
