# expect: Q326 1 @message
stats count(*) by host | filter @message like /x/
