SOURCE logGroups(namePrefix: ['/aws/lambda/'], accountIdentifiers: ['123456789012'], class: ['STANDARD']) | filter @message like /ERROR/ | stats count(*) by @log
