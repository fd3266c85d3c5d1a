# expect: Q203 1 unlike
filter eventName not unlike "Describe"
