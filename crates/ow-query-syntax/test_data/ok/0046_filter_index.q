filterIndex @logStream in ["a", "b"] | filterIndex requestId = "abc-123" | fields @message
