parse @message logfmt | parse line csv as a, b, c | parse logfmt as level
