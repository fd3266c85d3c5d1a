filter eventName = "RunInstances" | fields responseElements.instancesSet.items.0.instanceId, resources.0.ARN
