filter requestId not in (filter errorType = "Timeout" | fields requestId)
