# expect: Q203 1 startswith
filter eventName not startswith 'Describe'
