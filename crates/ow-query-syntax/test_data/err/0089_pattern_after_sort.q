# expect: Q323 1 pattern @message
sort x | pattern @message
