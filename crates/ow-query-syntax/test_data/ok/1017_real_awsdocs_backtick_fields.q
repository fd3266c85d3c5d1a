# source: awsdocs CWL_QuerySyntax.md
fields `foo-bar`, action, abs(f3-f4)
