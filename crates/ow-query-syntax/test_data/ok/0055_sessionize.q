sessionize userId, deviceId maxspan 30m as session
