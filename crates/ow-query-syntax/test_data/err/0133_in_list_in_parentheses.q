# expect: Q202 1 (
filter eventName in ('ConsoleLogin', 'StopLogging')
