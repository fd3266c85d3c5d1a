# expect: Q202 -1 
parse @message
