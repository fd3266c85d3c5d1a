# expect: Q203 1 is
filter errorCode is null
