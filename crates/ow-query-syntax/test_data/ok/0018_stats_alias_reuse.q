filter @type = "REPORT" | stats max(@memorySize / 1000 / 1000) as provisionedMB, max(@maxMemoryUsed / 1000 / 1000) as peakMB, provisionedMB - peakMB as headroomMB
