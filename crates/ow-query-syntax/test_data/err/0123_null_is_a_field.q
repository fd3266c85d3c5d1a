# expect: Q336 1 null
filter errorCode != null
