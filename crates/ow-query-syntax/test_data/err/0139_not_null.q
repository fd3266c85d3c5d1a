# expect: Q203 1 null
filter errorCode not null
