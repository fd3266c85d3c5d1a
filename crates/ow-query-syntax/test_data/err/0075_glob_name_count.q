# expect: Q311 1 "* *"
parse @message "* *" as a
