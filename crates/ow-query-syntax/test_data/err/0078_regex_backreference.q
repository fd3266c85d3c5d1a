# expect: Q312 1 /(?<a>x)\1/
parse @message /(?<a>x)\1/
