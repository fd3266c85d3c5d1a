# expect: Q304 1 "1h"
fields datefloor(@timestamp, "1h")
