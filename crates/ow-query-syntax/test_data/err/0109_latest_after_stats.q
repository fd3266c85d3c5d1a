# expect: Q335 1 latest(c)
# source: QA (session 9); the planner failed with an internal schema error
stats count(*) as c by eventSource | stats latest(c) as l
