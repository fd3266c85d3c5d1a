# expect: Q203 1 =
filter errorCode not = 'AccessDenied'
