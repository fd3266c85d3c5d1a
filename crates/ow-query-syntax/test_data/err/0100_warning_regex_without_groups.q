# expect: Q313 1 /abc/
parse @message /abc/
