filter @message like /ERROR/ | pattern @message | anomaly
