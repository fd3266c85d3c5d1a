# source: typex1/CloudWatch-Logs-Insights README
stats count(*) by @logStream
    | limit 100
