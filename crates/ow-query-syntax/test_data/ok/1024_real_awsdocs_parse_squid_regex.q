# source: awsdocs CWL_QuerySyntax.md
parse @message /(?<time>[0-9]{10}\.[0-9]{1,3}) .* (?<code>[A-Z_]+\/[0-9]{3}) (?<url>[a-zA-Z.]+:[0-9]{1,5})/
