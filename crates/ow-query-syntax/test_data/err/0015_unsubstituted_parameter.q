# expect: Q106 1 {{value}}
filter x = {{value}}
