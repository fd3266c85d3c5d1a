# expect: Q338 1 "GetCallerIdentity"
filter eventName = "AssumeRole" or "GetCallerIdentity"
| stats count(*)
