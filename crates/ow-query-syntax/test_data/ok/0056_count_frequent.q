countFrequent eventName, eventSource | count_frequent eventName
