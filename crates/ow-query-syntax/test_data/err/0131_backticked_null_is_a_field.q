# expect: Q336 2 null
filter `null` = 1 or errorCode != null
