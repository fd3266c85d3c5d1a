# expect: Q202 1 by
filter @type = "REPORT"
| fields @requestId, @billedDuration
| sort by @billedDuration desc
