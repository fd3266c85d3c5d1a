# expect: Q101 1 "
filter x = "abc
