# expect: Q312 1 /(?=abc)/
filter x like /(?=abc)/
