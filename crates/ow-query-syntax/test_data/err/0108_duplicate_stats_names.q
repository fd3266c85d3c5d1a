# expect: Q334 6 c
# expect: Q334 2 eventSource
# source: a new user's typo (session 8); DataFusion rejected it as an internal planning error
stats count(*) as c, count(eventName) as c by eventSource, eventSource
