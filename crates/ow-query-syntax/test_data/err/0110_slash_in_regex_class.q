# expect: Q312 1 /^(?<agent>[^/
# source: new user (session 10): six errors and no hint that `/` must be written `\/`
parse userAgent /^(?<agent>[^/]+)\/(?<v>\S+)/ | stats count(*) by agent
