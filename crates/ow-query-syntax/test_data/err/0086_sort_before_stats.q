# expect: Q321 1 sort x
sort x | stats count(*)
