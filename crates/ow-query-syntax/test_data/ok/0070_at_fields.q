fields @ingestionTime, @logStream, @log, @entity.KeyAttributes.Type, @@timestamp, @aws.region
